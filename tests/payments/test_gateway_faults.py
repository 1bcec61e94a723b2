"""Transfers under faults: lost answers, dropped connections, 429s, timeouts, races and declines.

What must hold: however Stripe (the fake) fails, one payout id makes at most one transfer,
and the gateway says either "here it is", "declined, nothing moved" or "unknown, reconcile".
"""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace

import pytest

from app.payments import StripeDeclinedError, StripeGateway, StripeUnavailableError

ROUTE = "POST /v1/transfers"


def _pay(gateway, account, payout_id=42, amount=1_000, group="payout-42", **kwargs):
    return gateway.create_transfer(payout_id, amount, "usd", account, group, **kwargs)


@pytest.mark.parametrize("mode", ["500_after_commit", "drop_after_commit", "timeout"])
def test_answer_lost_after_commit_sdk_retries_same_key_and_gets_the_one_transfer(gateway, fake_stripe,
                                                                                 payable_account, mode):
    fake_stripe.fail_next(ROUTE, mode)

    transfer = _pay(gateway, payable_account)

    calls = fake_stripe.calls(ROUTE)
    assert [c.idempotency_key for c in calls] == ["payout-42", "payout-42"]
    assert [c.replayed for c in calls] == [False, True]
    assert list(fake_stripe.transfers) == [transfer.id]
    assert fake_stripe.balance["usd"] == 100_000 - 1_000


@pytest.mark.parametrize("mode", ["500_after_commit", "drop_after_commit"])
def test_every_answer_lost_is_unknown_and_reconciliation_finds_exactly_one(gateway, fake_stripe, payable_account,
                                                                           mode):
    fake_stripe.fail_next(ROUTE, mode, times=3)

    with pytest.raises(StripeUnavailableError) as unknown:
        _pay(gateway, payable_account)

    assert len(fake_stripe.calls(ROUTE)) == 3, "max_network_retries=2: three attempts in all"
    assert unknown.value.status_code == 503 and not unknown.value.rate_limited
    found = gateway.find_transfer(42, "payout-42")
    assert found is not None and fake_stripe.count("transfers") == 1
    assert _pay(gateway, payable_account) == found, "a later retry replays, it does not pay again"
    assert fake_stripe.count("transfers") == 1


def test_failures_before_commit_leave_nothing_and_the_retry_pays_once(gateway, fake_stripe, payable_account):
    fake_stripe.fail_next(ROUTE, "500_before_commit", times=2)
    fake_stripe.fail_next(ROUTE, "drop_before_commit")

    with pytest.raises(StripeUnavailableError):
        _pay(gateway, payable_account)
    assert gateway.find_transfer(42, "payout-42") is None

    transfer = _pay(gateway, payable_account)
    assert list(fake_stripe.transfers) == [transfer.id]


def test_429_is_not_retried_by_the_sdk_and_surfaces_as_rate_limited(gateway, fake_stripe, payable_account):
    fake_stripe.fail_next(ROUTE, "429")

    with pytest.raises(StripeUnavailableError) as limited:
        _pay(gateway, payable_account)

    assert limited.value.rate_limited and limited.value.http_status == 429
    assert len(fake_stripe.calls(ROUTE)) == 1
    assert fake_stripe.count("transfers") == 0
    transfer = _pay(gateway, payable_account)
    assert list(fake_stripe.transfers) == [transfer.id]


def test_stripe_should_retry_header_decides_for_the_sdk(gateway, fake_stripe, payable_account):
    fake_stripe.fail_next(ROUTE, "429", should_retry=True)
    transfer = _pay(gateway, payable_account)
    assert len(fake_stripe.calls(ROUTE)) == 2 and fake_stripe.count("transfers") == 1

    fake_stripe.fail_next(ROUTE, "500_after_commit", should_retry=False)
    with pytest.raises(StripeUnavailableError):
        _pay(gateway, payable_account, payout_id=43, group="payout-43")
    assert len(fake_stripe.calls(ROUTE)) == 3, "Stripe-Should-Retry: false stops the SDK"
    assert gateway.find_transfer(43, "payout-43") is not None
    assert gateway.find_transfer(42, "payout-42") == transfer


