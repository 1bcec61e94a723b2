"""The notification entry point and the audit trail: they join the caller's transaction
(a rollback drops them with the change they describe), refuse what they do not know,
and each user counts and reads only their own notifications."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from app.audit import service as audit
from app.audit.models import AuditEvent
from app.notifications import service as notifications


def test_notify_joins_the_callers_transaction(db, people):
    notifications.notify(people.brand.id, "campaign_approved", title="Rolled back")
    db.session.rollback()
    assert notifications.unread_count(people.brand.id) == 0
    notifications.notify(people.brand.id, "campaign_approved", title="Kept")
    db.session.commit()
    assert notifications.unread_count(people.brand.id) == 1
    assert notifications.unread_count(people.other_brand.id) == 0


def test_unknown_kinds_are_refused(db, people):
    with pytest.raises(ValueError, match="unknown notification kind"):
        notifications.notify(people.brand.id, "you_won_a_prize")


def test_texts_and_mark_all_read_are_per_user(db, people):
    notifications.notify(people.clipper.id, "application_rejected", title="<b>Bold</b> drop")
    notifications.notify(people.other_clipper.id, "application_approved", title="Other")
    db.session.commit()
    [item] = notifications.recent(people.clipper.id)
    assert item.text == "Your application to “<b>Bold</b> drop” was not accepted." and item.unread
    assert notifications.mark_all_read(people.clipper.id) == 1
    assert notifications.unread_count(people.clipper.id) == 0
    assert notifications.unread_count(people.other_clipper.id) == 1


def test_audit_events_commit_or_roll_back_with_the_change(db, people):
    audit.record(people.admin.id, "campaign.published", "campaign", 7, reason="  fine  ", note="x")
    db.session.rollback()
    assert db.session.scalar(select(func.count()).select_from(AuditEvent)) == 0
    audit.record(people.admin.id, "campaign.published", "campaign", 7, reason="  fine  ", note="x")
    db.session.commit()
    [event] = audit.events_for("campaign", 7)
    assert (event.actor_id, event.reason, event.data, event.created_at is not None) == (
        people.admin.id, "fine", {"note": "x"}, True)
    with pytest.raises(ValueError):
        audit.record(people.admin.id, "", "campaign", 7)
