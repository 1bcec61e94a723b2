"""Stripe payouts through the real SDK against the fake Stripe: one transfer per payout whatever fails.

The transfer job runs in real RQ worker processes where it matters (happy path, 100
concurrent runs); the fault matrix calls the same job function in-process so each
lost answer, drop and 429 is followed step by step.
"""

from __future__ import annotations

import threading

import pytest
from sqlalchemy import select

from app.ledger.service import check_integrity
from app.payouts.models import Payout
from app.payouts.run import run_payouts
from app.payouts.settlement import FAILED, PAID, SKIPPED, UNKNOWN, settle_stripe_payout, stuck_payout_ids
from tests.factories import stripe_clipper
from tests.outside import run_worker
from tests.payouts.conftest import balances

ROUTE = "POST /v1/transfers"


def _payout(db, user_id: int) -> Payout:
    db.session.expire_all()
    return db.session.scalar(select(Payout).where(Payout.user_id == user_id))


def test_run_then_worker_pays_once_with_our_key_and_group(app, db, fake_stripe, stripe_mode):
    clipper = stripe_clipper(fake_stripe, 4_200)

    run_payouts()
    run_worker("payouts", env=stripe_mode)

    payout = _payout(db, clipper.id)
    [transfer] = fake_stripe.transfers.values()
    assert (payout.status, payout.transfer_id) == ("paid", transfer["id"])
    assert transfer["amount"] == 4_200 and transfer["currency"] == "usd"
    assert transfer["destination"] == clipper.stripe_account_id
    assert transfer["transfer_group"] == f"payout-{payout.id}"
    assert [c.idempotency_key for c in fake_stripe.calls(ROUTE)] == [f"payout-{payout.id}"]
    assert balances(clipper.id) == {"available": 0, "in_flight": 0, "paid": 4_200}
    assert check_integrity() == []


