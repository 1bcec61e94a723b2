"""Each gateway call through the real stripe SDK against the fake: what goes over the wire, what comes back."""

from __future__ import annotations

import pytest
import stripe
from flask import Flask

from app.errors import ValidationError
from app.payments import (
    DuplicateTransferError,
    PaymentsOfflineError,
    StripeConfigurationError,
    StripeDeclinedError,
    StripeGateway,
    StripeSettings,
    StripeUnavailableError,
    get_gateway,
)
from app.payments.stripe_errors import translate_error
from tests.fake_stripe import API_KEY

SUCCESS = "https://contentflow.test/campaigns/7/funded?session={CHECKOUT_SESSION_ID}"
CANCEL = "https://contentflow.test/campaigns/7/fund"


def _checkout(gateway, **overrides):
    args = {"campaign_id": 7, "amount_cents": 50_000, "currency": "usd", "brand_email": "brand@example.com",
            "success_url": SUCCESS, "cancel_url": CANCEL, "fee_cents": 2_500}
    return gateway.create_checkout_session(**{**args, **overrides})


def test_checkout_session_charges_budget_plus_fee_with_campaign_in_metadata(gateway, fake_stripe):
    session = _checkout(gateway)

    assert session.id.startswith("cs_test_") and session.url
    assert (session.amount_total_cents, session.currency, session.campaign_id) == (52_500, "usd", 7)
    assert (session.status, session.payment_status, session.is_paid) == ("open", "unpaid", False)
    sent = fake_stripe.calls("POST /v1/checkout/sessions")[0]
    assert sent.idempotency_key == "checkout-7-1"
    assert sent.params["metadata"] == {"campaign_id": "7"}
    assert sent.params["payment_intent_data"] == {"metadata": {"campaign_id": "7"}}
    assert sent.params["client_reference_id"] == "7"
    assert [item["price_data"]["unit_amount"] for item in sent.params["line_items"]] == ["50000", "2500"]


def test_checkout_without_fee_has_one_line_and_a_new_attempt_gets_a_new_session(gateway, fake_stripe):
    first = _checkout(gateway, fee_cents=0)
    again = _checkout(gateway, fee_cents=0)
    second_attempt = _checkout(gateway, fee_cents=0, attempt=2)

    assert first.amount_total_cents == 50_000
    assert again.id == first.id, "the same attempt is replayed by its idempotency key"
    assert second_attempt.id != first.id
    assert fake_stripe.count("checkout_sessions") == 2
    assert len(fake_stripe.calls("POST /v1/checkout/sessions")[0].params["line_items"]) == 1


def test_paid_session_and_its_payment_intent_read_back_with_the_campaign(gateway, fake_stripe):
    session = _checkout(gateway)
    with fake_stripe.lock:
        completed, succeeded = fake_stripe.complete_checkout_session(session.id)

    paid = gateway.retrieve_checkout_session(session.id)
    intent = gateway.retrieve_payment_intent(paid.payment_intent_id)

    assert paid.is_paid and paid.campaign_id == 7
    assert (intent.status, intent.succeeded, intent.amount_received_cents, intent.campaign_id) == (
        "succeeded", True, 52_500, 7)
    assert completed["type"] == "checkout.session.completed"
    assert succeeded["data"]["object"]["id"] == intent.id


def test_refund_of_unspent_escrow_is_once_per_key_and_never_more_than_was_paid(gateway, fake_stripe):
    session = _checkout(gateway)
    with fake_stripe.lock:
        _, succeeded = fake_stripe.complete_checkout_session(session.id)
    intent_id = succeeded["data"]["object"]["id"]

    refund = gateway.create_refund(intent_id, 30_000, "campaign-7-close", campaign_id=7)
    again = gateway.create_refund(intent_id, 30_000, "campaign-7-close", campaign_id=7)

    assert (refund.status, refund.amount_cents, refund.payment_intent_id) == ("succeeded", 30_000, intent_id)
    assert again.id == refund.id and fake_stripe.count("refunds") == 1
    with pytest.raises(StripeDeclinedError, match="greater than unrefunded amount"):
        gateway.create_refund(intent_id, 22_501, "campaign-7-close-2")
    assert fake_stripe.count("refunds") == 1


