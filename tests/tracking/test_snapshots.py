"""Counts: entered with a screenshot, verified inline, never going backwards silently;
fraud signals with their numbers; bulk verification only for clean platform counts."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from app.db import utcnow
from app.errors import ConflictError
from app.extensions import db
from app.tracking import fraud, service, snapshots
from app.tracking.models import FraudSignal, TrackingState, ViewSnapshot
from tests.factories import approved_post, pending_count
from tests.submissions.pages import post
from tests.tracking.conftest import upload_evidence


def state(app, sid):
    with app.app_context():
        row = db.session.get(TrackingState, sid)
        return row.last_verified_views, row.risk_score


def test_admin_enters_a_count_with_a_screenshot_and_verifies_it(app, world, login_as):
    sid = approved_post(world)
    admin = login_as(world.admin)
    missing = post(admin, f"/admin/queue/{sid}/count", {"views": "12,500"}, role="admin")
    assert missing.status_code == 422 and "Attach a screenshot" in missing.get_data(as_text=True)
    key = upload_evidence(admin, sid, "admin")
    row = post(admin, f"/admin/queue/{sid}/count", {"views": "12,500", "likes": "900", "evidence_key": key},
               role="admin").get_data(as_text=True)
    assert f'id="row-{sid}"' in row and "Pending: <strong>12,500</strong>" in row
    with app.app_context():
        snapshot = db.session.scalar(select(ViewSnapshot))
        assert (snapshot.views, snapshot.likes, snapshot.source, snapshot.evidence_key) == (12_500, 900, "manual", key)
    done = post(admin, f"/admin/snapshots/{snapshot.id}/verify", {"submission_id": sid}, role="admin")
    assert "Count verified." in done.get_data(as_text=True)
    assert state(app, sid) == (12_500, 0)


def test_a_lower_count_is_flagged_and_not_applied(app, world, login_as):
    sid = approved_post(world)
    first = pending_count(sid, 5_000, app=app)
    with app.app_context():
        snapshots.verify(first, world.admin.id)
    lower = pending_count(sid, 3_200, app=app)
    assert state(app, sid) == (5_000, fraud.POINTS["count_dropped"])
    with app.app_context():
        (signal,) = db.session.scalars(select(FraudSignal)).all()
        assert (signal.kind, signal.details) == ("count_dropped", {"views": 3_200, "last_verified_views": 5_000})
    refused = post(login_as(world.admin), f"/admin/snapshots/{lower}/verify", {"submission_id": sid}, role="admin")
    assert refused.status_code == 409
    assert "lower than the last verified one" in refused.get_data(as_text=True)
    assert state(app, sid)[0] == 5_000
    with app.app_context():
        assert db.session.get(ViewSnapshot, lower).status == "pending"
        snapshots.reject(lower, world.admin.id, "post was deleted and re-uploaded")
        assert snapshots.verify(pending_count(sid, 5_100, app=app), world.admin.id).views == 5_100


def test_rejecting_needs_a_reason(app, world):
    sid = approved_post(world)
    snapshot_id = pending_count(sid, 100, app=app)
    with app.app_context():
        from app.errors import ValidationError

        with pytest.raises(ValidationError):
            snapshots.reject(snapshot_id, world.admin.id, " ")
        assert db.session.get(ViewSnapshot, snapshot_id).status == "pending"
        snapshots.reject(snapshot_id, world.admin.id, "screenshot is of another post")
        with pytest.raises(ConflictError, match="already rejected"):
            snapshots.verify(snapshot_id, world.admin.id)


def test_verifying_publishes_snapshot_verified_once_and_earnings_handles_it(app, world, monkeypatch):
    from app.earnings import service as earnings

    calls = []
    monkeypatch.setattr(earnings, "accrue_for_snapshot", calls.append)
    sid = approved_post(world)
    snapshot_id = pending_count(sid, 100, app=app)
    with app.app_context():
        snapshots.verify(snapshot_id, world.admin.id)
        with pytest.raises(ConflictError):
            snapshots.verify(snapshot_id, world.admin.id)
    assert calls == [snapshot_id]


def _history(app, world, clipper_index, n, views, hours):
    """A post with a verified count ``views`` reached ``hours`` after submission."""
    sid = approved_post(world, clipper_index, n=n)
    with app.app_context():
        from app.submissions.models import Submission

        submission = db.session.get(Submission, sid)
        submission.submitted_at = utcnow() - timedelta(hours=hours)
        db.session.commit()
        snapshot_id = pending_count(sid, views, likes=views // 10, comments=views // 50, app=app)
        snapshots.verify(snapshot_id, world.admin.id)
    return sid


def test_velocity_and_engagement_signals_carry_their_numbers(app, world):
    for n in range(3):
        _history(app, world, 1, n + 10, 1_000, hours=10)  # 100 views/h, 12% engagement
    sid = approved_post(world, 0, n=1)
    pending_count(sid, 50_000, likes=20, comments=5, app=app)  # within the first hour: 50,000 views/h, 0.05%
    with app.app_context():
        signals = {s.kind: s for s in db.session.scalars(select(FraudSignal).where(FraudSignal.submission_id == sid))}
        assert set(signals) == {"velocity", "engagement"}
        assert signals["velocity"].details["views_per_hour"] == 50_000
        assert signals["velocity"].details["campaign_median"] == 100
        assert signals["engagement"].details["engagement_ratio"] == 0.0005
        assert signals["engagement"].details["campaign_median"] == 0.12
        assert db.session.get(TrackingState, sid).risk_score == 35 + 25
    normal = approved_post(world, 0, n=2)
    pending_count(normal, 90, likes=11, comments=2, app=app)
    assert state(app, normal)[1] == 0


def test_bulk_verify_takes_only_clean_platform_counts(app, world, login_as):
    clean = approved_post(world, 0, n=1)
    flagged = approved_post(world, 0, n=2)
    manual_post = approved_post(world, 1, n=3)
    clean_snap = pending_count(clean, 100, app=app)
    flagged_snap = pending_count(flagged, 100, app=app)
    admin = login_as(world.admin)
    post(admin, f"/admin/queue/{flagged}/flag", {"reason": "same comments on every post"}, role="admin")
    key = upload_evidence(admin, manual_post, "admin")
    post(admin, f"/admin/queue/{manual_post}/count", {"views": "100", "evidence_key": key}, role="admin")
    page = admin.get("/admin/queue").get_data(as_text=True)
    assert "Verify 1 platform count(s) with no signal" in page
    with app.app_context():
        manual_snap = db.session.scalar(select(ViewSnapshot.id).where(ViewSnapshot.submission_id == manual_post))
    response = post(admin, "/admin/queue/bulk-verify",
                    {"snapshot_id": [str(clean_snap), str(flagged_snap), str(manual_snap)]}, role="admin",
                    partial=False)
    assert response.status_code == 303
    with app.app_context():
        statuses = {i: db.session.get(ViewSnapshot, i).status for i in (clean_snap, flagged_snap, manual_snap)}
    assert statuses == {clean_snap: "verified", flagged_snap: "pending", manual_snap: "pending"}
    assert "Verified 1 platform count(s); 2 skipped" in admin.get("/admin/queue").get_data(as_text=True)


def test_queue_orders_by_risk_then_age_and_fraud_flag_hook(app, world, login_as):
    older = approved_post(world, 0, n=1)
    newer = approved_post(world, 1, n=2)
    risky = approved_post(world, 1, n=3)
    for sid in (older, newer, risky):
        pending_count(sid, 100, app=app)
    with app.app_context():
        service.flag_submission(risky, world.admin.id, "bot-like comments")
        assert service.has_open_fraud_flag(world.clippers[1].id)
        assert not service.has_open_fraud_flag(world.clippers[0].id)
    page = login_as(world.admin).get("/admin/queue").get_data(as_text=True)
    positions = [page.index(f'id="row-{sid}"') for sid in (risky, older, newer)]
    assert positions == sorted(positions)
    assert "admin flag" in page and 'data-key="v"' in page and "js/queue.js" in page
    with app.app_context():
        signal_id = db.session.scalar(select(FraudSignal.id))
        service.clear_signal(signal_id, world.admin.id)
        assert not service.has_open_fraud_flag(world.clippers[1].id)
