"""Stripe webhook dispatch: each event id takes effect once, through one handler per event type.

Invariants:
- ``handle_stripe_event`` gets an event that ``webhooks.verify_webhook`` already
  verified; it inserts the event id into ``stripe_webhook_events`` with
  ``ON CONFLICT DO NOTHING`` and runs the handler in the *same* database
  transaction, then commits once: a concurrent duplicate waits on the unique key
  and then finds it taken ("duplicate", nothing done); if the handler raises,
  both roll back and Stripe's next delivery tries again;
- handlers re-read the object from Stripe rather than trusting the payload, so
  events delivered out of order converge on Stripe's current state;
- ``EVENT_HANDLERS`` is the one dispatch table (event type -> dotted path of a
  function taking the event dict, running in the caller's transaction, never
  committing); unknown types are recorded as "ignored" so they are not re-read.
"""

from __future__ import annotations

from typing import Any

import structlog

from app.db import dialect_insert, utcnow
from app.extensions import db
from app.jobs import import_dotted
from app.payments.models import StripeWebhookEvent

log = structlog.get_logger(__name__)

EVENT_HANDLERS: dict[str, str] = {
    "account.updated": "app.payouts.settlement.apply_account_updated",
    "transfer.created": "app.payouts.settlement.apply_transfer_event",
    "transfer.updated": "app.payouts.settlement.apply_transfer_event",
    "transfer.reversed": "app.payouts.settlement.apply_transfer_event",
    # Brand funding: either event may come first; both re-read the session from Stripe.
    "checkout.session.completed": "app.payments.funding.apply_checkout_completed",
    "payment_intent.succeeded": "app.payments.funding.apply_payment_intent_succeeded",
}

HANDLED, IGNORED, DUPLICATE = "handled", "ignored", "duplicate"


def _insert():
    return dialect_insert(db.session, StripeWebhookEvent)


def handle_stripe_event(event: dict[str, Any]) -> str:
    """Apply a verified event once: "handled", "ignored" (no handler) or "duplicate" (seen before)."""
    handler_path = EVENT_HANDLERS.get(event["type"])
    outcome = HANDLED if handler_path else IGNORED
    inserted = db.session.scalar(
        _insert().values(id=event["id"], type=event["type"][:100], outcome=outcome, processed_at=utcnow())
        .on_conflict_do_nothing().returning(StripeWebhookEvent.id)
    )
    if inserted is None:
        db.session.rollback()
        log.info("stripe_event_duplicate", event_id=event["id"], type=event["type"])
        return DUPLICATE
    try:
        if handler_path:
            import_dotted(handler_path)(event)
        db.session.commit()
    except Exception:
        db.session.rollback()
        raise
    log.info("stripe_event", event_id=event["id"], type=event["type"], outcome=outcome)
    return outcome
