"""View snapshots, the per-submission tracking state, fraud signals and disputes.

Invariants (the database checks what it can):
- a ``ViewSnapshot`` is only ever added; its ``status`` moves once from
  ``pending`` to ``verified`` or ``rejected`` (``tracking.snapshots``); counts are
  non-negative; a platform check writes at most one snapshot per submission per
  schedule slot (unique ``(submission_id, slot)``), so a check run twice is harmless;
- ``TrackingState`` is one row per submission: the risk score (0..100, the sum of
  open signals' points, capped), why the post is on the manual queue, the last
  verified count, the schedule slot last claimed, and the admin claim (lease);
- ``FraudSignal`` rows are added with their numbers in ``details`` and closed
  by setting ``cleared_at`` (never deleted);
- at most one open ``Dispute`` per submission (checked under the tracking row lock).
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import (
    JSON,
    BigInteger,
    CheckConstraint,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from app.db import IdMixin, UTCDateTime, one_of, utcnow
from app.extensions import db

SNAPSHOT_SOURCES = ("manual", "platform_api", "clipper_evidence")
SNAPSHOT_STATUSES = ("pending", "verified", "rejected")
SIGNAL_KINDS = ("velocity", "engagement", "duplicate_clip", "count_dropped", "ownership_mismatch",
                "published_before_approval", "admin_flag", "disputed")
DISPUTE_STATUSES = ("open", "resolved")
DISPUTE_OUTCOMES = ("upheld", "adjusted", "removed")



class TrackingState(db.Model):
    __tablename__ = "tracking_states"
    __table_args__ = (
        CheckConstraint("risk_score >= 0 AND risk_score <= 100", name="risk_in_range"),
        Index("ix_tracking_states_queue", "risk_score", "submission_id"),
    )

    submission_id: Mapped[int] = mapped_column(BigInteger, ForeignKey("submissions.id", ondelete="CASCADE"),
                                               primary_key=True)
    risk_score: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    manual_reason: Mapped[str | None] = mapped_column(Text, nullable=True)
    last_verified_views: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    last_verified_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    last_slot: Mapped[str | None] = mapped_column(String(20), nullable=True)
    last_checked_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    published_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    claimed_by_id: Mapped[int | None] = mapped_column(BigInteger, ForeignKey("users.id", ondelete="SET NULL"),
                                                      nullable=True)
    claim_expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)


class ViewSnapshot(IdMixin, db.Model):
    __tablename__ = "view_snapshots"
    __table_args__ = (
        UniqueConstraint("submission_id", "slot"),
        CheckConstraint(one_of("source", SNAPSHOT_SOURCES), name="source_valid"),
        CheckConstraint(one_of("status", SNAPSHOT_STATUSES), name="status_valid"),
        CheckConstraint("views >= 0 AND (likes IS NULL OR likes >= 0) AND (comments IS NULL OR comments >= 0)",
                        name="counts_not_negative"),
        Index("ix_view_snapshots_submission", "submission_id", "recorded_at"),
        Index("ix_view_snapshots_status", "status", "recorded_at"),
    )

    submission_id: Mapped[int] = mapped_column(BigInteger, ForeignKey("submissions.id", ondelete="CASCADE"),
                                               nullable=False)
    views: Mapped[int] = mapped_column(BigInteger, nullable=False)
    likes: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    comments: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    source: Mapped[str] = mapped_column(String(20), nullable=False)
    recorded_by_id: Mapped[int | None] = mapped_column(BigInteger, ForeignKey("users.id"), nullable=True)
    evidence_key: Mapped[str | None] = mapped_column(String(400), nullable=True)
    recorded_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False, default=utcnow)
    slot: Mapped[str | None] = mapped_column(String(20), nullable=True)
    status: Mapped[str] = mapped_column(String(10), nullable=False, default="pending")
    decided_by_id: Mapped[int | None] = mapped_column(BigInteger, ForeignKey("users.id"), nullable=True)
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    decision_reason: Mapped[str | None] = mapped_column(Text, nullable=True)
    raised_signal: Mapped[bool] = mapped_column(default=False, nullable=False)


class FraudSignal(IdMixin, db.Model):
    __tablename__ = "fraud_signals"
    __table_args__ = (
        CheckConstraint(one_of("kind", SIGNAL_KINDS), name="kind_valid"),
        CheckConstraint("points >= 0 AND points <= 100", name="points_in_range"),
        Index("ix_fraud_signals_open", "submission_id", "cleared_at"),
    )

    submission_id: Mapped[int] = mapped_column(BigInteger, ForeignKey("submissions.id", ondelete="CASCADE"),
                                               nullable=False)
    snapshot_id: Mapped[int | None] = mapped_column(BigInteger, ForeignKey("view_snapshots.id"), nullable=True)
    kind: Mapped[str] = mapped_column(String(30), nullable=False)
    points: Mapped[int] = mapped_column(Integer, nullable=False)
    details: Mapped[dict] = mapped_column(JSON, nullable=False, default=dict)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False, default=utcnow)
    cleared_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    cleared_by_id: Mapped[int | None] = mapped_column(BigInteger, ForeignKey("users.id"), nullable=True)


class Dispute(IdMixin, db.Model):
    __tablename__ = "view_disputes"
    __table_args__ = (
        CheckConstraint(one_of("status", DISPUTE_STATUSES), name="status_valid"),
        CheckConstraint("outcome IS NULL OR " + one_of("outcome", DISPUTE_OUTCOMES), name="outcome_valid"),
        Index("ix_view_disputes_submission", "submission_id", "status"),
    )

    submission_id: Mapped[int] = mapped_column(BigInteger, ForeignKey("submissions.id", ondelete="CASCADE"),
                                               nullable=False)
    brand_id: Mapped[int] = mapped_column(BigInteger, ForeignKey("users.id"), nullable=False)
    reason: Mapped[str] = mapped_column(Text, nullable=False)
    status: Mapped[str] = mapped_column(String(10), nullable=False, default="open")
    outcome: Mapped[str | None] = mapped_column(String(10), nullable=True)
    resolution_note: Mapped[str | None] = mapped_column(Text, nullable=True)
    adjusted_views: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    resolved_by_id: Mapped[int | None] = mapped_column(BigInteger, ForeignKey("users.id"), nullable=True)
    resolved_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False, default=utcnow)
