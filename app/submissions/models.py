"""A clipper's submitted post for a campaign.

Invariants (the database checks what it can):
- one row per (platform, post id) across the whole system (unique constraint): a
  post earns under one campaign and one clipper only;
- ``post_url`` is the canonical link we built from the parsed id, never the text
  the clipper pasted (we never fetch either);
- ``status`` is one of ``SUBMISSION_STATUSES`` and only
  ``submissions.service.transition`` changes it; ``status_reason`` is the last
  reviewer's reason the clipper sees;
- a clip file is recorded only after storage confirmed the object under
  ``submissions/<id>/clip``; ``clip_etag`` (the MD5 of a single-part upload) is
  the file hash the duplicate-clip signal compares.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, CheckConstraint, ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from app.db import IdMixin, TimestampMixin, UTCDateTime, one_of
from app.extensions import db
from app.social.platforms.registry import KEYS

SUBMISSION_STATUSES = ("submitted", "approved", "rejected", "revision_requested", "removed")
SUBMISSION_PLATFORMS = KEYS  # the platform registry, in its order (the CHECK text depends on it)



class Submission(IdMixin, TimestampMixin, db.Model):
    __tablename__ = "submissions"
    __table_args__ = (
        UniqueConstraint("platform", "post_id"),
        CheckConstraint(one_of("status", SUBMISSION_STATUSES), name="status_valid"),
        CheckConstraint(one_of("platform", SUBMISSION_PLATFORMS), name="platform_valid"),
        Index("ix_submissions_campaign_status", "campaign_id", "status"),
        Index("ix_submissions_clipper", "clipper_id", "id"),
        Index("ix_submissions_clip_etag", "clip_etag"),
    )

    campaign_id: Mapped[int] = mapped_column(BigInteger, ForeignKey("campaigns.id"), nullable=False)
    application_id: Mapped[int] = mapped_column(BigInteger, ForeignKey("campaign_applications.id"), nullable=False)
    clipper_id: Mapped[int] = mapped_column(BigInteger, ForeignKey("users.id"), nullable=False)
    platform: Mapped[str] = mapped_column(String(20), nullable=False)
    post_id: Mapped[str] = mapped_column(String(100), nullable=False)
    post_url: Mapped[str] = mapped_column(String(300), nullable=False)
    status: Mapped[str] = mapped_column(String(20), nullable=False, default="submitted")
    status_reason: Mapped[str | None] = mapped_column(Text, nullable=True)
    # When it last entered ``submitted``: the brand's auto-approval window runs from here.
    submitted_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False)
    reviewed_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    approved_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    clip_key: Mapped[str | None] = mapped_column(String(400), nullable=True, unique=True)
    clip_etag: Mapped[str | None] = mapped_column(String(100), nullable=True)
    clip_size_bytes: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    clip_filename: Mapped[str | None] = mapped_column(String(255), nullable=True)

    @property
    def clip_prefix(self) -> str:
        return f"submissions/{self.id}/clip"
