"""Earnings harness: campaigns with chosen terms, approved posts and verified counts, all made
through the real services (campaign lifecycle, offline funding, submissions, tracking)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta
from types import SimpleNamespace

import pytest

from app.db import utcnow
from tests.factories import make_user

TT = "https://www.tiktok.com/@clipqueen/video/{}"
_post_numbers = iter(range(10**6))


@dataclass
class Campaign:
    id: int
    brand: SimpleNamespace
    admin: SimpleNamespace
    clippers: list[SimpleNamespace] = field(default_factory=list)


def _plain(user) -> SimpleNamespace:
    return SimpleNamespace(id=user.id, role=user.role, email=user.email, session_token=user.session_token)


def make_campaign(*, cpm_cents=250, budget_cents=100_000, fund_cents=None, min_views_per_post=0,
                  max_payout_per_post_cents=None, max_earnings_per_clipper_cents=None, hold_days=3,
                  clippers=1, brand=None, admin=None, clipper_users=()) -> Campaign:
    """A published campaign funded offline with ``fund_cents`` (default: the budget) and
    ``clippers`` approved clippers (call inside an app context)."""
    from app.campaigns import applications, service
    from app.payments import funding

    brand = brand or make_user("brand")
    admin = admin or make_user("admin")
    now = utcnow()
    terms = {k: v for k, v in {"max_payout_per_post_cents": max_payout_per_post_cents,
                               "max_earnings_per_clipper_cents": max_earnings_per_clipper_cents}.items() if v}
    campaign = service.create_campaign(
        brand.id, title="Earn drop", brief="Cut the best moments.", platforms=["tiktok"], cpm_cents=cpm_cents,
        budget_cents=budget_cents, min_views_per_post=min_views_per_post, starts_at=now + timedelta(minutes=5),
        ends_at=now + timedelta(days=30), hold_days=hold_days, approval_mode="automatic", **terms)
    funding.record_offline_funding(campaign.id, budget_cents, f"wire-{campaign.id}", admin.id)
    service.submit_campaign(campaign.id, brand.id)
    service.approve_campaign(campaign.id, admin.id)
    result = Campaign(campaign.id, _plain(brand), _plain(admin))
    for clipper in list(clipper_users) or [make_user("clipper") for _ in range(clippers)]:
        applications.apply(campaign.id, clipper.id, "I cut fast, clean clips.")
        result.clippers.append(_plain(clipper))
    if fund_cents is not None and fund_cents != budget_cents:
        raise ValueError("submitting needs the whole budget in escrow; spend it down instead")
    return result


def approved_post(campaign: Campaign, clipper_index: int = 0) -> int:
    from app.submissions import service

    clipper = campaign.clippers[clipper_index]
    submission = service.submit_post(campaign.id, clipper.id, TT.format(7301234567890000000 + next(_post_numbers)))
    service.review_submission(submission.id, campaign.brand.id, "approve")
    return submission.id


def verify(submission_id: int, views: int, now=None) -> int:
    """Record a platform count and verify it (as bulk verification does); the snapshot id. Commits."""
    from app.extensions import db
    from app.tracking import snapshots

    snapshot = snapshots.record(submission_id, views, source="platform_api", now=now)
    db.session.commit()
    snapshots.decide(snapshot.id, "verified", admin_id=None, claim=False, now=now)
    db.session.commit()
    return snapshot.id


def balances(user_id: int, currency: str = "USD") -> dict[str, int]:
    from app.ledger import service as ledger

    return {purpose.removeprefix("clipper_"): ledger.balance(ledger.get_account("user", user_id, purpose, currency))
            for purpose in ("clipper_pending", "clipper_available", "clipper_in_flight", "clipper_paid",
                            "clipper_receivable")}


def escrow(campaign_id: int) -> int:
    from app.campaigns import escrow

    return escrow.funded_cents(campaign_id)


def fees(currency: str = "USD") -> int:
    from app.ledger import service as ledger

    return ledger.balance(ledger.platform_account("platform_fees", currency))


def earning_of(submission_id: int):
    from sqlalchemy import select

    from app.earnings.models import SubmissionEarning
    from app.extensions import db

    db.session.expire_all()
    return db.session.scalar(select(SubmissionEarning).where(SubmissionEarning.submission_id == submission_id))


@pytest.fixture
def campaign_factory(db):
    return make_campaign


# The payouts harness's fake Stripe server and Stripe-mode switch, shared.
from tests.payouts.conftest import fake_stripe, payouts_stripe_server, stripe_mode  # noqa: E402, F401