def test_express_account_onboarding_link_and_payouts_enabled(gateway, fake_stripe):
    account = gateway.create_express_account(user_id=9, email="clip@example.com", country="us")
    link = gateway.create_account_link(account.id, "https://contentflow.test/payouts/refresh",
                                       "https://contentflow.test/payouts/done")

    assert account.id.startswith("acct_") and account.user_id == 9
    assert not account.payouts_enabled and not account.can_receive_transfers and account.currently_due
    assert link.url.startswith(fake_stripe.url) and link.expires_at > 0
    sent = fake_stripe.calls("POST /v1/accounts")[0]
    assert sent.params["capabilities"] == {"transfers": {"requested": "true"}}
    assert sent.params["country"] == "US" and sent.idempotency_key == "express-account-user-9"

    with fake_stripe.lock:
        event = fake_stripe.enable_payouts(account.id)
    reread = gateway.retrieve_account(account.id)
    assert reread.payouts_enabled and reread.can_receive_transfers and reread.currently_due == ()
    assert event["type"] == "account.updated" and event["data"]["previous_attributes"]["payouts_enabled"] is False


def test_transfer_carries_payout_id_key_and_group_and_is_found_by_reconciliation(gateway, fake_stripe,
                                                                                  payable_account):
    transfer = gateway.create_transfer(42, 1_234, "usd", payable_account, "batch-3")
    other = gateway.create_transfer(43, 100, "usd", payable_account, "batch-3")

    assert (transfer.amount_cents, transfer.destination, transfer.payout_id, transfer.transfer_group) == (
        1_234, payable_account, 42, "batch-3")
    assert fake_stripe.calls("POST /v1/transfers")[0].idempotency_key == "payout-42"
    assert gateway.retrieve_transfer(transfer.id) == transfer
    assert gateway.find_transfer(42, "batch-3") == transfer
    assert gateway.find_transfer(44, "batch-3") is None
    assert [t.id for t in gateway.find_transfers("batch-3")] == [transfer.id, other.id]
    assert fake_stripe.balance["usd"] == 100_000 - 1_334


def test_find_transfers_reads_every_page(gateway, fake_stripe, payable_account, monkeypatch):
    monkeypatch.setattr("app.payments.stripe_gateway.TRANSFER_LIST_PAGE", 2)
    made = [gateway.create_transfer(payout_id, 10, "usd", payable_account, "batch-9").id for payout_id in range(1, 6)]

    assert [t.id for t in gateway.find_transfers("batch-9")] == made
    assert len(fake_stripe.calls("GET /v1/transfers")) == 3


def test_two_transfers_for_one_payout_are_reported_not_hidden(gateway, fake_stripe, payable_account):
    gateway.create_transfer(42, 10, "usd", payable_account, "batch-1")
    gateway.create_transfer(42, 10, "usd", payable_account, "batch-1", attempt=2)

    with pytest.raises(DuplicateTransferError, match="Payout 42 has 2 Stripe transfers"):
        gateway.find_transfer(42, "batch-1")


@pytest.mark.parametrize(("call", "field"), [
    (lambda g: g.create_transfer(42, 0, "usd", "acct_1", "g"), "amount_cents"),
    (lambda g: g.create_transfer(42, 12.5, "usd", "acct_1", "g"), "amount_cents"),
    (lambda g: g.create_transfer(42, True, "usd", "acct_1", "g"), "amount_cents"),
    (lambda g: g.create_transfer(42, -5, "usd", "acct_1", "g"), "amount_cents"),
    (lambda g: g.create_transfer(0, 5, "usd", "acct_1", "g"), "payout_id"),
    (lambda g: g.create_transfer(42, 5, "dollars", "acct_1", "g"), "currency"),
    (lambda g: g.create_transfer(42, 5, "usd", "acct_1/../../v1/refunds", "g"), "account"),
    (lambda g: g.create_transfer(42, 5, "usd", "acct_1", " "), "transfer_group"),
    (lambda g: _checkout(g, fee_cents=-1), "fee_cents"),
    (lambda g: _checkout(g, brand_email="not an email"), "email"),
    (lambda g: _checkout(g, success_url="javascript:alert(1)"), "success_url"),
    (lambda g: g.create_express_account(9, "c@example.com", "USA"), "country"),
    (lambda g: g.retrieve_payment_intent("cs_test_abc"), "payment_intent"),
    (lambda g: g.create_refund("pi_abc", 100, ""), "idempotency_key"),
])
def test_bad_input_is_refused_before_any_call(gateway, fake_stripe, call, field):
    with pytest.raises(ValidationError) as refused:
        call(gateway)

    assert refused.value.field == field and refused.value.status_code == 422
    assert fake_stripe.calls() == []


