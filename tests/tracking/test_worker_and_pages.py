"""The scheduled checks run by the real RQ worker process, the clipper's own evidence, and the
accounts page where a clipper declares the handles ownership checks compare against."""

from __future__ import annotations

from sqlalchemy import select

from app.db import utcnow
from app.extensions import db
from app.social import service as social
from app.tracking.models import ViewSnapshot
from app.tracking.schedule import schedule_due_checks
from tests.factories import approved_post
from tests.outside import run_worker
from tests.platforms.fake_platforms import YOUTUBE_KEY
from tests.submissions.pages import post
from tests.tracking.conftest import PNG, upload_evidence


def test_the_worker_runs_a_batched_check_one_api_call_for_three_posts(app, world, fake):
    ids = [approved_post(world, url=f"https://youtube.com/shorts/yt00000000{n}") for n in range(3)]
    for n in range(3):
        fake.add_youtube_video(f"yt00000000{n}", 1_000 * (n + 1))
    with app.app_context():
        assert schedule_due_checks(utcnow()) == 3
    run_worker("views", env={"PLATFORM_API_BASE": fake.url, "YOUTUBE_API_KEY": YOUTUBE_KEY})
    with app.app_context():
        rows = db.session.execute(select(ViewSnapshot.submission_id, ViewSnapshot.views, ViewSnapshot.slot)
                                  .order_by(ViewSnapshot.submission_id)).all()
    assert [tuple(r) for r in rows] == [(ids[0], 1_000, "h0"), (ids[1], 2_000, "h0"), (ids[2], 3_000, "h0")]
    (call,) = fake.calls("youtube")
    assert call.query["id"] == "yt000000000,yt000000001,yt000000002"


def test_clipper_reports_a_count_with_a_screenshot_for_the_queue(app, world, login_as):
    sid = approved_post(world)
    clipper = login_as(world.clippers[0])
    refused = post(clipper, f"/my/submissions/{sid}/views", {"views": "4,200"}, role="clipper")
    assert refused.status_code == 422 and "Attach a screenshot" in refused.get_data(as_text=True)
    key = upload_evidence(clipper, sid, "clipper")
    sent = post(clipper, f"/my/submissions/{sid}/views", {"views": "4,200", "evidence_key": key}, role="clipper")
    assert sent.headers["HX-Redirect"] == f"/my/submissions/{sid}"
    assert "1 count(s) waiting for verification" in clipper.get(f"/my/submissions/{sid}").get_data(as_text=True)
    with app.app_context():
        snapshot = db.session.scalar(select(ViewSnapshot))
        assert (snapshot.views, snapshot.source, snapshot.recorded_by_id) == (4_200, "clipper_evidence",
                                                                             world.clippers[0].id)
    admin = login_as(world.admin, on=app.test_client())
    assert f"/admin/snapshots/{snapshot.id}/evidence" in admin.get("/admin/queue").get_data(as_text=True)
    shot = admin.get(f"/admin/snapshots/{snapshot.id}/evidence")
    assert shot.status_code == 302 and shot.headers["Location"].startswith("/storage/download/")
    assert admin.get(shot.headers["Location"]).get_data() == PNG
    assert clipper.get(f"/admin/snapshots/{snapshot.id}/evidence").status_code == 403
    other = login_as(world.clippers[1], on=app.test_client())
    stolen = post(other, f"/my/submissions/{sid}/views", {"views": "9", "evidence_key": key}, role="clipper")
    assert stolen.status_code == 404


def test_clipper_declares_handles_normalised_and_bad_input_changes_nothing(app, world, login_as):
    clipper = login_as(world.clippers[0])
    saved = post(clipper, "/me/accounts", {"platform": "tiktok", "handle": "  @Clip.Queen  "}, role="clipper")
    assert saved.headers["HX-Redirect"] == "/me/accounts"
    bad = post(clipper, "/me/accounts", {"platform": "tiktok", "handle": "<script>"}, role="clipper")
    assert bad.status_code == 422 and "only letters, digits" in bad.get_data(as_text=True)
    assert post(clipper, "/me/accounts", {"platform": "myspace", "handle": "me"}, role="clipper").status_code == 422
    with app.app_context():
        assert social.handle_for(world.clippers[0].id, "tiktok") == "clip.queen"
        assert social.credentials_for(world.clippers[0].id, "tiktok") is None  # declared is not connected
    page = clipper.get("/me/accounts").get_data(as_text=True)
    assert 'value="clip.queen"' in page and "declared, checked by hand" in page
    assert login_as(world.brand, on=app.test_client()).get("/me/accounts").status_code == 403
