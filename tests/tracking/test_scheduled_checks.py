"""Scheduled platform checks: the cadence, one check per post per slot with two schedulers on a
real Redis, the real clients against the local fake platforms (429 backoff, quota exhaustion,
missing credentials), and ownership signals."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta

import pytest
from rq import Queue
from sqlalchemy import select

from app.db import utcnow
from app.extensions import db
from app.security import seal
from app.social import service as social
from app.social.models import ConnectedAccount
from app.tracking import jobs as tracking_jobs
from app.tracking.checks import ChecksIncompleteError
from app.tracking.models import FraudSignal, TrackingState, ViewSnapshot
from app.tracking.schedule import schedule_due_checks, slot_for
from tests.factories import approved_post
from tests.platforms.fake_platforms import PASS, USER_TOKEN, Scripted, youtube_quota_exceeded

T0 = datetime(2026, 11, 1, 12, 0, tzinfo=UTC)
END = T0 + timedelta(days=20)


@pytest.mark.parametrize(("after", "slot"), [
    (timedelta(minutes=-1), None), (timedelta(0), "h0"), (timedelta(minutes=59), "h0"), (timedelta(hours=1), "h1"),
    (timedelta(hours=47, minutes=59), "h47"), (timedelta(hours=48), "s8"), (timedelta(hours=53), "s8"),
    (timedelta(hours=54), "s9"), (timedelta(days=7) - timedelta(seconds=1), "s27"), (timedelta(days=7), "d7"),
    (timedelta(days=19, hours=23), "d19"), (timedelta(days=20), "final"), (timedelta(days=90), "final"),
])
def test_cadence(after, slot):
    assert slot_for(T0, T0 + after, END) == slot


def test_final_check_comes_once_the_hold_window_ends_even_early():
    assert slot_for(T0, T0 + timedelta(hours=3), T0 + timedelta(hours=2)) == "final"
    assert slot_for(T0, T0 + timedelta(days=400), None) == "d400"


def youtube_url(n: int) -> str:
    return f"https://www.youtube.com/shorts/yt{n:09d}"


def queued_pairs(redis_client) -> list[tuple[int, str]]:
    jobs = Queue("views", connection=redis_client).get_jobs()
    return [(int(sid), slot) for job in jobs for sid, slot in job.args[1]], jobs


def run_at_once(app, count: int, work) -> list:
    """Run ``work()`` in ``count`` threads released together (each in its own app context);
    their results in finishing order. Never hangs: the barrier and the joins time out, and an
    exception in a thread fails the test with that exception."""
    barrier = threading.Barrier(count, timeout=30)
    results, errors = [], []

    def runner():
        try:
            with app.app_context():
                barrier.wait()
                results.append(work())
        except BaseException as error:  # reported below, in the test's thread
            errors.append(error)
            barrier.abort()

    threads = [threading.Thread(target=runner, daemon=True) for _ in range(count)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert not any(t.is_alive() for t in threads), "a scheduler hung"
    if errors:
        raise errors[0]
    return results


def test_two_schedulers_enqueue_exactly_one_check_per_post_per_slot(app, world, redis_client, monkeypatch):
    from app.submissions import service

    monkeypatch.setattr(service, "MAX_POSTS_PER_CAMPAIGN", 100)
    youtube = [approved_post(world, 0, url=youtube_url(n)) for n in range(60)]
    tiktok = [approved_post(world, 1, n=n) for n in range(5)]  # TikTok: batched per clipper
    posts = youtube + tiktok
    now = utcnow() + timedelta(minutes=1)
    counts = run_at_once(app, 2, lambda: schedule_due_checks(now))
    # Which scheduler claims which posts depends on the interleaving (any split is right,
    # including all to one); together they enqueue each post exactly once.
    pairs, jobs = queued_pairs(redis_client)
    assert len(counts) == 2 and sum(counts) == 65  # none claimed twice
    assert sorted(sid for sid, _ in pairs) == sorted(posts)  # each post exactly once: no duplicate, none missed
    assert {slot for _, slot in pairs} == {"h0"}
    for job in jobs:  # whatever the split: batches of at most 50 posts of one platform
        platform, batch = job.args[0], [sid for sid, _ in job.args[1]]
        assert 1 <= len(batch) <= 50
        assert set(batch) <= set(youtube if platform == "youtube_shorts" else tiktok)
    assert all(job.retries_left == 5 and job.origin == "views" for job in jobs)
    with app.app_context():
        assert schedule_due_checks(now + timedelta(minutes=30)) == 0  # same slot: nothing new
        assert schedule_due_checks(now + timedelta(hours=1)) == 65  # next slot: everyone again
    pairs, jobs = queued_pairs(redis_client)
    assert sorted(slot for _, slot in pairs).count("h1") == 65
    one_scheduler = [job for job in jobs if job.args[1][0][1] == "h1"]
    assert sorted(len(job.args[1]) for job in one_scheduler) == [5, 10, 50]  # 50 per platform call, TikTok apart


def test_youtube_check_records_one_pending_count_per_slot(app, world, fake):
    sid = approved_post(world, url=youtube_url(1))
    fake.add_youtube_video("yt000000001", 12_345, likes=700, comments=40)
    with app.app_context():
        assert tracking_jobs.check_views("youtube_shorts", [[sid, "h0"]])["recorded"] == 1
        assert tracking_jobs.check_views("youtube_shorts", [[sid, "h0"]])["recorded"] == 0  # run twice: no double
        (snapshot,) = db.session.scalars(select(ViewSnapshot)).all()
        assert (snapshot.views, snapshot.likes, snapshot.source, snapshot.status, snapshot.slot) == (
            12_345, 700, "platform_api", "pending", "h0")
        assert db.session.get(TrackingState, sid).manual_reason is None
    assert len(fake.calls("youtube")) == 2


def test_a_429_backs_off_and_the_check_succeeds(app, world, fake):
    sid = approved_post(world, url=youtube_url(2))
    fake.add_youtube_video("yt000000002", 900)
    fake.script("youtube", Scripted(429, {"error": {"code": 429, "message": "slow down"}}, {"Retry-After": "0"}), PASS)
    with app.app_context():
        assert tracking_jobs.check_views("youtube_shorts", [[sid, "h3"]])["recorded"] == 1
    assert len(fake.calls("youtube")) == 2


def test_still_rate_limited_raises_so_rq_retries_the_job(app, world, fake):
    sid = approved_post(world, url=youtube_url(3))
    limited = Scripted(429, {"error": {"code": 429, "message": "slow down"}}, {"Retry-After": "0"})
    fake.script("youtube", limited, limited, limited)
    with app.app_context(), pytest.raises(ChecksIncompleteError, match="limiting"):
        tracking_jobs.check_views("youtube_shorts", [[sid, "h3"]])
    assert len(fake.calls("youtube")) == 3
    with app.app_context():
        assert db.session.scalar(select(ViewSnapshot.id)) is None
        assert db.session.get(TrackingState, sid).manual_reason is None  # still tracked by the API


def test_quota_exhaustion_leaves_the_post_on_the_manual_queue_with_the_reason(app, world, fake, login_as):
    sid = approved_post(world, url=youtube_url(4))
    fake.script("youtube", youtube_quota_exceeded())
    with app.app_context():
        assert tracking_jobs.check_views("youtube_shorts", [[sid, "h0"]]) == {"recorded": 0, "manual": 1, "retry": 0}
        reason = db.session.get(TrackingState, sid).manual_reason
    assert "quota" in reason.lower()
    assert len(fake.calls("youtube")) == 1  # quota is never retried
    page = login_as(world.admin).get("/admin/queue").get_data(as_text=True)
    assert f'id="row-{sid}"' in page and "quota" in page.lower()


def test_without_a_connected_account_no_call_is_made(app, world, fake):
    sid = approved_post(world, n=7)
    with app.app_context():
        assert tracking_jobs.check_views("tiktok", [[sid, "h0"]])["manual"] == 1
        assert "not connected" in db.session.get(TrackingState, sid).manual_reason
    assert fake.calls() == []


def connect(app, user_id: int, platform: str, handle: str, platform_user_id: str | None = None) -> None:
    """What the OAuth follow-up will do: hold a sealed token for the account."""
    with app.app_context():
        social.declare_handle(user_id, platform, handle)
        account = social.account_of(user_id, platform)
        account.access_token_sealed = seal(USER_TOKEN)
        account.platform_user_id = platform_user_id
        account.status = "connected"
        db.session.commit()
        assert USER_TOKEN not in db.session.scalar(select(ConnectedAccount.access_token_sealed))


def test_someone_elses_post_published_before_approval_is_flagged(app, world, fake):
    clipper = world.clippers[0]
    connect(app, clipper.id, "x", "@ClipQueen")
    sid = approved_post(world, url="https://x.com/clipqueen/status/1790000000000000001")
    fake.add_tweet("1790000000000000001", 5_000, username="someone_else", created_at="2026-01-01T10:00:00.000Z")
    with app.app_context():
        assert tracking_jobs.check_views("x", [[sid, "h0"]])["recorded"] == 1
        signals = {s.kind: s.details for s in db.session.scalars(select(FraudSignal))}
        assert set(signals) == {"ownership_mismatch", "published_before_approval"}
        assert signals["ownership_mismatch"]["reported_author"] == "someone_else"
        assert signals["ownership_mismatch"]["expected_handle"] == "clipqueen"
        assert db.session.get(TrackingState, sid).risk_score == 90
        tracking_jobs.check_views("x", [[sid, "h1"]])
        assert len(db.session.scalars(select(FraudSignal)).all()) == 2  # not raised again every hour


def test_the_clippers_own_recent_post_raises_nothing(app, world, fake):
    clipper = world.clippers[0]
    connect(app, clipper.id, "x", "clipqueen")
    sid = approved_post(world, url="https://x.com/clipqueen/status/1790000000000000002")
    fake.add_tweet("1790000000000000002", 5_000, username="ClipQueen",
                   created_at=(utcnow() + timedelta(minutes=5)).strftime("%Y-%m-%dT%H:%M:%S.000Z"))
    with app.app_context():
        tracking_jobs.check_views("x", [[sid, "h0"]])
        assert db.session.scalars(select(FraudSignal)).all() == []
        assert db.session.get(TrackingState, sid).risk_score == 0
    assert fake.calls("x")[0].headers["Authorization"] == f"Bearer {USER_TOKEN}"
