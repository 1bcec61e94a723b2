"""Accrual: verified views -> gross, fee, net in the ledger, with caps, rounding and pausing."""

from __future__ import annotations

from sqlalchemy import select

from app.campaigns.models import Campaign as CampaignRow
from app.ledger import service as ledger
from app.notifications.models import Notification
from tests.earnings.conftest import balances, earning_of, escrow, fees
from tests.factories import approved_post, build_world, verified_count


def test_1234_views_at_cpm_150_accrue_185_cents_gross_split_into_fee_and_net(db):
    campaign = build_world(cpm_cents=150)
    post = approved_post(campaign)
    verified_count(post, 1_234)
    earning = earning_of(post)
    assert (earning.gross_cents, earning.fee_cents, earning.pending_cents) == (185, 18, 167)
    assert balances(campaign.clippers[0].id)["pending"] == 167
    assert fees() == 18
    assert escrow(campaign.campaign_id) == 100_000 - 185
    assert ledger.check_integrity() == []


def test_many_small_steps_accrue_exactly_what_one_step_does(db):
    one = build_world(cpm_cents=150)
    many = build_world(cpm_cents=150)
    single, stepped = approved_post(one), approved_post(many)
    verified_count(single, 98_765)
    for views in range(1, 98_766, 997):
        verified_count(stepped, views)
    verified_count(stepped, 98_765)
    a, b = earning_of(single), earning_of(stepped)
    assert (a.gross_cents, a.fee_cents, a.pending_cents) == (b.gross_cents, b.fee_cents, b.pending_cents) == (
        14_814, 1_481, 13_333)
    assert balances(one.clippers[0].id)["pending"] == balances(many.clippers[0].id)["pending"] == 13_333


def test_earnable_views_start_at_the_baseline_and_count_only_past_the_minimum(db):
    campaign = build_world(cpm_cents=1_000, min_views_per_post=1_000)
    post = approved_post(campaign)
    earning_of(post)  # no row before the first verified count
    verified_count(post, 999)
    assert earning_of(post).gross_cents == 0
    from app.extensions import db as database
    earning = earning_of(post)
    earning.baseline_views = 100
    database.session.commit()
    verified_count(post, 1_050)  # 950 earnable: still below the minimum
    assert earning_of(post).gross_cents == 0
    verified_count(post, 1_100)  # 1,000 earnable
    assert earning_of(post).gross_cents == 1_000


def test_per_post_and_per_clipper_caps_hold(db):
    campaign = build_world(cpm_cents=1_000, max_payout_per_post_cents=3_000, max_earnings_per_clipper_cents=5_000)
    first, second = approved_post(campaign), approved_post(campaign)
    verified_count(first, 10_000)
    assert earning_of(first).gross_cents == 3_000
    verified_count(second, 10_000)
    assert earning_of(second).gross_cents == 2_000
    verified_count(first, 20_000)
    assert earning_of(first).gross_cents == 3_000
    assert escrow(campaign.campaign_id) == 100_000 - 5_000


def test_spending_the_last_of_the_escrow_pauses_the_campaign_and_tells_the_brand(db):
    campaign = build_world(cpm_cents=1_000, budget_cents=5_000, clippers=2)
    first, second = approved_post(campaign, 0), approved_post(campaign, 1)
    verified_count(first, 4_000)
    verified_count(second, 9_000)  # wants 9,000 cents; 1,000 left
    assert earning_of(second).gross_cents == 1_000
    assert escrow(campaign.campaign_id) == 0
    assert db.session.scalar(select(CampaignRow.status).where(CampaignRow.id == campaign.campaign_id)) == "paused"
    kinds = db.session.scalars(select(Notification.kind).where(Notification.user_id == campaign.brand.id)).all()
    assert "campaign_budget_exhausted" in kinds
    assert ledger.check_integrity() == []


def test_a_post_earns_only_once_approved_then_catches_up(db):
    from app.submissions import service

    campaign = build_world(cpm_cents=1_000)
    clipper = campaign.clippers[0]
    submission = service.submit_post(campaign.campaign_id, clipper.id, "https://www.tiktok.com/@clipqueen/video/7309999999999999999")
    verified_count(submission.id, 2_000)
    assert earning_of(submission.id) is None
    service.review_submission(submission.id, campaign.brand.id, "approve")
    verified_count(submission.id, 2_500)
    assert earning_of(submission.id).gross_cents == 2_500
