"""Brand funding by card (Stripe Checkout against the fake Stripe server) and refunds of
unspent escrow when a campaign closes."""

from __future__ import annotations

import threading
from datetime import timedelta

from sqlalchemy import select

from app.campaigns import service as campaigns
from app.db import utcnow
from app.ledger import service as ledger
from app.payments import funding
from app.payments import refunds as payment_refunds
from app.payments.models import CampaignPayment, CampaignRefund
from tests.conftest import csrf_token_from
from tests.earnings.conftest import escrow
from tests.factories import PARTIAL, approved_post, build_world, make_user, verified_count

URL = "/webhooks/stripe"


def deliver(client, body: bytes, header: str):
    return client.post(URL, data=body, headers={"Stripe-Signature": header, "Content-Type": "application/json"})


def _draft(brand_id: int, budget: int = 50_000) -> int:
    now = utcnow()
    return campaigns.create_campaign(
        brand_id, title="Card drop", brief="Cut it.", platforms=["tiktok"], cpm_cents=200, budget_cents=budget,
        starts_at=now + timedelta(minutes=5), ends_at=now + timedelta(days=30), hold_days=2,
        approval_mode="automatic").id


def _pay_by_card(client, login_as, brand, campaign_id: int, fake_stripe) -> list[dict]:
    login_as(brand)
    token = csrf_token_from(client.get(f"/brand/campaigns/{campaign_id}").get_data(as_text=True))
    response = client.post(f"/brand/campaigns/{campaign_id}/fund-card", data={"csrf_token": token}, headers=PARTIAL)
    checkout_url = response.headers["HX-Redirect"]
    assert checkout_url.startswith(fake_stripe.url)
    session_id = checkout_url.rsplit("/", 1)[1]
    with fake_stripe.lock:
        return fake_stripe.complete_checkout_session(session_id)


def test_card_funding_posts_to_escrow_once_whichever_event_comes_first(
        db, client, login_as, fake_stripe, stripe_mode):
    brand = make_user("brand")
    campaign_id = _draft(brand.id)
    page = login_as(brand).get(f"/brand/campaigns/{campaign_id}").get_data(as_text=True)
    assert "Fund with card" in page
    completed, succeeded = _pay_by_card(client, login_as, brand, campaign_id, fake_stripe)

    assert deliver(client, *fake_stripe.webhook(succeeded)).json["outcome"] == "handled"  # out of order
    assert escrow(campaign_id) == 50_000
    assert deliver(client, *fake_stripe.webhook(completed)).json["outcome"] == "handled"
    assert deliver(client, *fake_stripe.webhook(completed)).json["outcome"] == "duplicate"
    db.session.expire_all()
    assert escrow(campaign_id) == 50_000
    assert db.session.scalar(select(CampaignPayment.status)) == "paid"
    assert ledger.balance(ledger.platform_account("stripe_clearing", "USD")) == -50_000
    assert "Fund with card" not in client.get(f"/brand/campaigns/{campaign_id}").get_data(as_text=True)
    campaigns.submit_campaign(campaign_id, brand.id)  # the budget is there: it may go to review


def test_ten_concurrent_deliveries_of_one_event_fund_once(app, db, client, login_as, fake_stripe,
                                                         stripe_mode):
    brand = make_user("brand")
    campaign_id = _draft(brand.id)
    completed, _ = _pay_by_card(client, login_as, brand, campaign_id, fake_stripe)
    body, header = fake_stripe.webhook(completed)
    barrier = threading.Barrier(10)
    outcomes: list[str] = []

    def send():
        own = app.test_client()
        barrier.wait(timeout=20)
        outcomes.append(deliver(own, body, header).json["outcome"])

    threads = [threading.Thread(target=send) for _ in range(10)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert sorted(outcomes) == ["duplicate"] * 9 + ["handled"]
    db.session.expire_all()
    assert escrow(campaign_id) == 50_000


def test_a_session_we_did_not_open_is_refused_and_changes_nothing(db, client, fake_stripe, stripe_mode):
    brand = make_user("brand")
    campaign_id = _draft(brand.id)
    from app.payments.stripe_gateway import get_gateway

    session = get_gateway().create_checkout_session(campaign_id, 50_000, "USD", "b@example.test",
                                                    "https://cf.test/ok", "https://cf.test/back", attempt=9)
    with fake_stripe.lock:
        completed, _ = fake_stripe.complete_checkout_session(session.id)
    assert deliver(client, *fake_stripe.webhook(completed)).status_code == 409
    assert escrow(campaign_id) == 0


def test_closing_a_campaign_refunds_the_unspent_escrow_after_the_hold(
        db, client, login_as, fake_stripe, stripe_mode):
    brand = make_user("brand")
    admin = make_user("admin")
    campaign_id = _draft(brand.id, budget=50_000)
    for event in _pay_by_card(client, login_as, brand, campaign_id, fake_stripe):
        deliver(client, *fake_stripe.webhook(event))
    funding.record_offline_funding(campaign_id, 5_000, "wire-extra", admin.id)  # more than the budget
    campaigns.submit_campaign(campaign_id, brand.id)
    campaigns.approve_campaign(campaign_id, admin.id)
    world = build_world(brand=brand, admin=admin)  # a clipper pool; its own campaign is unrelated
    from app.campaigns import applications

    applications.apply(campaign_id, world.clippers[0].id, "I cut fast, clean clips.")
    world.campaign_id = campaign_id
    verified_count(approved_post(world), 10_000)  # 2,000 cents earned
    campaigns.complete_campaign(campaign_id, brand.id)

    assert payment_refunds.refund_due_campaigns(utcnow() + timedelta(days=1)) == 0  # the hold is not over
    assert payment_refunds.refund_due_campaigns(utcnow() + timedelta(days=2, minutes=1)) == 1
    assert escrow(campaign_id) == 0
    refunds = {r.method: r for r in db.session.scalars(select(CampaignRefund))}
    assert refunds["stripe"].amount_cents == 50_000 and refunds["stripe"].status == "succeeded"
    assert refunds["offline"].amount_cents == 3_000 and refunds["offline"].status == "pending"
    assert [r["amount"] for r in fake_stripe.refunds.values()] == [50_000]
    assert payment_refunds.refund_due_campaigns(utcnow() + timedelta(days=3)) == 0  # twice is harmless
    assert len(fake_stripe.refunds) == 1

    payment_refunds.record_offline_refund(refunds["offline"].id, "RET-77", admin.id)
    refunds_account = ledger.get_account("campaign", campaign_id, "campaign_refunds", "USD")
    assert ledger.balance(refunds_account) == 0
    brand_client = login_as(brand)
    page = brand_client.get(f"/brand/campaigns/{campaign_id}").get_data(as_text=True)
    assert f'href="/brand/campaigns/{campaign_id}/refunds"' in page  # the fragment's place and no-JS link
    refunds_page = brand_client.get(f"/brand/campaigns/{campaign_id}/refunds").get_data(as_text=True)
    assert "by card refund" in refunds_page and "RET-77" in refunds_page
    fragment = brand_client.get(f"/brand/campaigns/{campaign_id}/refunds",
                                headers={"HX-Request": "true", "HX-Request-Type": "partial"}).get_data(as_text=True)
    assert "by card refund" in fragment and "<h1>" not in fragment
    other_brand = login_as(make_user("brand"))
    assert other_brand.get(f"/brand/campaigns/{campaign_id}/refunds").status_code == 404  # never another's
    assert ledger.check_integrity() == []
