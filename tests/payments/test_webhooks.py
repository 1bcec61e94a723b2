"""Webhook verification on the raw body: only an untouched, fresh delivery signed with our secret gets through."""

from __future__ import annotations

import json
import time

import pytest
from flask import Flask
from hypothesis import given, settings
from hypothesis import strategies as st

from app.payments import CheckoutSession, ConnectedAccount, PaymentIntent, Transfer, WebhookSignatureError
from app.payments.webhooks import verify_webhook, webhook_secrets
from tests.fake_stripe import WEBHOOK_SECRET, FakeStripe, sign_payload

SECRETS = (WEBHOOK_SECRET,)


@pytest.fixture
def paid_events(fake_stripe, gateway):
    session = gateway.create_checkout_session(7, 50_000, "usd", "brand@example.com", "https://cf.test/ok",
                                              "https://cf.test/cancel")
    with fake_stripe.lock:
        return fake_stripe.complete_checkout_session(session.id)


def _event() -> dict:
    return FakeStripe().make_event("payment_intent.succeeded", {
        "id": "pi_123", "object": "payment_intent", "amount": 50_000, "amount_received": 50_000,
        "currency": "usd", "status": "succeeded", "metadata": {"campaign_id": "7"}})


def _refusal(body: bytes, header: str | None, secrets=SECRETS) -> str:
    with pytest.raises(WebhookSignatureError) as refused:
        verify_webhook(body, header, secrets)
    assert refused.value.status_code == 400
    return refused.value.message


def test_signed_delivery_gives_the_event_and_its_objects_read_back(fake_stripe, paid_events):
    completed, succeeded = paid_events
    body, header = fake_stripe.webhook(completed)

    event = verify_webhook(body, header, SECRETS)

    assert event == completed
    session = CheckoutSession.from_stripe(event["data"]["object"])
    assert session.is_paid and session.campaign_id == 7 and session.amount_total_cents == 50_000
    intent = PaymentIntent.from_stripe(verify_webhook(*fake_stripe.webhook(succeeded), SECRETS)["data"]["object"])
    assert intent.succeeded and intent.campaign_id == 7 and intent.id == session.payment_intent_id


def test_connect_and_transfer_events_read_back(fake_stripe, gateway, payable_account):
    with fake_stripe.lock:
        updated = fake_stripe.enable_payouts(payable_account, enabled=False)
    account = ConnectedAccount.from_stripe(verify_webhook(*fake_stripe.webhook(updated), SECRETS)["data"]["object"])
    assert account.id == payable_account and not account.payouts_enabled and account.user_id == 9

    with fake_stripe.lock:
        fake_stripe.enable_payouts(payable_account)
    transfer = gateway.create_transfer(42, 700, "usd", payable_account, "payout-42")
    with fake_stripe.lock:
        reversed_event = fake_stripe.reverse_transfer(transfer.id)
    reread = Transfer.from_stripe(verify_webhook(*fake_stripe.webhook(reversed_event), SECRETS)["data"]["object"])
    assert reread.reversed and reread.amount_reversed_cents == 700 and reread.payout_id == 42


def test_tampered_body_is_refused():
    event = _event()
    body, header = FakeStripe().webhook(event)
    tampered = body.replace(b"50000", b"99999")

    assert tampered != body
    assert _refusal(tampered, header) == "The webhook signature does not match."


@settings(max_examples=60, deadline=None)
@given(data=st.data())
def test_any_changed_byte_is_refused(data):
    body, header = FakeStripe().webhook(_event())
    index = data.draw(st.integers(0, len(body) - 1))
    replacement = data.draw(st.integers(0, 255).filter(lambda b: b != body[index]))
    changed = body[:index] + bytes([replacement]) + body[index + 1:]

    with pytest.raises(WebhookSignatureError):
        verify_webhook(changed, header, SECRETS)


def test_wrong_secret_is_refused():
    body, header = FakeStripe().webhook(_event(), secret="whsec_someoneElse")
    assert _refusal(body, header) == "The webhook signature does not match."


def test_timestamp_301_seconds_old_is_refused_and_299_is_accepted():
    body = json.dumps(_event()).encode()
    now = int(time.time())

    assert "more than 300 seconds old" in _refusal(body, sign_payload(body, WEBHOOK_SECRET, now - 301))
    assert verify_webhook(body, sign_payload(body, WEBHOOK_SECRET, now - 299), SECRETS)["id"].startswith("evt_")


def test_replayed_signature_with_a_fresh_timestamp_is_refused():
    body = json.dumps(_event()).encode()
    old = sign_payload(body, WEBHOOK_SECRET, int(time.time()) - 3600)
    signature = old.split(",")[1]

    assert _refusal(body, f"t={int(time.time())},{signature}") == "The webhook signature does not match."


@pytest.mark.parametrize("header", [None, "", "   "])
def test_missing_header_is_refused(header):
    assert _refusal(json.dumps(_event()).encode(), header) == "The Stripe-Signature header is missing."


@pytest.mark.parametrize("header", ["garbage", "t=notanumber,v1=abc", "v1=abc", "t=1700000000",
                                    "t=1700000000,v0=abc"])
def test_garbled_header_is_refused(header):
    assert _refusal(json.dumps(_event()).encode(), header) == (
        "The Stripe-Signature header is not in the t=...,v1=... form.")


@pytest.mark.parametrize(("body", "reason"), [
    (b"not json at all", "The webhook body is not JSON."),
    (b"[1, 2, 3]", "The webhook body is not a Stripe event."),
    (b'{"id": "evt_1", "object": "event", "type": "x"}', "The webhook body is not a Stripe event."),
    (b'{"id": "cs_1", "object": "checkout.session", "type": "x", "data": {"object": {}}}',
     "The webhook body is not a Stripe event."),
    (b"\xff\xfe not utf-8", "The webhook body is not UTF-8 text."),
])
def test_correctly_signed_body_that_is_not_an_event_is_refused(body, reason):
    header = f"t={int(time.time())},v1=" + sign_payload(body, WEBHOOK_SECRET).split("v1=")[1]
    assert _refusal(body, header) == reason


def test_rolling_the_secret_accepts_either_and_both_signatures():
    app = Flask(__name__)
    app.config["STRIPE_WEBHOOK_SECRET"] = " whsec_old , whsec_new ,"
    body = json.dumps(_event()).encode()
    now = int(time.time())
    old_sig = sign_payload(body, "whsec_old", now)
    new_sig = sign_payload(body, "whsec_new", now)

    with app.app_context():
        assert webhook_secrets() == ("whsec_old", "whsec_new")
        assert verify_webhook(body, old_sig)["type"] == "payment_intent.succeeded"
        assert verify_webhook(body, new_sig)["type"] == "payment_intent.succeeded"
        assert verify_webhook(body, old_sig + "," + new_sig.split(",")[1])["type"] == "payment_intent.succeeded"
        with pytest.raises(WebhookSignatureError, match="does not match"):
            verify_webhook(body, sign_payload(body, "whsec_retired", now))


def test_no_configured_secret_refuses_everything():
    app = Flask(__name__)
    body, header = FakeStripe().webhook(_event())
    with app.app_context():
        assert webhook_secrets() == ()
        with pytest.raises(WebhookSignatureError, match="No webhook signing secret"):
            verify_webhook(body, header)


def test_timestamps_in_the_future_pass_as_in_the_sdk():
    body = json.dumps(_event()).encode()
    assert verify_webhook(body, sign_payload(body, WEBHOOK_SECRET, int(time.time()) + 600), SECRETS)
