"""POST /webhooks/stripe: verified on the raw body, each event once, out-of-order events converge."""

from __future__ import annotations

import threading
import time

from sqlalchemy import func, select

from app.payments.models import StripeWebhookEvent
from app.payouts.models import Payout, PayoutAccount, PayoutEvent
from app.payouts.run import run_payouts
from app.payouts.settlement import settle_stripe_payout
from tests.factories import stripe_clipper
from tests.fake_stripe import sign_payload
from tests.payouts.conftest import balances

URL = "/webhooks/stripe"


def deliver(client, body: bytes, header: str):
    return client.post(URL, data=body, headers={"Stripe-Signature": header, "Content-Type": "application/json"})


def _enabled(db, user_id: int) -> bool:
    db.session.expire_all()
    return db.session.scalar(select(PayoutAccount.stripe_payouts_enabled).where(PayoutAccount.user_id == user_id))


def _count(db, model, *where) -> int:
    return db.session.scalar(select(func.count()).select_from(model).where(*where))


def test_account_updated_stores_what_stripe_says_now(app, db, client, fake_stripe, stripe_mode):
    clipper = stripe_clipper(fake_stripe, 0)
    with fake_stripe.lock:
        event = fake_stripe.enable_payouts(clipper.stripe_account_id, enabled=False)

    response = deliver(client, *fake_stripe.webhook(event))

    assert response.status_code == 200 and response.json["outcome"] == "handled"
    assert _enabled(db, clipper.id) is False
    assert fake_stripe.calls("GET /v1/accounts/{id}"), "re-read from Stripe, not trusted from the payload"


def test_same_event_ten_times_concurrently_takes_effect_once(app, db, fake_stripe, stripe_mode):
    clipper = stripe_clipper(fake_stripe, 0)
    with fake_stripe.lock:
        event = fake_stripe.enable_payouts(clipper.stripe_account_id, enabled=False)
    body, header = fake_stripe.webhook(event)
    barrier = threading.Barrier(10)
    statuses: list[int] = []
    outcomes: list[str] = []

    def post():
        client = app.test_client()
        barrier.wait(timeout=10)
        response = deliver(client, body, header)
        statuses.append(response.status_code)
        outcomes.append(response.json["outcome"])

    threads = [threading.Thread(target=post) for _ in range(10)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)

    assert statuses == [200] * 10
    assert sorted(outcomes) == ["duplicate"] * 9 + ["handled"]
    assert _count(db, StripeWebhookEvent) == 1
    assert _count(db, PayoutEvent, PayoutEvent.action == "stripe_payouts_disabled") == 1
    assert _enabled(db, clipper.id) is False


def test_events_replayed_out_of_order_end_at_stripes_current_state(app, db, client, fake_stripe, stripe_mode):
    clipper = stripe_clipper(fake_stripe, 0)
    account = clipper.stripe_account_id
    with fake_stripe.lock:
        disabled = fake_stripe.enable_payouts(account, enabled=False)
        enabled_again = fake_stripe.enable_payouts(account, enabled=True)

    # Newest first, then the stale one: trusting payloads would end "disabled".
    assert deliver(client, *fake_stripe.webhook(enabled_again)).status_code == 200
    assert deliver(client, *fake_stripe.webhook(disabled)).status_code == 200

    assert _enabled(db, clipper.id) is True
    assert deliver(client, *fake_stripe.webhook(disabled)).json["outcome"] == "duplicate"


def test_refused_deliveries_get_400_and_change_nothing(app, db, client, fake_stripe, stripe_mode):
    clipper = stripe_clipper(fake_stripe, 0)
    with fake_stripe.lock:
        event = fake_stripe.enable_payouts(clipper.stripe_account_id, enabled=False)
    body, header = fake_stripe.webhook(event)
    stale = sign_payload(body, stripe_mode["STRIPE_WEBHOOK_SECRET"], int(time.time()) - 301)
    fresh_enough = sign_payload(body, stripe_mode["STRIPE_WEBHOOK_SECRET"], int(time.time()) - 290)

    refusals = {
        "tampered": deliver(client, body.replace(b'"payouts_enabled": false', b'"payouts_enabled": true'), header),
        "wrong secret": deliver(client, *fake_stripe.webhook(event, secret="whsec_not_ours")),
        "301 s old": deliver(client, body, stale),
        "no header": client.post(URL, data=body, headers={"Content-Type": "application/json"}),
    }

    assert {name: r.status_code for name, r in refusals.items()} == dict.fromkeys(refusals, 400)
    assert _count(db, StripeWebhookEvent) == 0
    assert _enabled(db, clipper.id) is True
    assert deliver(client, body, fresh_enough).status_code == 200, "the same event, properly signed, works"
    assert _enabled(db, clipper.id) is False


def test_reversed_transfer_returns_a_paid_payout_once(app, db, client, fake_stripe, stripe_mode):
    clipper = stripe_clipper(fake_stripe, 2_700)
    run_payouts()
    payout_id = db.session.scalar(select(Payout.id))
    settle_stripe_payout(payout_id)
    transfer_id = next(iter(fake_stripe.transfers))
    with fake_stripe.lock:
        event = fake_stripe.reverse_transfer(transfer_id)
    body, header = fake_stripe.webhook(event)

    assert deliver(client, body, header).json["outcome"] == "handled"
    assert deliver(client, body, header).json["outcome"] == "duplicate"

    db.session.expire_all()
    assert db.session.get(Payout, payout_id).status == "returned"
    assert balances(clipper.id) == {"available": 2_700, "in_flight": 0, "paid": 0}


def test_transfer_event_confirms_a_payout_whose_answer_was_lost(app, db, client, fake_stripe, stripe_mode):
    stripe_clipper(fake_stripe, 1_800)
    run_payouts()
    payout_id = db.session.scalar(select(Payout.id))
    fake_stripe.fail_next("POST /v1/transfers", "500_after_commit", times=3)
    assert settle_stripe_payout(payout_id) == "unknown"
    with fake_stripe.lock:
        event = fake_stripe.transfer_event(next(iter(fake_stripe.transfers)))

    assert deliver(client, *fake_stripe.webhook(event)).status_code == 200

    db.session.expire_all()
    assert db.session.get(Payout, payout_id).status == "paid"
    assert fake_stripe.count("transfers") == 1


def test_unknown_event_types_are_acknowledged_and_ignored(app, db, client, fake_stripe, stripe_mode):
    event = fake_stripe.make_event("customer.created", {"id": "cus_1", "object": "customer"})

    response = deliver(client, *fake_stripe.webhook(event))

    assert response.status_code == 200 and response.json["outcome"] == "ignored"
    assert db.session.get(StripeWebhookEvent, event["id"]).outcome == "ignored"


def test_stripe_down_while_handling_answers_503_and_the_next_delivery_applies(app, db, client, fake_stripe,
                                                                              stripe_mode):
    clipper = stripe_clipper(fake_stripe, 0)
    with fake_stripe.lock:
        event = fake_stripe.enable_payouts(clipper.stripe_account_id, enabled=False)
    body, header = fake_stripe.webhook(event)
    fake_stripe.fail_next("GET /v1/accounts/{id}", "500_before_commit", times=3)

    first = deliver(client, body, header)

    assert first.status_code == 503, "Stripe retries a delivery we could not handle"
    assert _count(db, StripeWebhookEvent) == 0 and _enabled(db, clipper.id) is True
    assert deliver(client, body, header).json["outcome"] == "handled"
    assert _enabled(db, clipper.id) is False