def test_unknown_object_is_a_definite_decline(gateway, fake_stripe):
    with pytest.raises(StripeDeclinedError) as declined:
        gateway.retrieve_transfer("tr_doesnotexist")

    assert declined.value.code == "resource_missing" and declined.value.http_status == 404
    assert "tr_doesnotexist" in declined.value.message


def test_wrong_api_key_is_a_configuration_error_that_never_shows_the_key(fake_stripe, capsys, caplog):
    wrong_key = "sk_test_wrongKey1234567890abcdefSECRET"
    gateway = StripeGateway(StripeSettings(api_key=wrong_key, api_base=fake_stripe.url))

    with pytest.raises(StripeConfigurationError) as refused:
        gateway.create_transfer(42, 10, "usd", "acct_1", "g")

    logged = capsys.readouterr().out + caplog.text
    assert "stripe_call_failed" in logged and "SECRET" not in logged

    assert refused.value.http_status == 401 and refused.value.status_code == 503
    assert wrong_key not in refused.value.message and "SECRET" not in refused.value.message
    assert wrong_key not in repr(gateway.settings)
    assert fake_stripe.count("transfers") == 0


def test_reconciliation_lookup_that_fails_is_unknown_too(gateway, fake_stripe):
    fake_stripe.fail_next("GET /v1/transfers", "500_before_commit", times=3)

    with pytest.raises(StripeUnavailableError):
        gateway.find_transfer(42, "payout-42")
    assert len(fake_stripe.calls("GET /v1/transfers")) == 3


def test_gateway_follows_the_flask_app_settings(fake_stripe):
    app = Flask(__name__)
    app.config.update(STRIPE_SECRET_KEY=API_KEY, STRIPE_API_BASE=fake_stripe.url)

    with app.app_context():
        account = get_gateway().create_express_account(3, "c@example.com", "US")

    assert fake_stripe.count("accounts") == 1 and account.id in fake_stripe.accounts


def test_a_key_echoed_in_any_stripe_message_is_masked():
    key = "sk_live_51Hreal0000000000000000000000000"
    echoed = stripe.InvalidRequestError(f"Key {key} cannot create transfers; nor can rk_test_abc123.",
                                        param=None, code="permission", http_status=400,
                                        json_body={"error": {"type": "invalid_request_error"}})

    declined = translate_error(echoed, "transfers.create", api_key=key)

    assert isinstance(declined, StripeDeclinedError)
    assert declined.message == "Key sk_*** cannot create transfers; nor can sk_***."


def test_gateway_from_config_is_offline_without_a_key_and_shared_per_process_with_one():
    with pytest.raises(PaymentsOfflineError) as offline:
        get_gateway({"STRIPE_SECRET_KEY": None, "STRIPE_API_BASE": "http://127.0.0.1:9"})
    assert offline.value.status_code == 409 and "an admin records funding" in offline.value.message

    config = {"STRIPE_SECRET_KEY": API_KEY, "STRIPE_API_BASE": "http://127.0.0.1:9"}
    gateway = get_gateway(config)
    assert get_gateway(dict(config)) is gateway
    assert gateway.settings.max_network_retries == 2
    assert (gateway.settings.connect_timeout, gateway.settings.read_timeout) == (5.0, 30.0)
    assert get_gateway({**config, "STRIPE_API_BASE": "http://127.0.0.1:10"}) is not gateway
