"""Payout jobs: settle Stripe payouts, the weekly run, the sweeper, failure notices.

Invariants: each job takes ids (or nothing), calls service functions, and is safe
to run twice (a settled payout is skipped; a scheduled slot runs once through its
unique ``schedule_key``); ``settle_payouts`` raises ``PayoutOutcomeUnknownError``
after trying every payout it was given if any outcome is still unknown, so RQ's
Retry (RETRY_NETWORK) comes back, and the sweeper catches whatever a retry misses.
"""

from __future__ import annotations

from datetime import datetime

import structlog
from flask import current_app

from app.db import utcnow
from app.extensions import db

log = structlog.get_logger(__name__)

WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


class PayoutOutcomeUnknownError(Exception):
    """Stripe did not tell us how some transfers went; they stay in flight and are tried again."""


def settle_payouts(payout_ids: list[int]) -> dict[str, int]:
    from app.payouts.settlement import UNKNOWN, settle_stripe_payout

    outcomes: dict[str, int] = {}
    unknown = []
    for payout_id in payout_ids:
        try:
            outcome = settle_stripe_payout(payout_id)
        except Exception:
            db.session.rollback()
            log.exception("payout_settle_crashed", payout_id=payout_id)
            outcome = UNKNOWN
        outcomes[outcome] = outcomes.get(outcome, 0) + 1
        if outcome == UNKNOWN:
            unknown.append(payout_id)
    log.info("payouts_settled", **outcomes)
    if unknown:
        raise PayoutOutcomeUnknownError(f"outcome unknown for payouts {unknown}; they stay in flight")
    return outcomes


def scheduled_slot(now: datetime) -> str | None:
    """The schedule key (the date) if ``now`` is in the weekly payout hour, else None."""
    config = current_app.config
    if WEEKDAYS[now.weekday()] != config["PAYOUT_WEEKDAY"] or now.hour != config["PAYOUT_HOUR_UTC"]:
        return None
    return now.date().isoformat()


def run_scheduled_payouts(now: datetime | None = None) -> int | None:
    """Hourly tick: in the configured weekday/hour, run payouts once for that date."""
    from app.payouts.run import run_payouts

    slot = scheduled_slot(now or utcnow())
    if slot is None:
        return None
    run = run_payouts(trigger="schedule", schedule_key=slot)
    return None if run is None else run.payouts_created


def sweep_stuck_payouts() -> int:
    """Re-enqueue Stripe payouts left pending or in flight past the reconcile window."""
    from app.payouts.settlement import requeue_stuck_payouts

    return requeue_stuck_payouts()


def notify_payout_failed(payout_id: int) -> None:
    from app.payouts.service import send_failure_notice

    send_failure_notice(payout_id)
