"""Earnings harness: reading balances, escrow, fees and earnings. Campaigns with chosen terms,
approved posts and verified counts come from ``tests.factories`` (``build_world``, ``approved_post``,
``verified_count``)."""

from __future__ import annotations


def balances(user_id: int, currency: str = "USD") -> dict[str, int]:
    from app.ledger import service as ledger

    return {purpose.removeprefix("clipper_"): ledger.balance(ledger.get_account("user", user_id, purpose, currency))
            for purpose in ("clipper_pending", "clipper_available", "clipper_in_flight", "clipper_paid",
                            "clipper_receivable")}


def escrow(campaign_id: int) -> int:
    from app.campaigns import escrow as campaign_escrow

    return campaign_escrow.funded_cents(campaign_id)


def fees(currency: str = "USD") -> int:
    from app.ledger import service as ledger

    return ledger.balance(ledger.platform_account("platform_fees", currency))


def earning_of(submission_id: int):
    from sqlalchemy import select

    from app.earnings.models import SubmissionEarning
    from app.extensions import db

    db.session.expire_all()
    return db.session.scalar(select(SubmissionEarning).where(SubmissionEarning.submission_id == submission_id))


# The payouts harness's fake Stripe server and Stripe-mode switch, shared.
from tests.payouts.conftest import fake_stripe, payouts_stripe_server, stripe_mode  # noqa: E402, F401
