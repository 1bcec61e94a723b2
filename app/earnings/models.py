"""What each submission has earned so far, and the trail of why.

Invariants (the database checks what it can):
- one ``SubmissionEarning`` per submission: ``gross_cents`` is what the post has
  earned from the campaign's escrow (after caps), ``fee_cents`` the platform's cut
  of it, and the clipper's net ``gross - fee`` is split into ``pending_cents``
  (still in ``clipper_pending``) and ``released_cents`` (moved on to available,
  possibly paid out, net of clawbacks): ``pending + released = gross - fee``;
- the row changes only in ``earnings.service``, under ``SELECT ... FOR UPDATE``
  taken after the campaign row, and every change bumps ``version`` (the idempotency
  keys of postings not caused by a snapshot come from it);
- every change writes one ``EarningEntry`` saying what moved where and why (the
  snapshot, the views, the cap that bit) next to the ledger transaction it posted;
  entries are only ever added.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, CheckConstraint, ForeignKey, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from app.db import BigIntPK, IdMixin, UTCDateTime, utcnow
from app.extensions import db

ENTRY_KINDS = ("accrual", "reversal", "removal", "release")


class SubmissionEarning(IdMixin, db.Model):
    __tablename__ = "submission_earnings"
    __table_args__ = (
        CheckConstraint("gross_cents >= 0 AND fee_cents >= 0 AND fee_cents <= gross_cents", name="gross_fee_valid"),
        CheckConstraint("pending_cents >= 0 AND released_cents >= 0", name="parts_not_negative"),
        CheckConstraint("pending_cents + released_cents = gross_cents - fee_cents", name="parts_add_up"),
        CheckConstraint("baseline_views >= 0", name="baseline_not_negative"),
        Index("ix_submission_earnings_campaign_clipper", "campaign_id", "clipper_id"),
        Index("ix_submission_earnings_clipper", "clipper_id", "id"),
    )

    submission_id: Mapped[int] = mapped_column(BigIntPK, ForeignKey("submissions.id"), nullable=False, unique=True)
    campaign_id: Mapped[int] = mapped_column(BigIntPK, ForeignKey("campaigns.id"), nullable=False)
    clipper_id: Mapped[int] = mapped_column(BigIntPK, ForeignKey("users.id"), nullable=False)
    currency: Mapped[str] = mapped_column(String(3), nullable=False)
    baseline_views: Mapped[int] = mapped_column(BigInteger, nullable=False, default=0)
    gross_cents: Mapped[int] = mapped_column(BigInteger, nullable=False, default=0)
    fee_cents: Mapped[int] = mapped_column(BigInteger, nullable=False, default=0)
    pending_cents: Mapped[int] = mapped_column(BigInteger, nullable=False, default=0)
    released_cents: Mapped[int] = mapped_column(BigInteger, nullable=False, default=0)
    version: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    last_snapshot_id: Mapped[int | None] = mapped_column(BigIntPK, ForeignKey("view_snapshots.id"), nullable=True)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False, default=utcnow)

    @property
    def net_cents(self) -> int:
        return self.gross_cents - self.fee_cents


class EarningEntry(IdMixin, db.Model):
    __tablename__ = "earning_entries"
    __table_args__ = (
        CheckConstraint("kind IN ('accrual', 'reversal', 'removal', 'release')", name="kind_valid"),
        Index("ix_earning_entries_earning", "earning_id", "created_at"),
    )

    earning_id: Mapped[int] = mapped_column(BigIntPK, ForeignKey("submission_earnings.id"), nullable=False)
    kind: Mapped[str] = mapped_column(String(10), nullable=False)
    snapshot_id: Mapped[int | None] = mapped_column(BigIntPK, ForeignKey("view_snapshots.id"), nullable=True)
    views: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    earnable_views: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    gross_delta_cents: Mapped[int] = mapped_column(BigInteger, nullable=False, default=0)
    fee_delta_cents: Mapped[int] = mapped_column(BigInteger, nullable=False, default=0)
    net_delta_cents: Mapped[int] = mapped_column(BigInteger, nullable=False, default=0)
    # Where the clipper's side went: pending, available, receivable (owed back).
    pending_delta_cents: Mapped[int] = mapped_column(BigInteger, nullable=False, default=0)
    available_delta_cents: Mapped[int] = mapped_column(BigInteger, nullable=False, default=0)
    receivable_delta_cents: Mapped[int] = mapped_column(BigInteger, nullable=False, default=0)
    gross_after_cents: Mapped[int] = mapped_column(BigInteger, nullable=False)
    note: Mapped[str] = mapped_column(String(300), nullable=False, default="")
    ledger_transaction_id: Mapped[int | None] = mapped_column(BigIntPK, ForeignKey("ledger_transactions.id"),
                                                              nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False, default=utcnow)
