"""The real platform clients against the local fake: documented success shapes, batching,
credentials, and the no-key/no-token path that never touches the network."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from structlog.testing import capture_logs

from app.social.platforms import (
    CredentialsMissingError,
    PlatformCredentials,
    PlatformSettings,
    PostMetrics,
    PostNotFoundError,
    QuotaExhaustedError,
    fetch_many,
    fetch_post_metrics,
)
from tests.platforms.fake_platforms import PASS, USER_TOKEN, YOUTUBE_KEY, youtube_quota_exceeded

YT_ID = "dQw4w9WgXcQ"
TT_ID = "7301234567890123456"
IG_CODE = "C1a2B3c4D5e"
X_ID = "1790000000000000001"
NO_CREDENTIALS = PlatformCredentials()


def test_youtube_reads_statistics_and_snippet_with_the_key_in_a_header(fake, settings):
    fake.add_youtube_video(YT_ID, 12_345, likes=678, comments=9, published_at="2026-11-02T08:30:00Z")
    with capture_logs() as logs:
        metrics = fetch_post_metrics("youtube_shorts", YT_ID, NO_CREDENTIALS, settings)
    assert metrics == PostMetrics(views=12_345, likes=678, comments=9, author_id="UCclipqueen0000000000000",
                                  published_at=datetime(2026, 11, 2, 8, 30, tzinfo=UTC))
    (call,) = fake.calls("youtube")
    assert call.query == {"part": "statistics,snippet", "id": YT_ID, "maxResults": "50"}
    assert call.headers["X-Goog-Api-Key"] == YOUTUBE_KEY
    assert [(e["event"], e["platform"], e["status"], e["attempt"]) for e in logs] == [
        ("platform_call", "youtube_shorts", 200, 1)]
    assert YOUTUBE_KEY not in repr(logs)


def test_youtube_hidden_likes_are_unknown_not_zero(fake, settings):
    fake.add_youtube_video(YT_ID, 50, likes=None, comments=None)
    metrics = fetch_post_metrics("youtube_shorts", YT_ID, NO_CREDENTIALS, settings)
    assert (metrics.views, metrics.likes, metrics.comments) == (50, None, None)


def test_tiktok_queries_the_users_videos_with_a_bearer_token(fake, settings, user_credentials):
    fake.add_tiktok_video(TT_ID, 98_765, likes=4321, comments=12, create_time=1_762_000_000)
    with capture_logs() as logs:
        metrics = fetch_post_metrics("tiktok", TT_ID, user_credentials, settings)
    assert metrics == PostMetrics(views=98_765, likes=4321, comments=12, author_id="open-id-clipqueen",
                                  published_at=datetime.fromtimestamp(1_762_000_000, UTC))
    (call,) = fake.calls("tiktok")
    assert call.method == "POST"
    assert call.query == {"fields": "id,create_time,view_count,like_count,comment_count"}
    assert call.body == {"filters": {"video_ids": [TT_ID]}}
    assert call.headers["Authorization"] == f"Bearer {USER_TOKEN}"
    assert USER_TOKEN not in repr(logs)


def test_instagram_resolves_the_shortcode_through_the_users_media_list(fake, settings, user_credentials):
    for n in range(130):  # the reel is on the second page of /me/media
        fake.add_instagram_media(f"1790{n:011d}", f"OTHER{n:04d}", views=n)
    fake.add_instagram_media("17900000000999", IG_CODE, views=4_242, likes=300, comments=7,
                             timestamp="2026-11-03T09:15:00+0000")
    metrics = fetch_post_metrics("instagram_reels", IG_CODE, user_credentials, settings)
    assert metrics == PostMetrics(views=4_242, likes=300, comments=7, author_handle="clip.queen",
                                  published_at=datetime(2026, 11, 3, 9, 15, tzinfo=UTC))
    lists = fake.calls("instagram_list")
    assert [c.query.get("after") for c in lists] == [None, "100"]
    assert fake.calls("instagram_media")[0].path == "/v23.0/17900000000999"
    assert fake.calls("instagram_insights")[0].query == {"metric": "views"}
    assert all(c.headers["Authorization"] == f"Bearer {USER_TOKEN}" and "access_token" not in c.query
               for c in fake.calls())


def test_instagram_post_not_in_the_users_media_is_not_found(fake, settings, user_credentials):
    fake.add_instagram_media("17900000000001", "SOMEONEELSE", views=1)
    with pytest.raises(PostNotFoundError, match="not among the connected Instagram account's posts"):
        fetch_post_metrics("instagram_reels", IG_CODE, user_credentials, settings)


def test_x_uses_impressions_as_views_and_expands_the_author(fake, settings, user_credentials):
    fake.add_tweet(X_ID, 55_000, author_id="2244994945", username="ClipQueen",
                   created_at="2026-11-04T18:00:00.000Z")
    metrics = fetch_post_metrics("x", X_ID, user_credentials, settings)
    assert metrics == PostMetrics(views=55_000, likes=10, comments=2, author_id="2244994945",
                                  author_handle="ClipQueen", published_at=datetime(2026, 11, 4, 18, tzinfo=UTC))
    (call,) = fake.calls("x")
    assert call.query == {"ids": X_ID, "tweet.fields": "public_metrics,created_at,author_id",
                          "expansions": "author_id", "user.fields": "username"}


@pytest.mark.parametrize(("platform", "post_id", "credentials", "message"), [
    ("youtube_shorts", YT_ID, NO_CREDENTIALS, "no API key"),
    ("tiktok", TT_ID, NO_CREDENTIALS, "TikTok account is not connected"),
    ("instagram_reels", IG_CODE, NO_CREDENTIALS, "Instagram account is not connected"),
    ("x", X_ID, PlatformCredentials(api_key="not-a-user-token"), "X account is not connected"),
])
def test_missing_credentials_keep_the_post_on_the_manual_queue_without_any_request(
        fake, settings, platform, post_id, credentials, message):
    no_app_key = PlatformSettings(api_base=settings.api_base, sleep=settings.sleep)
    with pytest.raises(CredentialsMissingError) as caught:
        fetch_post_metrics(platform, post_id, credentials, no_app_key)
    assert message in caught.value.reason
    assert "verified by hand" in caught.value.reason
    assert fake.requests == []


@pytest.mark.parametrize(("platform", "post_id"), [
    ("youtube_shorts", YT_ID), ("tiktok", TT_ID), ("x", X_ID),
])
def test_deleted_or_private_post_is_not_found(fake, settings, user_credentials, platform, post_id):
    with pytest.raises(PostNotFoundError):
        fetch_post_metrics(platform, post_id, user_credentials, settings)
    assert len(fake.requests) == 1


def test_youtube_batch_returns_partial_results_in_one_call(fake, settings):
    ids = ["aaaaaaaaaaa", "bbbbbbbbbbb", "ccccccccccc"]
    fake.add_youtube_video(ids[0], 100)
    fake.add_youtube_video(ids[2], 300)
    results = fetch_many("youtube_shorts", [*ids, ids[0], "not-an-id"], NO_CREDENTIALS, settings)
    assert results[ids[0]].views == 100
    assert isinstance(results[ids[1]], PostNotFoundError)
    assert results[ids[2]].views == 300
    assert isinstance(results["not-an-id"], PostNotFoundError)
    assert len(results) == 4
    (call,) = fake.calls("youtube")
    assert call.query["id"] == ",".join(ids)


def test_x_batch_reports_deleted_tweets_next_to_live_ones(fake, settings, user_credentials):
    fake.add_tweet("111", 10)
    results = fetch_many("x", ["111", "222"], user_credentials, settings)
    assert results["111"].views == 10
    assert isinstance(results["222"], PostNotFoundError)


def test_tiktok_batches_are_cut_at_twenty_ids(fake, settings, user_credentials):
    ids = [f"73000000000000{n:05d}" for n in range(25)]
    for n, video_id in enumerate(ids):
        fake.add_tiktok_video(video_id, views=n)
    results = fetch_many("tiktok", ids, user_credentials, settings)
    assert [results[i].views for i in ids] == list(range(25))
    assert [len(c.body["filters"]["video_ids"]) for c in fake.calls("tiktok")] == [20, 5]


def test_quota_running_out_mid_batch_stops_calling_and_reports_it_for_the_rest(fake, settings):
    ids = [f"v{n:010d}" for n in range(120)]
    for video_id in ids:
        fake.add_youtube_video(video_id, 7)
    fake.script("youtube", PASS, youtube_quota_exceeded())
    results = fetch_many("youtube_shorts", ids, NO_CREDENTIALS, settings)
    assert all(results[i].views == 7 for i in ids[:50])
    assert all(isinstance(results[i], QuotaExhaustedError) for i in ids[50:])
    assert len(fake.calls("youtube")) == 2, "the third chunk is not attempted"


def test_platform_api_base_setting_sends_every_client_to_the_fake(app, fake, monkeypatch, user_credentials):
    monkeypatch.setitem(app.config, "PLATFORM_API_BASE", fake.url)
    monkeypatch.setitem(app.config, "YOUTUBE_API_KEY", YOUTUBE_KEY)
    fake.add_youtube_video(YT_ID, 1)
    fake.add_tweet(X_ID, 2)
    with app.app_context():
        assert fetch_post_metrics("youtube_shorts", YT_ID, NO_CREDENTIALS).views == 1
        assert fetch_post_metrics("x", X_ID, user_credentials).views == 2
    assert {c.route for c in fake.calls()} == {"youtube", "x"}
