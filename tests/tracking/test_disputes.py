"""A brand disputes a post's views; the post returns to the queue with the dispute; the admin
resolves it (uphold, adjust, remove) and both sides see the outcome."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from app.errors import ConflictError, ValidationError
from app.extensions import db
from app.notifications.models import Notification
from app.submissions import service as submissions
from app.tracking import disputes, snapshots
from app.tracking.models import Dispute, TrackingState
from tests.factories import approved_post, pending_count
from tests.submissions.pages import post


def verified(app, world, sid, views):
    with app.app_context():
        snapshots.verify(pending_count(sid, views, app=app), world.admin.id)


@pytest.fixture
def clients(app, login_as):
    def make(user):
        return login_as(user, on=app.test_client())
    return make


def test_dispute_round_trip_with_an_adjusted_count(app, world, clients):
    sid = approved_post(world)
    verified(app, world, sid, 40_000)
    brand, admin, clipper = clients(world.brand), clients(world.admin), clients(world.clippers[0])
    assert f'id="row-{sid}"' not in admin.get("/admin/queue").get_data(as_text=True)  # nothing to do yet
    opened = post(brand, f"/brand/submissions/{sid}/dispute", {"reason": "Views jumped overnight from bots"},
                  role="brand")
    assert opened.headers["HX-Redirect"] == f"/brand/submissions/{sid}"
    again = post(brand, f"/brand/submissions/{sid}/dispute", {"reason": "again"}, role="brand")
    assert again.status_code == 409
    queue = admin.get("/admin/queue").get_data(as_text=True)
    assert f'id="row-{sid}"' in queue and "Views jumped overnight from bots" in queue
    assert [f'<option value="{o}">' in queue for o in ("upheld", "adjusted", "removed")] == [True] * 3
    assert "open — an admin is looking at it" in clipper.get(f"/my/submissions/{sid}").get_data(as_text=True)
    with app.app_context():
        dispute_id = db.session.scalar(select(Dispute.id))
    pending_count(sid, 45_000, app=app)  # a later count above the correction must not undo it
    row = post(admin, f"/admin/disputes/{dispute_id}/resolve", {
        "submission_id": sid, "outcome": "adjusted", "views": "25,000", "note": "bot views removed"}, role="admin")
    assert "Dispute resolved." in row.get_data(as_text=True)
    with app.app_context():
        state = db.session.get(TrackingState, sid)
        assert (state.last_verified_views, state.risk_score) == (25_000, 0)
        kinds = db.session.scalars(select(Notification.kind).order_by(Notification.id)).all()
        assert kinds.count("dispute_resolved") == 2 and "dispute_opened" in kinds
    for client, page in ((brand, f"/brand/submissions/{sid}"), (clipper, f"/my/submissions/{sid}")):
        text = client.get(page).get_data(as_text=True)
        assert "the view count was corrected to 25,000 (bot views removed)" in text
        assert "25,000 verified views" in text
    assert f'id="row-{sid}"' not in admin.get("/admin/queue").get_data(as_text=True)


def test_uphold_and_remove(app, world):
    kept, removed = approved_post(world, 0, n=1), approved_post(world, 1, n=2)
    for sid in (kept, removed):
        verified(app, world, sid, 1_000)
    with app.app_context():
        first = disputes.open_dispute(kept, world.brand.id, "looks high").id
        second = disputes.open_dispute(removed, world.brand.id, "reposted someone else's clip").id
        disputes.resolve(first, world.admin.id, "upheld", "matches the platform's numbers")
        with pytest.raises(ConflictError, match="already resolved"):
            disputes.resolve(first, world.admin.id, "removed", "changed my mind")
        with pytest.raises(ValidationError, match="reason"):
            disputes.resolve(second, world.admin.id, "removed", "")
        db.session.rollback()
        disputes.resolve(second, world.admin.id, "removed", "not the clipper's own clip")
        assert submissions.get(kept).status == "approved"
        assert (submissions.get(removed).status, submissions.get(removed).status_reason) == (
            "removed", "not the clipper's own clip")
        assert db.session.get(TrackingState, kept).last_verified_views == 1_000


def test_only_the_campaigns_brand_disputes(app, world, login_as):
    from tests.factories import new_user

    sid = approved_post(world)
    other = login_as(new_user(app, "brand"))
    assert post(other, f"/brand/submissions/{sid}/dispute", {"reason": "x"}, role="brand").status_code == 404
    with app.app_context():
        assert disputes.open_dispute_of(sid) is None


def test_a_disputed_signal_is_not_cleared_by_a_direct_post(app, world, clients):
    from app.tracking.models import FraudSignal

    sid = approved_post(world)
    verified(app, world, sid, 1_000)
    brand, admin = clients(world.brand), clients(world.admin)
    post(brand, f"/brand/submissions/{sid}/dispute", {"reason": "Views jumped overnight"}, role="brand")
    with app.app_context():
        signal_id = db.session.scalar(select(FraudSignal.id).where(FraudSignal.kind == "disputed"))
        risk = db.session.get(TrackingState, sid).risk_score
    page = admin.get("/admin/queue").get_data(as_text=True)
    assert f"/admin/signals/{signal_id}/clear" not in page  # no button ...
    refused = post(admin, f"/admin/signals/{signal_id}/clear", role="admin")  # ... and no way round it
    assert refused.status_code == 409
    assert "resolve the dispute to clear it" in refused.get_data(as_text=True)
    with app.app_context():
        assert db.session.get(FraudSignal, signal_id).cleared_at is None
        assert db.session.get(TrackingState, sid).risk_score == risk > 0
        dispute_id = db.session.scalar(select(Dispute.id))
        disputes.resolve(dispute_id, world.admin.id, "upheld", "counts match")
        assert db.session.get(FraudSignal, signal_id).cleared_at is not None  # resolving clears it
