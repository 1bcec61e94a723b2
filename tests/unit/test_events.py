"""Domain events (app/events.py): the one handler table, run in the publisher's transaction."""

from __future__ import annotations

import pytest
from flask import Flask
from sqlalchemy import func, select

from app import events
from app.earnings.models import EarningEntry
from app.tracking import snapshots
from app.tracking.models import ViewSnapshot
from tests.factories import approved_post, build_world, pending_count


def test_wire_refuses_a_type_that_is_not_a_domain_event():
    with pytest.raises(ValueError, match="not a domain event"):
        events.wire(Flask("t"), {dict: [print]})


def test_publish_runs_the_handlers_of_that_type_in_table_order():
    app, seen = Flask("t"), []
    events.wire(app, {
        events.SubmissionRemoved: [lambda e: seen.append(("first", e)), lambda e: seen.append(("second", e))],
        events.SnapshotVerified: [lambda e: seen.append(("other", e))],
    })
    with app.app_context():
        events.publish(events.SubmissionRemoved(7))
        events.publish(events.ClipRecorded(3))  # no handler: nothing happens
    assert seen == [("first", events.SubmissionRemoved(7)), ("second", events.SubmissionRemoved(7))]


def test_the_app_table_makes_a_verified_count_into_money(app):
    table = app.extensions["contentflow_event_handlers"]
    assert [h.__module__ for h in table[events.SnapshotVerified]] == ["app.earnings.service"]
    assert [h.__module__ for h in table[events.SubmissionSubmitted]] == ["app.tracking.service"]
    assert [h.__module__ for h in table[events.SubmissionRemoved]] == ["app.earnings.service"]


def test_a_failing_handler_rolls_back_the_publishers_change(app, db, monkeypatch):
    world = build_world(cpm_cents=1_000)
    post = approved_post(world)
    snapshot_id = pending_count(post, 5_000)
    table = app.extensions["contentflow_event_handlers"]

    def broken(event):
        raise RuntimeError("handler failed")

    monkeypatch.setitem(table, events.SnapshotVerified, (*table[events.SnapshotVerified], broken))
    with pytest.raises(RuntimeError, match="handler failed"):
        snapshots.verify(snapshot_id, world.admin.id)
    db.session.rollback()
    assert db.session.get(ViewSnapshot, snapshot_id).status == "pending"  # not verified without its money
    assert db.session.scalar(select(func.count()).select_from(EarningEntry)) == 0
