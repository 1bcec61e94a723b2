"""Clippers submit post links: parsed never fetched, once per post across the system,
only for campaigns they were approved for, with clear refusals that change nothing."""

from __future__ import annotations

import socket
import threading
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from app.errors import ConflictError, NotFoundError
from app.submissions import service
from app.submissions.models import Submission
from app.tracking.models import TrackingState
from tests.factories import approved_clipper, build_world, live_campaign
from tests.submissions.pages import post

TT_ID = "7301234567890123456"
YT_ID = "dQw4w9WgXcQ"


def tiktok(n: int = 0, handle: str = "clipqueen") -> str:
    return f"https://www.tiktok.com/@{handle}/video/{int(TT_ID) + n}"


def submit(client, campaign_id, url, partial=True):
    return post(client, f"/campaigns/{campaign_id}/submissions", {"post_url": url}, role="clipper", partial=partial)


def count_submissions(app) -> int:
    with app.app_context():
        from app.extensions import db

        return db.session.scalar(select(func.count()).select_from(Submission))


def test_clipper_submits_a_link_and_sees_it_pending(app, world, login_as):
    clipper = world.clippers[0]
    client = login_as(clipper)
    response = submit(client, world.campaign_id, tiktok() + "?is_from_webapp=1")
    assert response.status_code == 200, response.get_data(as_text=True)
    location = response.headers["HX-Redirect"]
    page = client.get(location).get_data(as_text=True)
    assert "pending" in page and f"https://www.tiktok.com/@clipqueen/video/{TT_ID}" in page
    assert "is_from_webapp" not in page  # we keep the link we built, not what was pasted
    listing = client.get("/my/submissions").get_data(as_text=True)
    assert f"TikTok post {TT_ID}" in listing
    with app.app_context():
        (row,) = service.submissions_of(clipper.id)
        assert (row.platform, row.post_id, row.status) == ("tiktok", TT_ID, "submitted")
        from app.extensions import db

        assert db.session.get(TrackingState, row.id).manual_reason.startswith("The clipper's TikTok account")


# (pasted link, status, words in the answer) — at the edge, through the real route
REFUSALS = [
    ("https://vm.tiktok.com/ZMhvqKxYz/", 422, "Short links can't be checked"),
    ("https://vt.tiktok.com/ZSabc123/", 422, "Short links can't be checked"),
    ("https://www.tiktok.com/@clipqueen", 422, "not to a single post"),
    ("https://example.com/@clipqueen/video/7301234567890123456", 422, "not from TikTok, YouTube, Instagram or X"),
    ("javascript:alert(document.cookie)", 422, "Only web links"),
    ("http://127.0.0.1:8080/@x/video/7301234567890123456", 422, "does not look like a valid link"),
    ("http://127.0.0.1/@x/video/7301234567890123456", 422, "not from TikTok"),
    ("http://localhost/@x/video/7301234567890123456", 422, "not from TikTok"),
    ("http://169.254.169.254/latest/meta-data/", 422, "not from TikTok"),
    ("https://www.tiktok.com@evil.example/@x/video/7301234567890123456", 422, "does not look like a valid link"),
    ("", 422, "Paste the link to your post"),
    ("https://www.instagram.com/reel/C1a2B3c4D5e/", 422, "does not accept Instagram Reels posts"),
    ("https://x.com/clipqueen/status/1790000000000000001", 422, "does not accept X posts"),
]


@pytest.mark.parametrize(("url", "status", "message"), REFUSALS)
def test_refused_links_say_why_and_change_nothing(app, login_as, url, status, message):
    world = build_world(app, clippers=1, platforms=["tiktok", "youtube_shorts"])
    client = login_as(world.clippers[0])
    response = submit(client, world.campaign_id, url)
    body = response.get_data(as_text=True)
    assert response.status_code == status
    assert message in body.replace("&#39;", "'")
    assert 'aria-invalid="true"' in body
    assert count_submissions(app) == 0


def test_accepted_shapes_on_a_campaign_for_those_platforms(app, login_as):
    world = build_world(app, clippers=1, platforms=["tiktok", "youtube_shorts"])
    client = login_as(world.clippers[0])
    for url in (f"https://m.tiktok.com/@clipqueen/video/{TT_ID}/", f"https://youtu.be/{YT_ID}?si=abc"):
        assert submit(client, world.campaign_id, url).status_code == 200
    with app.app_context():
        assert {(s.platform, s.post_id) for s in service.submissions_of(world.clippers[0].id)} == {
            ("tiktok", TT_ID), ("youtube_shorts", YT_ID)}