def test_100_concurrent_runs_for_one_clipper_make_one_transfer(app, db, fake_stripe, stripe_mode):
    clipper = stripe_clipper(fake_stripe, 9_900)
    barrier = threading.Barrier(100)
    errors: list[BaseException] = []

    def one_run():
        with app.app_context():
            from app.extensions import db as database

            try:
                barrier.wait(timeout=30)
                run_payouts()
            except BaseException as error:  # noqa: BLE001 - asserted below
                errors.append(error)
            finally:
                database.session.remove()

    threads = [threading.Thread(target=one_run) for _ in range(100)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    run_worker("payouts", env=stripe_mode)

    assert errors == []
    assert fake_stripe.count("transfers") == 1
    assert _payout(db, clipper.id).status == "paid"
    assert balances(clipper.id) == {"available": 0, "in_flight": 0, "paid": 9_900}


@pytest.mark.parametrize("mode, times", [("500_after_commit", 3), ("drop_after_commit", 3), ("429", 1),
                                         ("500_before_commit", 3), ("timeout", 3)])
def test_unknown_outcomes_stay_in_flight_and_converge_to_one_transfer(app, db, fake_stripe, stripe_mode,
                                                                      monkeypatch, mode, times):
    from app.payments.stripe_gateway import StripeSettings

    if mode == "timeout":  # the production read timeout is 30 s; the fake answers "timeout" after 1.5 s
        monkeypatch.setattr(StripeSettings, "from_config", classmethod(
            lambda cls, config: cls(api_key=config["STRIPE_SECRET_KEY"], api_base=config["STRIPE_API_BASE"],
                                    read_timeout=0.5)))
    clipper = stripe_clipper(fake_stripe, 3_100)
    run_payouts()
    payout_id = _payout(db, clipper.id).id
    fake_stripe.fail_next(ROUTE, mode, times=times)

    assert settle_stripe_payout(payout_id) == UNKNOWN
    assert _payout(db, clipper.id).status == "in_flight"
    assert balances(clipper.id)["in_flight"] == 3_100
    assert stuck_payout_ids(older_than_minutes=0) == [payout_id]

    assert settle_stripe_payout(payout_id) == PAID  # what the RQ retry or the sweeper does
    assert settle_stripe_payout(payout_id) == SKIPPED

    assert fake_stripe.count("transfers") == 1
    assert {c.idempotency_key for c in fake_stripe.calls(ROUTE)} == {f"payout-{payout_id}"}
    payout = _payout(db, clipper.id)
    assert payout.status == "paid" and payout.transfer_id == next(iter(fake_stripe.transfers))
    assert balances(clipper.id) == {"available": 0, "in_flight": 0, "paid": 3_100}
    assert stuck_payout_ids(older_than_minutes=0) == []
    assert check_integrity() == []


@pytest.mark.parametrize("lost", ["answer", "job"])
def test_sweeper_in_a_worker_finishes_a_stuck_payout(app, db, fake_stripe, stripe_mode, monkeypatch, lost):
    """``answer``: the transfer was made but its answer lost (in flight); ``job``: the enqueue after
    commit was lost (still pending). Either way the sweeper gets it paid, once."""
    from app.payouts.jobs import sweep_stuck_payouts

    clipper = stripe_clipper(fake_stripe, 1_500)
    run_payouts()
    payout_id = _payout(db, clipper.id).id
    if lost == "answer":
        fake_stripe.fail_next(ROUTE, "drop_after_commit", times=3)
        assert settle_stripe_payout(payout_id) == UNKNOWN
        assert fake_stripe.count("transfers") == 1, "Stripe made it; we do not know"
    db.session.remove()
    from app.jobs import redis_connection

    redis_connection(app).flushdb()  # forget the run's job: the sweeper must find the payout by itself
    monkeypatch.setitem(app.config, "PAYOUT_RECONCILE_AFTER_MINUTES", 0)

    assert sweep_stuck_payouts() == 1
    run_worker("payouts", env=stripe_mode)

    assert _payout(db, clipper.id).status == "paid"
    assert fake_stripe.count("transfers") == 1
    if lost == "answer":
        assert len(fake_stripe.calls("GET /v1/transfers")) >= 1, "looked it up before anything else"


def test_declined_transfer_fails_the_payout_and_returns_the_money(app, db, fake_stripe, stripe_mode):
    clipper = stripe_clipper(fake_stripe, 2_000)
    run_payouts()
    with fake_stripe.lock:
        fake_stripe.enable_payouts(clipper.stripe_account_id, enabled=False)  # restricted after the run
    payout_id = _payout(db, clipper.id).id

    assert settle_stripe_payout(payout_id) == FAILED

    payout = _payout(db, clipper.id)
    assert payout.status == "failed" and "capabilities" in payout.failure_reason
    assert fake_stripe.count("transfers") == 0
    assert balances(clipper.id) == {"available": 2_000, "in_flight": 0, "paid": 0}
    assert check_integrity() == []


def test_stripe_clipper_without_payouts_enabled_is_not_paid_by_stripe(app, db, fake_stripe, stripe_mode):
    clipper = stripe_clipper(fake_stripe, 2_000)
    with fake_stripe.lock:
        fake_stripe.enable_payouts(clipper.stripe_account_id, enabled=False)
    from app.payouts.service import refresh_stripe_account

    refresh_stripe_account(clipper.id)

    assert run_payouts().payouts_created == 0
    assert balances(clipper.id)["available"] == 2_000


def test_stripe_mode_falls_back_to_manual_details_until_stripe_can_pay(app, db, fake_stripe, stripe_mode):
    from app.payouts.service import refresh_stripe_account, save_manual_method

    clipper = stripe_clipper(fake_stripe, 2_200)
    save_manual_method(clipper.id, "paypal", {"paypal_email": "fallback@paypal.test"})
    with fake_stripe.lock:
        fake_stripe.enable_payouts(clipper.stripe_account_id, enabled=False)
    refresh_stripe_account(clipper.id)

    run_payouts()

    payout = _payout(db, clipper.id)
    assert (payout.method, payout.status, payout.stripe_account_id) == ("manual", "pending", None)
    assert settle_stripe_payout(payout.id) == SKIPPED, "the transfer job leaves manual payouts alone"
    assert fake_stripe.count("transfers") == 0
