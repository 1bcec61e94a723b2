"""Recording and reading audit events.

Invariants: ``record`` adds the event to the caller's database transaction and
never commits, so an audited change and its event commit (or roll back)
together; an event always has an action and a subject; a reason is kept as
given (trimmed), up to ``MAX_REASON_LENGTH`` characters.
"""

from __future__ import annotations

from sqlalchemy import select

from app.audit.models import AuditEvent
from app.extensions import db

MAX_REASON_LENGTH = 2000


def record(actor_id: int | None, action: str, subject_type: str, subject_id: int,
           reason: str | None = None, **data) -> AuditEvent:
    """Add an audit event to the current transaction (the caller commits)."""
    if not action or not subject_type or subject_id is None:
        raise ValueError("an audit event needs an action and a subject")
    reason = reason.strip()[:MAX_REASON_LENGTH] if isinstance(reason, str) and reason.strip() else None
    event = AuditEvent(actor_id=actor_id, action=action, subject_type=subject_type,
                       subject_id=subject_id, reason=reason, data=data)
    db.session.add(event)
    return event


def events_for(subject_type: str, subject_id: int) -> list[AuditEvent]:
    """The subject's events, oldest first."""
    return list(db.session.scalars(
        select(AuditEvent).where(AuditEvent.subject_type == subject_type, AuditEvent.subject_id == subject_id)
        .order_by(AuditEvent.id)
    ))
