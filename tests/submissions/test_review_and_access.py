"""The brand's content review through one transition table, automatic approval, clip files
with the duplicate-clip signal, and object-level access to submissions and the queue."""

from __future__ import annotations

import io
from datetime import timedelta

import pytest
from sqlalchemy import select

from app.audit.models import AuditEvent
from app.db import utcnow
from app.errors import ConflictError, ValidationError
from app.extensions import db
from app.submissions import service
from app.tracking.models import FraudSignal
from tests.factories import build_world, new_user, submitted_post
from tests.submissions.pages import post


def review(client, submission_id, decision, reason=""):
    return post(client, f"/brand/submissions/{submission_id}/review", {"decision": decision, "reason": reason},
                role="brand")


def status_of(app, submission_id):
    with app.app_context():
        return service.get(submission_id).status, service.get(submission_id).status_reason


def test_brand_approves_and_the_clipper_sees_it(app, world, login_as):
    sid = submitted_post(world)
    brand = login_as(world.brand)
    page = brand.get(f"/brand/campaigns/{world.campaign_id}/submissions").get_data(as_text=True)
    assert f'data-submission-id="{sid}"' in page and "Approve" in page
    assert review(brand, sid, "approve").headers["HX-Redirect"] == f"/brand/submissions/{sid}"
    assert status_of(app, sid) == ("approved", None)
    clipper_page = login_as(world.clippers[0]).get(f"/my/submissions/{sid}").get_data(as_text=True)
    assert "approved" in clipper_page
    with app.app_context():
        actions = db.session.scalars(select(AuditEvent.action).where(AuditEvent.subject_type == "submission",
                                                                     AuditEvent.subject_id == sid)).all()
    assert actions == ["submission.submitted", "submission.approved"]


def test_reject_and_revision_need_a_reason_the_clipper_sees(app, world, login_as):
    sid = submitted_post(world)
    brand = login_as(world.brand)
    refused = review(brand, sid, "reject", "   ")
    assert refused.status_code == 422 and "Give a reason" in refused.get_data(as_text=True)
    assert status_of(app, sid) == ("submitted", None)
    review(brand, sid, "revise", "Show the logo in the first 3 seconds.")
    assert status_of(app, sid) == ("revision_requested", "Show the logo in the first 3 seconds.")
    clipper = login_as(world.clippers[0], on=app.test_client())
    assert "Show the logo in the first 3 seconds." in clipper.get(f"/my/submissions/{sid}").get_data(as_text=True)
    post(clipper, f"/my/submissions/{sid}/resubmit", {"post_url": ""}, role="clipper")
    assert status_of(app, sid)[0] == "submitted"
    review(brand, sid, "reject", "Off brief.")
    assert status_of(app, sid) == ("rejected", "Off brief.")
    assert "Off brief." in clipper.get("/my/submissions").get_data(as_text=True)


def test_transitions_outside_the_table_are_refused(app, world):
    sid = submitted_post(world)
    with app.app_context():
        service.review_submission(sid, world.brand.id, "approve")
        with pytest.raises(ConflictError, match="approved cannot become rejected"):
            service.review_submission(sid, world.brand.id, "reject", "late")
        with pytest.raises(ConflictError):
            service.resubmit(sid, world.clippers[0].id)
        with pytest.raises(ValidationError):
            service.remove_submission(sid, world.admin.id, "")
        service.remove_submission(sid, world.admin.id, "bought views")
        db.session.commit()
    assert status_of(app, sid) == ("removed", "bought views")


def test_unreviewed_posts_are_approved_after_the_window(app):
    world = build_world(app, clippers=1, auto_approve_hours=24)
    sid = submitted_post(world)
    with app.app_context():
        assert service.approve_overdue(now=utcnow() + timedelta(hours=23)) == 0
        assert service.approve_overdue(now=utcnow() + timedelta(hours=24, minutes=1)) == 1
        assert service.approve_overdue(now=utcnow() + timedelta(hours=25)) == 0  # safe to run twice
    assert status_of(app, sid) == ("approved", "approved automatically: not reviewed in time")


def test_clip_upload_and_the_same_file_under_two_clippers_is_flagged(app, world, login_as):
    first, second = world.clippers
    ids = [submitted_post(world, 0, n=1), submitted_post(world, 1, n=2)]
    content = b"\x00\x00\x00\x18ftypmp42" + b"same clip bytes" * 50
    for clipper, sid in zip((first, second), ids, strict=True):
        client = login_as(clipper)
        ticket = post(client, f"/my/submissions/{sid}/clip/ticket", {
            "filename": "clip.mp4", "content_type": "video/mp4", "size_bytes": str(len(content))},
            role="clipper", partial=False).get_json()
        stored = client.post(ticket["url"], data={**ticket["fields"], "file": (io.BytesIO(content), "clip.mp4",
                                                                               "video/mp4")},
                             content_type="multipart/form-data")
        assert stored.status_code == 204
        confirmed = post(client, f"/my/submissions/{sid}/clip", {
            "key": ticket["key"], "filename": "clip.mp4", "size_bytes": str(len(content))}, role="clipper")
        assert "Clip saved: clip.mp4" in confirmed.get_data(as_text=True)
    with app.app_context():
        signals = db.session.scalars(select(FraudSignal).order_by(FraudSignal.id)).all()
        assert sorted((s.submission_id, s.kind) for s in signals) == [
            (ids[0], "duplicate_clip"), (ids[1], "duplicate_clip")]
        assert signals[0].details["same_file_on"] in ([ids[0]], [ids[1]])
        from app.tracking import service as tracking

        assert tracking.has_open_fraud_flag(first.id) and tracking.has_open_fraud_flag(second.id)


def test_a_clip_key_outside_the_posts_prefix_is_refused(app, world, login_as):
    sid = submitted_post(world)
    response = post(login_as(world.clippers[0]), f"/my/submissions/{sid}/clip",
                    {"key": "campaigns/1/assets/0123456789abcdef0123456789abcdef/x.mp4", "size_bytes": "10"},
                    role="clipper")
    assert response.status_code == 422
    with app.app_context():
        assert service.get(sid).clip_key is None


def test_object_level_access(app, world, login_as):
    mine = submitted_post(world)
    other_brand, support = new_user(app, "brand"), new_user(app, "support")
    other_clipper = login_as(world.clippers[1])
    assert other_clipper.get(f"/my/submissions/{mine}").status_code == 404
    assert other_clipper.get(f"/brand/submissions/{mine}").status_code == 403
    assert f"/my/submissions/{mine}" not in other_clipper.get("/my/submissions").get_data(as_text=True)
    intruder = app.test_client()
    login_as(other_brand, on=intruder)
    assert intruder.get(f"/brand/submissions/{mine}").status_code == 404
    assert post(intruder, f"/brand/submissions/{mine}/review", {"decision": "approve"}, role="brand").status_code == 404
    assert intruder.get(f"/brand/campaigns/{world.campaign_id}/submissions").status_code == 404
    assert f'data-submission-id="{mine}"' not in intruder.get("/brand/submissions").get_data(as_text=True)
    assert status_of(app, mine)[0] == "submitted"
    for user in (world.clippers[0], world.brand, support):
        other = app.test_client()
        login_as(user, on=other)
        assert other.get("/admin/queue").status_code == 403, user.role
    assert app.test_client().get("/admin/queue").status_code in (302, 401)
    admin = app.test_client()
    login_as(world.admin, on=admin)
    assert admin.get("/admin/queue").status_code == 200
