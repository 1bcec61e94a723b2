"""In-app notifications.

Invariants: a notification belongs to exactly one user and is only shown to that
user; ``kind`` is one of ``kinds.KINDS`` (checked by ``service.notify`` in code; the
database has no CHECK on it since migration 0010, so a new kind needs no migration); ``read_at`` moves
from NULL to a time once and never back; ``data`` holds what the text needs
(titles, ids), so a notification reads the same after the subject changes.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, BigInteger, ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from app.db import IdMixin, UTCDateTime, utcnow
from app.extensions import db


class Notification(IdMixin, db.Model):
    __tablename__ = "notifications"
    __table_args__ = (
        Index("ix_notifications_user_unread", "user_id", "read_at", "id"),
    )

    user_id: Mapped[int] = mapped_column(BigInteger, ForeignKey("users.id", ondelete="CASCADE"), nullable=False)
    kind: Mapped[str] = mapped_column(String(40), nullable=False)
    data: Mapped[dict] = mapped_column(JSON, nullable=False, default=dict)
    read_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, nullable=False)