def test_without_javascript_the_form_posts_and_redirects(app, world, login_as):
    client = login_as(world.clippers[0])
    response = submit(client, world.campaign_id, tiktok(), partial=False)
    assert response.status_code == 303
    assert response.headers["Location"].startswith("/my/submissions/")


def test_the_server_never_connects_to_a_submitted_address(app, world, login_as):
    trap = socket.socket()
    trap.bind(("127.0.0.1", 0))
    trap.listen(8)
    trap.settimeout(0.5)
    port = trap.getsockname()[1]
    client = login_as(world.clippers[0])
    links = [f"http://127.0.0.1:{port}/@x/video/{TT_ID}", f"127.0.0.1:{port}/shorts/{YT_ID}",
             f"http://[::ffff:127.0.0.1]:{port}/", f"https://www.tiktok.com/@clipqueen/video/{TT_ID}?next=http://127.0.0.1:{port}/"]
    statuses = [submit(client, world.campaign_id, link).status_code for link in links]
    assert statuses[:3] == [422, 422, 422] and statuses[3] == 200
    with pytest.raises(TimeoutError):
        trap.accept()  # nobody knocked
    trap.close()


def test_only_approved_participants_submit(app, world, login_as):
    with app.app_context():
        from tests.factories import make_user

        outsider = make_user("clipper")
        with pytest.raises(NotFoundError):
            service.submit_post(world.campaign_id, outsider.id, tiktok())
    assert count_submissions(app) == 0


def test_a_post_is_submitted_once_across_clippers_and_campaigns(app, world, login_as):
    first, second = world.clippers
    assert submit(login_as(first), world.campaign_id, tiktok()).status_code == 200
    again = submit(login_as(second), world.campaign_id, f"https://m.tiktok.com/@other/video/{TT_ID}")
    assert again.status_code == 409
    assert "already submitted" in again.get_data(as_text=True)
    with app.app_context():
        other_campaign = live_campaign(world.brand.id, world.admin.id, title="Winter drop")
        third = approved_clipper(other_campaign)
        with pytest.raises(ConflictError, match="already submitted"):
            service.submit_post(other_campaign, third.id, tiktok())
    assert count_submissions(app) == 1


def test_concurrent_submissions_of_one_post_store_exactly_one(app):
    world = build_world(app, clippers=6)
    barrier = threading.Barrier(len(world.clippers), timeout=30)  # never hangs if a thread dies first
    outcomes: list[str] = []

    def attempt(clipper_id: int):
        with app.app_context():
            barrier.wait()
            try:
                service.submit_post(world.campaign_id, clipper_id, tiktok(handle=f"c{clipper_id}"))
                outcomes.append("ok")
            except ConflictError as error:
                outcomes.append(error.message)

    threads = [threading.Thread(target=attempt, args=(c.id,), daemon=True) for c in world.clippers]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert not any(thread.is_alive() for thread in threads), "a submission hung (lock wait?)"
    assert sorted(outcomes) == sorted(["ok"] + [service.ALREADY_SUBMITTED] * 5)
    assert count_submissions(app) == 1


def test_several_posts_per_campaign_up_to_the_limit(app, world, monkeypatch):
    monkeypatch.setattr(service, "MAX_POSTS_PER_CAMPAIGN", 2)
    clipper = world.clippers[0]
    with app.app_context():
        service.submit_post(world.campaign_id, clipper.id, tiktok(1))
        service.submit_post(world.campaign_id, clipper.id, tiktok(2))
        with pytest.raises(ConflictError, match="already have 2 posts"):
            service.submit_post(world.campaign_id, clipper.id, tiktok(3))
    assert count_submissions(app) == 2


def test_an_ended_campaign_takes_no_posts(app, world):
    with app.app_context():
        from app.campaigns.models import Campaign
        from app.db import utcnow
        from app.extensions import db

        campaign = db.session.get(Campaign, world.campaign_id)
        campaign.starts_at, campaign.ends_at = utcnow() - timedelta(days=2), utcnow() - timedelta(minutes=1)
        db.session.commit()
        with pytest.raises(ConflictError, match="not taking posts"):
            service.submit_post(world.campaign_id, world.clippers[0].id, tiktok())
