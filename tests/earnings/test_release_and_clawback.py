"""The hold window, and taking money back when a count is lowered or a post removed:
from pending, then available, then into the receivable that later earnings pay back."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from app.db import utcnow
from app.earnings import service as earnings
from app.ledger import service as ledger
from app.payouts.models import Payout
from tests.earnings.conftest import balances, earning_of, escrow, fees
from tests.factories import approved_post, build_world, verified_count

AFTER_HOLD = timedelta(days=3, minutes=1)


def _lower_by_dispute(campaign, post: int, views: int) -> None:
    from app.tracking import claims, disputes

    dispute = disputes.open_dispute(post, campaign.brand.id, "These views look bought.")
    claims.take_claim(post, campaign.admin.id)
    disputes.resolve(dispute.id, campaign.admin.id, "adjusted", "recounted", views=views)


def _pay_out(user_id: int, admin_id: int) -> None:
    from app.extensions import db
    from app.payouts import run, service

    service.save_manual_method(user_id, "paypal", {"paypal_email": f"pay-{user_id}@paypal.test"})
    run.run_payouts("support", admin_id)
    payout_id = db.session.scalar(select(Payout.id).where(Payout.user_id == user_id))
    service.mark_paid(payout_id, "PP-123", admin_id)


def test_pending_becomes_available_only_after_the_hold_window(db):
    campaign = build_world(cpm_cents=1_000, hold_days=3)
    clipper = campaign.clippers[0].id
    verified_count(approved_post(campaign), 10_000)
    assert earnings.release_due(utcnow() + timedelta(days=2)) == 0
    assert balances(clipper)["pending"] == 9_000
    assert earnings.release_due(utcnow() + AFTER_HOLD) == 1
    assert earnings.release_due(utcnow() + AFTER_HOLD) == 0  # twice is harmless
    assert balances(clipper)["pending"] == 0 and balances(clipper)["available"] == 9_000
    assert ledger.check_integrity() == []


def test_only_money_past_its_own_hold_is_released(db):
    campaign = build_world(cpm_cents=1_000, hold_days=3)
    clipper = campaign.clippers[0].id
    post = approved_post(campaign)
    verified_count(post, 1_000)  # 900 net
    earning = earning_of(post)
    from app.earnings.models import EarningEntry
    first = db.session.scalar(select(EarningEntry).where(EarningEntry.earning_id == earning.id))
    first.created_at = utcnow() - timedelta(days=4)  # as if verified four days ago
    db.session.commit()
    verified_count(post, 3_000)  # +1,800 net, fresh
    assert earnings.release_due() == 1
    assert balances(clipper)["available"] == 900 and balances(clipper)["pending"] == 1_800


def test_an_open_dispute_or_fraud_flag_holds_the_money(db):
    from app.tracking import disputes, fraud

    campaign = build_world(cpm_cents=1_000, clippers=2)
    disputed, flagged = approved_post(campaign, 0), approved_post(campaign, 1)
    verified_count(disputed, 1_000)
    verified_count(flagged, 1_000)
    disputes.open_dispute(disputed, campaign.brand.id, "Looks bought.")
    fraud.raise_signal(flagged, "admin_flag", {"reason": "odd"})
    db.session.commit()
    assert earnings.release_due(utcnow() + AFTER_HOLD) == 0
    assert balances(campaign.clippers[0].id)["available"] == balances(campaign.clippers[1].id)["available"] == 0


def test_a_lowered_count_takes_back_from_pending_first(db):
    campaign = build_world(cpm_cents=1_000)
    post = approved_post(campaign)
    verified_count(post, 5_000)
    _lower_by_dispute(campaign, post, 2_000)
    earning = earning_of(post)
    assert (earning.gross_cents, earning.fee_cents, earning.pending_cents) == (2_000, 200, 1_800)
    assert escrow(campaign.campaign_id) == 98_000 and fees() == 200
    assert balances(campaign.clippers[0].id)["pending"] == 1_800


def test_removing_a_post_takes_back_from_available(db):
    from app.tracking import claims
    from app.tracking import service as tracking

    campaign = build_world(cpm_cents=1_000)
    clipper = campaign.clippers[0].id
    post = approved_post(campaign)
    verified_count(post, 5_000)
    earnings.release_due(utcnow() + AFTER_HOLD)
    claims.take_claim(post, campaign.admin.id)
    tracking.remove_submission(post, campaign.admin.id, "bought views")
    assert balances(clipper) == {"pending": 0, "available": 0, "in_flight": 0, "paid": 0, "receivable": 0}
    assert escrow(campaign.campaign_id) == 100_000 and fees() == 0
    assert ledger.check_integrity() == []


def test_clawback_of_paid_money_becomes_a_receivable_paid_back_by_later_earnings(db):
    from app.tracking import claims
    from app.tracking import service as tracking
    from tests.factories import make_user

    campaign = build_world(cpm_cents=1_000)
    clipper = campaign.clippers[0].id
    support = make_user("support")
    post = approved_post(campaign)
    verified_count(post, 20_000)  # 18,000 net
    earnings.release_due(utcnow() + AFTER_HOLD)
    _pay_out(clipper, support.id)
    assert balances(clipper)["paid"] == 18_000
    claims.take_claim(post, campaign.admin.id)
    tracking.remove_submission(post, campaign.admin.id, "bought views")
    assert balances(clipper)["receivable"] == -18_000
    assert balances(clipper)["available"] == 0

    later = approved_post(campaign)
    verified_count(later, 30_000)  # 27,000 net: 18,000 pays back what is owed, 9,000 becomes available
    earnings.release_due(utcnow() + AFTER_HOLD)
    assert balances(clipper)["receivable"] == 0
    assert balances(clipper)["available"] == 9_000
    assert ledger.check_integrity() == []


def test_a_payout_run_skips_a_clipper_with_an_open_fraud_flag(db):
    from app.payouts import run, service
    from app.tracking import fraud

    campaign = build_world(cpm_cents=1_000, clippers=2)
    clean, flagged = campaign.clippers[0].id, campaign.clippers[1].id
    clean_post, flagged_post = approved_post(campaign, 0), approved_post(campaign, 1)
    verified_count(clean_post, 5_000)
    verified_count(flagged_post, 5_000)
    earnings.release_due(utcnow() + AFTER_HOLD)
    fraud.raise_signal(flagged_post, "admin_flag", {"reason": "odd"})
    db.session.commit()
    for user_id in (clean, flagged):
        service.save_manual_method(user_id, "paypal", {"paypal_email": f"pay-{user_id}@paypal.test"})
    assert run.run_payouts("support").payouts_created == 1
    assert balances(clean)["in_flight"] == 4_500
    assert balances(flagged)["available"] == 4_500 and balances(flagged)["in_flight"] == 0


def test_a_recent_clawback_never_lets_younger_money_out_early(db):
    from app.earnings.models import EarningEntry

    campaign = build_world(cpm_cents=1_000)
    clipper = campaign.clippers[0].id
    post = approved_post(campaign)
    verified_count(post, 1_000)  # 900 net
    earnings.release_due(utcnow() + AFTER_HOLD)
    for entry in db.session.scalars(select(EarningEntry)):
        entry.created_at -= timedelta(days=10)  # all of that happened long ago
    db.session.commit()
    _lower_by_dispute(campaign, post, 500)  # -450, taken from available now
    verified_count(post, 1_500)  # +900 net, fresh: must wait its own hold
    assert balances(clipper)["available"] == 450
    assert earnings.release_due() == 0
    assert balances(clipper)["pending"] == 900
    assert earnings.release_due(utcnow() + AFTER_HOLD) == 1
    assert balances(clipper)["available"] == 1_350
