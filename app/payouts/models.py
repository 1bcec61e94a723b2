"""Payouts: payout methods, payout runs, payouts, holds and their audit trail.

Invariants:
- a payout's money is an integer ``amount_cents`` + ``currency`` (upper-case, as in
  the ledger) fixed when the payout is created, from the clipper's locked available
  balance; the ledger, not this table, says where the money is;
- at most one *open* payout (``pending`` or ``in_flight``) per clipper, enforced by
  a unique partial index (``uq_payouts_one_open_per_user``), so concurrent runs
  cannot create two;
- ``status`` only changes in ``payouts.service`` (``_transition``: transition table,
  row lock, a ``PayoutEvent`` written in the same database transaction);
- a Stripe payout's idempotency key at Stripe is ``payout-<id>`` and its transfer
  group is ``payout-<id>``: both derive from the row id, never from a clock;
- manual payout details are stored sealed (``security.seal``); only a masked
  summary is stored in clear;
- a hold is open while ``released_at`` is NULL; a clipper with an open hold is not
  paid out;
- ``payout_events`` is append-only by convention (only ``payouts.service`` inserts).
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, Boolean, CheckConstraint, ForeignKey, Index, Integer, String, Text, text
from sqlalchemy.orm import Mapped, mapped_column

from app.db import BigIntPK, IdMixin, TimestampMixin, UTCDateTime, one_of, utcnow
from app.extensions import db
from app.payouts.rails import KEYS as RAIL_KEYS

PAYOUT_STATUSES = ("pending", "in_flight", "paid", "failed", "returned")
OPEN_STATUSES = ("pending", "in_flight")
PAYOUT_METHODS = RAIL_KEYS  # the payout rails (app/payouts/rails), in registry order: stripe, manual
MANUAL_KINDS = ("paypal", "bank")
RUN_TRIGGERS = ("schedule", "support")



OPEN_PAYOUT = text("status IN ('pending', 'in_flight')")
OPEN_HOLD = text("released_at IS NULL")


class PayoutAccount(IdMixin, TimestampMixin, db.Model):
    """How a clipper gets paid: a Stripe Express account and/or manual details."""

    __tablename__ = "payout_accounts"
    __table_args__ = (
        CheckConstraint(f"manual_kind IS NULL OR {one_of('manual_kind', MANUAL_KINDS)}", name="manual_kind_valid"),
        CheckConstraint("(manual_kind IS NULL) = (manual_details_sealed IS NULL)", name="manual_details_complete"),
    )

    user_id: Mapped[int] = mapped_column(BigIntPK, ForeignKey("users.id", ondelete="CASCADE"),
                                         nullable=False, unique=True)
    stripe_account_id: Mapped[str | None] = mapped_column(String(64), nullable=True, unique=True)
    stripe_payouts_enabled: Mapped[bool] = mapped_column(Boolean, nullable=False, default=False)
    stripe_checked_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    manual_kind: Mapped[str | None] = mapped_column(String(10), nullable=True)
    manual_details_sealed: Mapped[str | None] = mapped_column(Text, nullable=True)
    manual_summary: Mapped[str | None] = mapped_column(String(120), nullable=True)


class PayoutRun(IdMixin, db.Model):
    """One payout run; a scheduled run carries its ``schedule_key`` (the date) once."""

    __tablename__ = "payout_runs"
    __table_args__ = (CheckConstraint(one_of("trigger", RUN_TRIGGERS), name="trigger_valid"),)

    trigger: Mapped[str] = mapped_column(String(10), nullable=False)
    schedule_key: Mapped[str | None] = mapped_column(String(20), nullable=True, unique=True)
    started_by_id: Mapped[int | None] = mapped_column(BigIntPK, ForeignKey("users.id"), nullable=True)
    started_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False, default=utcnow)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    payouts_created: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    total_cents: Mapped[int] = mapped_column(BigInteger, nullable=False, default=0)


class Payout(IdMixin, TimestampMixin, db.Model):
    __tablename__ = "payouts"
    __table_args__ = (
        CheckConstraint(one_of("status", PAYOUT_STATUSES), name="status_valid"),
        CheckConstraint(one_of("method", PAYOUT_METHODS), name="method_valid"),
        CheckConstraint("amount_cents > 0", name="amount_positive"),
        CheckConstraint("method != 'stripe' OR stripe_account_id IS NOT NULL", name="stripe_has_destination"),
        CheckConstraint("status != 'paid' OR paid_at IS NOT NULL", name="paid_has_time"),
        Index("uq_payouts_one_open_per_user", "user_id", unique=True,
              postgresql_where=OPEN_PAYOUT, sqlite_where=OPEN_PAYOUT),
        Index("ix_payouts_status_method", "status", "method"),
    )

    user_id: Mapped[int] = mapped_column(BigIntPK, ForeignKey("users.id"), nullable=False, index=True)
    run_id: Mapped[int | None] = mapped_column(BigIntPK, ForeignKey("payout_runs.id"), nullable=True)
    amount_cents: Mapped[int] = mapped_column(BigInteger, nullable=False)
    currency: Mapped[str] = mapped_column(String(3), nullable=False)
    method: Mapped[str] = mapped_column(String(10), nullable=False)
    status: Mapped[str] = mapped_column(String(10), nullable=False, default="pending")
    stripe_account_id: Mapped[str | None] = mapped_column(String(64), nullable=True)
    transfer_id: Mapped[str | None] = mapped_column(String(64), nullable=True, unique=True)
    reference: Mapped[str | None] = mapped_column(String(120), nullable=True)
    failure_reason: Mapped[str | None] = mapped_column(String(500), nullable=True)
    in_flight_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    paid_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    failed_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)

    @property
    def transfer_group(self) -> str:
        return f"payout-{self.id}"

    def __repr__(self) -> str:
        return f"<Payout {self.id} user={self.user_id} {self.amount_cents} {self.currency} {self.status}>"


class PayoutHold(IdMixin, db.Model):
    """Support (or, later, a fraud signal) stops payouts to a clipper until released."""

    __tablename__ = "payout_holds"
    __table_args__ = (
        Index("ix_payout_holds_open", "user_id", postgresql_where=OPEN_HOLD, sqlite_where=OPEN_HOLD),
        CheckConstraint("(released_at IS NULL) = (released_by_id IS NULL)", name="release_complete"),
    )

    user_id: Mapped[int] = mapped_column(BigIntPK, ForeignKey("users.id"), nullable=False)
    reason: Mapped[str] = mapped_column(String(500), nullable=False)
    placed_by_id: Mapped[int | None] = mapped_column(BigIntPK, ForeignKey("users.id"), nullable=True)
    placed_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False, default=utcnow)
    released_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    released_by_id: Mapped[int | None] = mapped_column(BigIntPK, ForeignKey("users.id"), nullable=True)


class PayoutEvent(IdMixin, db.Model):
    """Audit trail of every payout status change, hold and method change (who, what, when)."""

    __tablename__ = "payout_events"

    action: Mapped[str] = mapped_column(String(40), nullable=False)
    payout_id: Mapped[int | None] = mapped_column(BigIntPK, ForeignKey("payouts.id"), nullable=True, index=True)
    subject_user_id: Mapped[int | None] = mapped_column(BigIntPK, ForeignKey("users.id"), nullable=True,
                                                        index=True)
    actor_id: Mapped[int | None] = mapped_column(BigIntPK, ForeignKey("users.id"), nullable=True)
    from_status: Mapped[str | None] = mapped_column(String(10), nullable=True)
    to_status: Mapped[str | None] = mapped_column(String(10), nullable=True)
    detail: Mapped[str] = mapped_column(String(500), nullable=False, default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False, default=utcnow)
