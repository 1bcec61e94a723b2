"""A clipper's account on one platform (declared handle now, OAuth connection later).

Invariants:
- one row per (user, platform) (unique constraint); ``platform`` is one of
  ``social.platforms.registry.KEYS``; ``status`` is one of ``ACCOUNT_STATUSES``:
  ``manual`` (the clipper only declared the handle), ``connected`` (OAuth tokens
  held), ``expired`` (tokens rejected or past ``expires_at``; reconnect needed);
- ``handle`` is stored normalised: no leading ``@``, lower-case;
- tokens are only ever stored sealed (``app.security.seal``), never in clear;
- a platform account (``platform``, ``platform_user_id``) is connected to at most one
  clipper (partial unique index);
- ``refresh_slot`` is the last token-refresh slot a scheduler claimed for the row, so two
  schedulers never enqueue the same account twice in one slot.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, CheckConstraint, ForeignKey, Index, String, Text, UniqueConstraint, text
from sqlalchemy.orm import Mapped, mapped_column

from app.db import IdMixin, TimestampMixin, UTCDateTime, one_of
from app.extensions import db
from app.social.platforms.registry import KEYS

SOCIAL_PLATFORMS = KEYS  # the platform registry, in its order (the CHECK text depends on it)
ACCOUNT_STATUSES = ("manual", "connected", "expired")



class ConnectedAccount(IdMixin, TimestampMixin, db.Model):
    __tablename__ = "connected_accounts"
    __table_args__ = (
        UniqueConstraint("user_id", "platform"),
        CheckConstraint(one_of("platform", SOCIAL_PLATFORMS), name="platform_valid"),
        CheckConstraint(one_of("status", ACCOUNT_STATUSES), name="status_valid"),
        Index("uq_connected_accounts_platform_user", "platform", "platform_user_id", unique=True,
              postgresql_where=text("platform_user_id IS NOT NULL"),
              sqlite_where=text("platform_user_id IS NOT NULL")),
    )

    user_id: Mapped[int] = mapped_column(BigInteger, ForeignKey("users.id", ondelete="CASCADE"), nullable=False,
                                         index=True)
    platform: Mapped[str] = mapped_column(String(20), nullable=False)
    handle: Mapped[str] = mapped_column(String(100), nullable=False)
    platform_user_id: Mapped[str | None] = mapped_column(String(100), nullable=True)
    access_token_sealed: Mapped[str | None] = mapped_column(Text, nullable=True)
    refresh_token_sealed: Mapped[str | None] = mapped_column(Text, nullable=True)
    expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    status: Mapped[str] = mapped_column(String(12), nullable=False, default="manual")
    refresh_slot: Mapped[str | None] = mapped_column(String(40), nullable=True)