def test_hundred_concurrent_calls_for_one_payout_make_one_transfer(stripe_settings, fake_stripe, payable_account):
    # Production read timeout: 100 connections at once on two cores must not trip the tests' short one.
    gateway = StripeGateway(replace(stripe_settings, read_timeout=30.0))
    fake_stripe.hold_until_collision = True  # hold the key "in progress" until another call collides with it
    start = threading.Barrier(100)

    def pay(_):
        start.wait()
        try:
            return _pay(gateway, payable_account)
        except StripeUnavailableError as error:
            return error

    with ThreadPoolExecutor(max_workers=100) as pool:
        outcomes = list(pool.map(pay, range(100)))

    transfers = [o for o in outcomes if not isinstance(o, Exception)]
    assert fake_stripe.count("transfers") == 1
    assert transfers and {t.id for t in transfers} == set(fake_stripe.transfers)
    assert all(isinstance(o, StripeUnavailableError) for o in outcomes if isinstance(o, Exception))
    assert any(c.status == 409 for c in fake_stripe.calls(ROUTE)), "the race really happened"
    assert fake_stripe.balance["usd"] == 100_000 - 1_000


def test_insufficient_balance_is_a_definite_decline_replayed_for_the_same_key(gateway, fake_stripe,
                                                                             payable_account):
    with fake_stripe.lock:
        fake_stripe.set_balance(500, "usd")

    with pytest.raises(StripeDeclinedError) as declined:
        _pay(gateway, payable_account)
    assert (declined.value.code, declined.value.http_status) == ("balance_insufficient", 400)
    assert "insufficient available funds" in declined.value.message
    assert fake_stripe.count("transfers") == 0 and fake_stripe.balance["usd"] == 500

    with fake_stripe.lock:
        fake_stripe.set_balance(100_000, "usd")
    with pytest.raises(StripeDeclinedError):
        _pay(gateway, payable_account)  # Stripe stored the decline under "payout-42"
    transfer = _pay(gateway, payable_account, attempt=2)
    assert fake_stripe.calls(ROUTE)[-1].idempotency_key == "payout-42-attempt-2"
    assert list(fake_stripe.transfers) == [transfer.id]


def test_destination_without_payouts_enabled_is_declined(gateway, fake_stripe):
    account = gateway.create_express_account(user_id=5, email="new@example.com", country="GB")
    with fake_stripe.lock:
        fake_stripe.set_balance(100_000, "usd")

    with pytest.raises(StripeDeclinedError) as declined:
        _pay(gateway, account.id)

    assert declined.value.code == "insufficient_capabilities_for_transfer"
    assert fake_stripe.count("transfers") == 0


def test_same_payout_id_with_other_amount_is_unknown_not_declined(gateway, fake_stripe, payable_account):
    first = _pay(gateway, payable_account, amount=1_000)

    with pytest.raises(StripeUnavailableError) as conflict:
        _pay(gateway, payable_account, amount=2_000)

    assert conflict.value.code == "idempotency_error" and "same parameters" in conflict.value.message
    assert list(fake_stripe.transfers) == [first.id]


def test_many_payouts_under_every_fault_converge_to_one_transfer_each(gateway, fake_stripe, payable_account):
    """What the payout job will do: create; on 'unknown' look the transfer up; retry only if none exists."""
    modes = ["500_after_commit", "drop_after_commit", "429", "500_before_commit", "drop_before_commit"]
    for payout_id, mode in enumerate(modes, start=1):
        fake_stripe.fail_next(ROUTE, mode, times=3)

        group = f"payout-{payout_id}"
        transfer = None
        for _attempt in range(5):
            try:
                transfer = _pay(gateway, payable_account, payout_id=payout_id, amount=100 * payout_id, group=group)
                break
            except StripeUnavailableError:
                transfer = gateway.find_transfer(payout_id, group)
                if transfer is not None:
                    break
        assert transfer is not None and transfer.payout_id == payout_id, mode

    paid = {t["metadata"]["payout_id"]: t["amount"] for t in fake_stripe.transfers.values()}
    assert paid == {str(i): 100 * i for i in range(1, 6)}
    assert fake_stripe.balance["usd"] == 100_000 - 1_500
