"""Notifications: the one entry point ``notify`` and what the bell and list read.

Invariants: ``notify`` adds the notification to the caller's transaction and does
not commit (the event and its notice commit together); it is the single door for
every channel — today in-app only, email and push hang off it later; a user only
ever reads or marks their own notifications; texts are built from ``data`` by
``TEXTS`` and autoescaped by Jinja, never trusted as HTML.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select, update

from app.db import utcnow
from app.extensions import db
from app.notifications.models import KINDS, Notification

PAGE_SIZE = 30

TEXTS = {
    "campaign_approved": "Your campaign “{title}” was approved and is live.",
    "campaign_changes_requested": "Changes requested on “{title}”: {reason}",
    "campaign_discarded": "Your campaign “{title}” was discarded: {reason}",
    "application_received": "New application from @{handle} for “{title}”.",
    "application_approved": "You are in: your application to “{title}” was approved.",
    "application_rejected": "Your application to “{title}” was not accepted.",
    "application_removed": "You were removed from “{title}”: {reason}",
    "submission_received": "New post from @{handle} for “{title}” to review.",
    "submission_approved": "Your post for “{title}” was approved.",
    "submission_rejected": "Your post for “{title}” was rejected: {reason}",
    "submission_revision_requested": "Changes requested on your post for “{title}”: {reason}",
    "submission_removed": "Your post for “{title}” was removed: {reason}",
    "dispute_opened": "The brand disputes the views of your post for “{title}”: {reason}",
    "dispute_resolved": "The view dispute on a post for “{title}” was resolved: {reason}",
    "social_account_expired": "Your {platform} connection expired. Reconnect it so your views are checked "
                              "automatically; until then they are checked by hand.",
    "campaign_change_approved": "Your change to “{title}” was approved: {terms}.",
    "campaign_change_rejected": "Your change to “{title}” was not approved: {reason}",
    "campaign_budget_exhausted": "The budget of “{title}” is spent, so the campaign is paused. Add funds to resume it.",
}


@dataclass(frozen=True)
class NotificationView:
    id: int
    text: str
    url: str | None
    created_at: datetime
    unread: bool


def notify(user, kind: str, **data) -> Notification:
    """Tell ``user`` (a User or a user id) about ``kind``; joins the caller's transaction."""
    if kind not in KINDS:
        raise ValueError(f"unknown notification kind {kind!r}")
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
    values = {"title": "", "reason": "", "handle": "", **(notification.data or {})}
    return TEXTS[notification.kind].format(**values)


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
