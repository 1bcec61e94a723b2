"""Stripe webhook deliveries we have acted on.

Invariant: one row per Stripe event id (the primary key). The row is inserted
with ON CONFLICT DO NOTHING in the same database transaction as the event's
effects, so an event takes effect at most once however often (and however
concurrently) Stripe delivers it; if handling fails the row rolls back with the
effects and the next delivery tries again.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import String
from sqlalchemy.orm import Mapped, mapped_column

from app.db import UTCDateTime, utcnow
from app.extensions import db


class StripeWebhookEvent(db.Model):
    __tablename__ = "stripe_webhook_events"

    id: Mapped[str] = mapped_column(String(255), primary_key=True)  # Stripe's evt_...
    type: Mapped[str] = mapped_column(String(100), nullable=False)
    outcome: Mapped[str] = mapped_column(String(20), nullable=False)  # handled | ignored
    processed_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False, default=utcnow)
