"""Notifications: the one entry point ``notify`` and what the bell and list read.

Invariants: ``notify`` adds the notification to the caller's transaction and does
not commit (the event and its notice commit together); it is the single door for
every channel — today in-app only, email and push hang off it later; a user only
ever reads or marks their own notifications; ``notify`` refuses a kind that is not
declared in ``kinds.REGISTRY``; texts are built from ``data`` by the kind's template
(``kinds.render``) and autoescaped by Jinja, never trusted as HTML.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select, update

from app.db import utcnow
from app.extensions import db
from app.notifications import kinds
from app.notifications.models import Notification

PAGE_SIZE = 30

@dataclass(frozen=True)
class NotificationView:
    id: int
    text: str
    url: str | None
    created_at: datetime
    unread: bool


def notify(user, kind: str, **data) -> Notification:
    """Tell ``user`` (a User or a user id) about ``kind``; joins the caller's transaction."""
    kinds.get(kind)  # raises UnknownKindError (a ValueError) for an undeclared kind
    user_id = user if isinstance(user, int) else user.id
    notification = Notification(user_id=user_id, kind=kind, data=data)
    db.session.add(notification)
    return notification


def unread_count(user_id: int) -> int:
    return db.session.scalar(
        select(func.count()).select_from(Notification)
        .where(Notification.user_id == user_id, Notification.read_at.is_(None))
    ) or 0


def _text(notification: Notification) -> str:
    return kinds.render(notification.kind, notification.data)


def recent(user_id: int) -> list[NotificationView]:
    rows = db.session.scalars(
        select(Notification).where(Notification.user_id == user_id)
        .order_by(Notification.id.desc()).limit(PAGE_SIZE)
    )
    return [NotificationView(n.id, _text(n), (n.data or {}).get("url"), n.created_at, n.read_at is None)
            for n in rows]


def mark_all_read(user_id: int) -> int:
    """Mark the user's unread notifications read; how many. Commits."""
    result = db.session.execute(
        update(Notification).where(Notification.user_id == user_id, Notification.read_at.is_(None))
        .values(read_at=utcnow())
    )
    db.session.commit()
    return result.rowcount
