"""Campaign, its raw assets, and clippers' applications.

Invariants (the database checks what it can):
- money is integer minor units: ``cpm_cents`` is cents per 1,000 views, budget and
  caps are cents in the campaign's ``currency``; all positive when set;
- ``platforms_mask`` is a bit set over ``PLATFORMS`` (at least one bit for a
  campaign that leaves draft; the service checks); bits keep platform filters a
  single indexed-free integer test on both PostgreSQL and SQLite;
- ``status`` is one of ``CAMPAIGN_STATUSES`` and only ``campaigns.service.transition``
  changes it; an application's status only ``applications.transition`` changes;
- a draft may be incomplete (NULL terms); a campaign that is or was submitted has
  every term (the submit guard checks with ``rules``);
- one application per clipper per campaign (unique constraint);
- an asset row exists only for an object confirmed in storage under
  ``campaigns/<campaign_id>/assets`` (``assets.record_asset``);
- a change request asks for a new CPM and/or budget on a live campaign; at most one
  is pending per campaign (partial unique index); only ``change_requests`` moves its
  status, and the campaign keeps its old terms until an admin approves.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, CheckConstraint, ForeignKey, Index, Integer, String, Text, UniqueConstraint, text
from sqlalchemy.orm import Mapped, mapped_column

from app.db import IdMixin, TimestampMixin, UTCDateTime, one_of
from app.extensions import db
from app.social.platforms.registry import BITS, LABELS, MASK_LIMIT

PLATFORMS: dict[str, int] = BITS  # key -> bit, from the platform registry (tiktok 1, youtube_shorts 2, ...)
PLATFORM_LABELS = LABELS
CAMPAIGN_STATUSES = ("draft", "pending_review", "published", "paused", "completed", "discarded")
APPROVAL_MODES = ("manual", "automatic")
APPLICATION_STATUSES = ("applied", "approved", "rejected", "removed", "withdrawn")
ASSET_KINDS = ("video", "image")
CHANGE_REQUEST_STATUSES = ("pending", "approved", "rejected", "withdrawn")



def platforms_from_mask(mask: int) -> list[str]:
    return [name for name, bit in PLATFORMS.items() if mask & bit]


class Campaign(IdMixin, TimestampMixin, db.Model):
    __tablename__ = "campaigns"
    __table_args__ = (
        CheckConstraint(one_of("status", CAMPAIGN_STATUSES), name="status_valid"),
        CheckConstraint(one_of("approval_mode", APPROVAL_MODES), name="approval_mode_valid"),
        CheckConstraint("cpm_cents IS NULL OR cpm_cents > 0", name="cpm_positive"),
        CheckConstraint("budget_cents IS NULL OR budget_cents > 0", name="budget_positive"),
        CheckConstraint(f"platforms_mask >= 0 AND platforms_mask < {MASK_LIMIT}", name="platforms_valid"),
        CheckConstraint("ends_at IS NULL OR starts_at IS NULL OR ends_at > starts_at", name="dates_ordered"),
        CheckConstraint("hold_days >= 0 AND auto_approve_hours >= 0 AND min_views_per_post >= 0",
                        name="windows_not_negative"),
        # The feed's two orders: newest first and highest CPM first (keyset on each).
        Index("ix_campaigns_feed_newest", "status", "published_at", "id"),
        Index("ix_campaigns_feed_cpm", "status", "cpm_cents", "id"),
    )

    brand_id: Mapped[int] = mapped_column(BigInteger, ForeignKey("users.id"), nullable=False, index=True)
    status: Mapped[str] = mapped_column(String(20), nullable=False, default="draft")
    title: Mapped[str] = mapped_column(String(120), nullable=False)
    brief: Mapped[str] = mapped_column(Text, nullable=False, default="")
    platforms_mask: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    requirements: Mapped[str] = mapped_column(Text, nullable=False, default="")
    destination_url: Mapped[str | None] = mapped_column(String(2000), nullable=True)
    currency: Mapped[str] = mapped_column(String(3), nullable=False, default="USD")
    cpm_cents: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    budget_cents: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    min_views_per_post: Mapped[int] = mapped_column(BigInteger, nullable=False, default=0)
    max_payout_per_post_cents: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    max_earnings_per_clipper_cents: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    max_participants: Mapped[int | None] = mapped_column(Integer, nullable=True)
    hold_days: Mapped[int] = mapped_column(Integer, nullable=False, default=3)
    auto_approve_hours: Mapped[int] = mapped_column(Integer, nullable=False, default=48)
    approval_mode: Mapped[str] = mapped_column(String(16), nullable=False, default="manual")
    starts_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    ends_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    published_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    review_note: Mapped[str | None] = mapped_column(Text, nullable=True)

    @property
    def platforms(self) -> list[str]:
        return platforms_from_mask(self.platforms_mask)

    @property
    def asset_prefix(self) -> str:
        return f"campaigns/{self.id}/assets"


class CampaignAsset(IdMixin, db.Model):
    __tablename__ = "campaign_assets"
    __table_args__ = (CheckConstraint(one_of("kind", ASSET_KINDS), name="kind_valid"),
                      CheckConstraint("size_bytes > 0", name="size_positive"))

    campaign_id: Mapped[int] = mapped_column(BigInteger, ForeignKey("campaigns.id"), nullable=False, index=True)
    key: Mapped[str] = mapped_column(String(400), nullable=False, unique=True)
    kind: Mapped[str] = mapped_column(String(16), nullable=False)
    original_filename: Mapped[str] = mapped_column(String(255), nullable=False)
    content_type: Mapped[str] = mapped_column(String(100), nullable=False)
    size_bytes: Mapped[int] = mapped_column(BigInteger, nullable=False)
    etag: Mapped[str] = mapped_column(String(100), nullable=False, default="")
    uploaded_by_id: Mapped[int] = mapped_column(BigInteger, ForeignKey("users.id"), nullable=False)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False)


class Application(IdMixin, TimestampMixin, db.Model):
    __tablename__ = "campaign_applications"
    __table_args__ = (
        UniqueConstraint("campaign_id", "clipper_id"),
        CheckConstraint(one_of("status", APPLICATION_STATUSES), name="status_valid"),
        Index("ix_campaign_applications_campaign_status", "campaign_id", "status"),
    )

    campaign_id: Mapped[int] = mapped_column(BigInteger, ForeignKey("campaigns.id"), nullable=False)
    clipper_id: Mapped[int] = mapped_column(BigInteger, ForeignKey("users.id"), nullable=False, index=True)
    status: Mapped[str] = mapped_column(String(20), nullable=False, default="applied")
    pitch: Mapped[str] = mapped_column(Text, nullable=False, default="")
    decision_reason: Mapped[str | None] = mapped_column(Text, nullable=True)
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)


class CampaignChangeRequest(IdMixin, TimestampMixin, db.Model):
    __tablename__ = "campaign_change_requests"
    __table_args__ = (
        CheckConstraint(one_of("status", CHANGE_REQUEST_STATUSES), name="status_valid"),
        CheckConstraint("cpm_cents IS NULL OR cpm_cents > 0", name="cpm_positive"),
        CheckConstraint("budget_cents IS NULL OR budget_cents > 0", name="budget_positive"),
        CheckConstraint("cpm_cents IS NOT NULL OR budget_cents IS NOT NULL", name="changes_something"),
        Index("uq_campaign_change_requests_one_pending", "campaign_id", unique=True,
              postgresql_where=text("status = 'pending'"), sqlite_where=text("status = 'pending'")),
    )

    campaign_id: Mapped[int] = mapped_column(BigInteger, ForeignKey("campaigns.id"), nullable=False, index=True)
    requested_by_id: Mapped[int] = mapped_column(BigInteger, ForeignKey("users.id"), nullable=False)
    cpm_cents: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    budget_cents: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    reason: Mapped[str] = mapped_column(Text, nullable=False, default="")
    status: Mapped[str] = mapped_column(String(20), nullable=False, default="pending")
    decided_by_id: Mapped[int | None] = mapped_column(BigInteger, ForeignKey("users.id"), nullable=True)
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    decision_reason: Mapped[str | None] = mapped_column(Text, nullable=True)
