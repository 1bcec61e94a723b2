"""Stripe webhook deliveries we have acted on; brands' card payments and refunds of campaigns.

Webhook invariant: one row per Stripe event id (the primary key). The row is inserted
with ON CONFLICT DO NOTHING in the same database transaction as the event's
effects, so an event takes effect at most once however often (and however
concurrently) Stripe delivers it; if handling fails the row rolls back with the
effects and the next delivery tries again.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, CheckConstraint, ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from app.db import BigIntPK, IdMixin, UTCDateTime, utcnow
from app.extensions import db


class StripeWebhookEvent(db.Model):
    __tablename__ = "stripe_webhook_events"

    id: Mapped[str] = mapped_column(String(255), primary_key=True)  # Stripe's evt_...
    type: Mapped[str] = mapped_column(String(100), nullable=False)
    outcome: Mapped[str] = mapped_column(String(20), nullable=False)  # handled | ignored
    processed_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False, default=utcnow)


PAYMENT_STATUSES = ("open", "paid")
REFUND_METHODS = ("stripe", "offline")
REFUND_STATUSES = ("pending", "succeeded", "failed")
# The only status changes there are; ``payments.funding.mark_payment`` and
# ``payments.refunds.mark_refund`` refuse anything else.
PAYMENT_TRANSITIONS = frozenset({("open", "paid")})
REFUND_TRANSITIONS = frozenset({("pending", "succeeded"), ("pending", "failed")})


class CampaignPayment(IdMixin, db.Model):
    """A brand's card payment for a campaign (one Stripe Checkout Session).

    Invariants: one row per Checkout Session (unique), created before the brand is sent
    to Stripe; it becomes ``paid`` once, when the re-read session is paid with this
    campaign id and amount, in the same transaction as the escrow posting;
    ``refunded_cents`` never exceeds ``amount_cents`` (CHECK).
    """

    __tablename__ = "campaign_payments"
    __table_args__ = (
        CheckConstraint("status IN ('open', 'paid')", name="status_valid"),
        CheckConstraint("amount_cents > 0 AND refunded_cents >= 0 AND refunded_cents <= amount_cents",
                        name="amounts_valid"),
        Index("ix_campaign_payments_campaign", "campaign_id", "status"),
    )

    campaign_id: Mapped[int] = mapped_column(BigIntPK, ForeignKey("campaigns.id"), nullable=False)
    checkout_session_id: Mapped[str] = mapped_column(String(255), nullable=False, unique=True)
    payment_intent_id: Mapped[str | None] = mapped_column(String(255), nullable=True, unique=True)
    amount_cents: Mapped[int] = mapped_column(BigInteger, nullable=False)
    refunded_cents: Mapped[int] = mapped_column(BigInteger, nullable=False, default=0)
    currency: Mapped[str] = mapped_column(String(3), nullable=False)
    status: Mapped[str] = mapped_column(String(10), nullable=False, default="open")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False, default=utcnow)
    paid_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)


class CampaignRefund(IdMixin, db.Model):
    """Unspent escrow going back to the brand: by Stripe refund of a card payment, or offline.

    Invariants: written in the same transaction as the ``campaign_escrow -> campaign_refunds``
    posting (``pending``); ``succeeded`` when the money has left (Stripe refund created, or
    staff recorded the transfer with a reference), with the ``campaign_refunds -> clearing``
    posting in that same transaction.
    """

    __tablename__ = "campaign_refunds"
    __table_args__ = (
        CheckConstraint("method IN ('stripe', 'offline')", name="method_valid"),
        CheckConstraint("status IN ('pending', 'succeeded', 'failed')", name="status_valid"),
        CheckConstraint("amount_cents > 0", name="amount_positive"),
        Index("ix_campaign_refunds_campaign", "campaign_id", "status"),
    )

    campaign_id: Mapped[int] = mapped_column(BigIntPK, ForeignKey("campaigns.id"), nullable=False)
    payment_id: Mapped[int | None] = mapped_column(BigIntPK, ForeignKey("campaign_payments.id"), nullable=True)
    amount_cents: Mapped[int] = mapped_column(BigInteger, nullable=False)
    currency: Mapped[str] = mapped_column(String(3), nullable=False)
    method: Mapped[str] = mapped_column(String(10), nullable=False)
    status: Mapped[str] = mapped_column(String(10), nullable=False, default="pending")
    stripe_refund_id: Mapped[str | None] = mapped_column(String(255), nullable=True, unique=True)
    reference: Mapped[str | None] = mapped_column(String(100), nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False, default=utcnow)
    settled_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
