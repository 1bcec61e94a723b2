"""Stripe payouts: make the transfer, reconcile unknown outcomes, apply Stripe's webhooks.

Invariants:
- the transfer for payout 42 is created with idempotency key ``payout-42`` and
  transfer group ``payout-42`` (``stripe_gateway.create_transfer``), and never with
  another key: a retry by the SDK, by RQ, by the sweeper or by a second worker
  replays the one transfer instead of making another;
- a payout that is already ``in_flight`` when work on it starts (a retry, or a
  stuck one) is first looked up at Stripe (``find_transfer``) and only sent if
  definitely not there — still with the same key, so even a lookup racing a send
  cannot pay twice;
- outcomes: a transfer -> ``paid`` (its id stored); a definite decline ->
  ``failed`` (money back to available, the clipper told); an unknown outcome
  (timeout, 5xx, 429, dropped connection, Stripe down) -> stays ``in_flight`` and
  ``settle_stripe_payout`` says so; the sweeper retries it later;
- status changes go through ``service._transition`` under the payout row lock; the
  Stripe call is made with no database lock held;
- webhook handlers (``apply_*``) never trust the event payload: they re-read the
  object from Stripe (so events replayed out of order converge on Stripe's current
  state) and run in the webhook's database transaction without committing.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import structlog
from flask import current_app
from sqlalchemy import or_, select

from app.db import utcnow
from app.extensions import db
from app.payments.stripe_errors import (
    DuplicateTransferError,
    PaymentsOfflineError,
    StripeDeclinedError,
    StripeGatewayError,
)
from app.payments.stripe_gateway import get_gateway
from app.payments.stripe_objects import Transfer
from app.payouts.models import Payout
from app.payouts.rails.stripe import SETTLE_BATCH, enqueue_settlement
from app.payouts.service import _transition, lock_payout, store_stripe_account_state

log = structlog.get_logger(__name__)

PAID, FAILED, UNKNOWN, SKIPPED = "paid", "failed", "unknown", "skipped"


def _record_transfer(payout_id: int, transfer: Transfer) -> str:
    """Apply what Stripe says about this payout's transfer. Does not commit."""
    payout = lock_payout(payout_id)
    if transfer.reversed:
        if payout.status == "in_flight":
            _transition(payout, "failed", detail=f"Transfer {transfer.id} was reversed",
                        failure_reason="The transfer was reversed by Stripe.", transfer_id=transfer.id)
            return FAILED
        if payout.status == "paid":
            _transition(payout, "returned", detail=f"Transfer {transfer.id} was reversed")
            return FAILED
        return SKIPPED
    if payout.status == "pending":
        _transition(payout, "in_flight", detail=f"Transfer {transfer.id} seen at Stripe")
    if payout.status == "in_flight":
        _transition(payout, "paid", detail=f"Stripe transfer {transfer.id}", transfer_id=transfer.id)
        return PAID
    return SKIPPED


def settle_stripe_payout(payout_id: int) -> str:
    """Get one Stripe payout to a final state if Stripe lets us: paid, failed, unknown (still in flight) or
    skipped (already final, or not a Stripe payout). Safe to run twice and concurrently."""
    payout = lock_payout(payout_id)
    if payout.method != "stripe" or payout.status not in ("pending", "in_flight"):
        db.session.rollback()
        return SKIPPED
    resumed = payout.status == "in_flight"
    if not resumed:
        _transition(payout, "in_flight")
    amount, currency, destination = payout.amount_cents, payout.currency.lower(), payout.stripe_account_id
    group = payout.transfer_group
    db.session.commit()  # in flight before the call: a crash from here on is reconciled, never re-paid blindly

    try:
        gateway = get_gateway()
        transfer = gateway.find_transfer(payout_id, group) if resumed else None
        if transfer is None:
            transfer = gateway.create_transfer(payout_id, amount, currency, destination, group)
    except StripeDeclinedError as declined:
        payout = lock_payout(payout_id)
        if payout.status != "in_flight":
            db.session.rollback()
            return SKIPPED
        _transition(payout, "failed", detail=f"Stripe declined: {declined.message}",
                    failure_reason=declined.message[:500])
        db.session.commit()
        return FAILED
    except (DuplicateTransferError, PaymentsOfflineError, StripeGatewayError) as unknown:
        # Unknown outcome (or our settings are wrong): keep it in flight; the sweeper comes back.
        log.warning("payout_outcome_unknown", payout_id=payout_id, error=type(unknown).__name__,
                    message=unknown.message)
        return UNKNOWN
    outcome = _record_transfer(payout_id, transfer)
    db.session.commit()
    return outcome


def stuck_payout_ids(older_than_minutes: int | None = None, limit: int = 1000) -> list[int]:
    """Stripe payouts open for longer than the reconcile window (never enqueued, or outcome unknown)."""
    minutes = (current_app.config["PAYOUT_RECONCILE_AFTER_MINUTES"] if older_than_minutes is None
               else older_than_minutes)
    cutoff = utcnow() - timedelta(minutes=minutes)
    return list(db.session.scalars(
        select(Payout.id).where(
            Payout.method == "stripe",
            or_((Payout.status == "pending") & (Payout.created_at <= cutoff),
                (Payout.status == "in_flight") & (Payout.in_flight_at <= cutoff)))
        .order_by(Payout.id).limit(limit)
    ))


def requeue_stuck_payouts() -> int:
    """Hand every stuck Stripe payout to the transfer job again (which looks it up before sending)."""
    ids = stuck_payout_ids()
    for start in range(0, len(ids), SETTLE_BATCH):
        enqueue_settlement(ids[start:start + SETTLE_BATCH])
    db.session.commit()  # enqueue_after_commit sends them now
    if ids:
        log.info("stuck_payouts_requeued", count=len(ids))
    return len(ids)


# -- webhooks (called by payments.service inside its transaction; never commit) ------------

def apply_account_updated(event: dict[str, Any]) -> None:
    """``account.updated``: re-read the account and store whether it can receive transfers."""
    account_id = event["data"]["object"].get("id")
    if not isinstance(account_id, str):
        return
    store_stripe_account_state(get_gateway().retrieve_account(account_id))


def apply_transfer_event(event: dict[str, Any]) -> None:
    """``transfer.*``: re-read the transfer and apply its current state to its payout."""
    transfer_id = event["data"]["object"].get("id")
    if not isinstance(transfer_id, str):
        return
    transfer = get_gateway().retrieve_transfer(transfer_id)
    payout_id = transfer.payout_id
    if payout_id is None:
        payout_id = db.session.scalar(select(Payout.id).where(Payout.transfer_id == transfer.id))
    if payout_id is None or db.session.get(Payout, payout_id) is None:
        log.warning("transfer_without_payout", transfer_id=transfer.id)
        return
    _record_transfer(payout_id, transfer)
