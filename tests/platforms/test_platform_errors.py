"""Failures, retries and quota: 429 backs off and retries, 5xx and stalls give up after three
tries, quota and auth errors are never retried and say so in words a person can act on."""

from __future__ import annotations

import socket
import time

import pytest
from structlog.testing import capture_logs

from app.social.platforms import (
    AuthExpiredError,
    PlatformCredentials,
    PlatformError,
    PlatformSettings,
    PlatformUnavailableError,
    PostNotFoundError,
    QuotaExhaustedError,
    RateLimitedError,
    fetch_post_metrics,
)
from app.social.platforms.base import parse_retry_after
from tests.platforms.fake_platforms import (
    PASS,
    Scripted,
    epoch_in,
    graph_error,
    tiktok_error,
    x_problem,
    youtube_error,
    youtube_quota_exceeded,
)

YT_ID = "dQw4w9WgXcQ"
TT_ID = "7301234567890123456"
IG_CODE = "C1a2B3c4D5e"
X_ID = "1790000000000000001"
NO_CREDENTIALS = PlatformCredentials()


def test_tiktok_429_backs_off_exponentially_then_succeeds(fake, settings, sleeps, user_credentials):
    fake.add_tiktok_video(TT_ID, 500)
    limited = tiktok_error(429, "rate_limit_exceeded", "API rate limit was exceeded.")
    fake.script("tiktok", limited, limited)
    with capture_logs() as logs:
        metrics = fetch_post_metrics("tiktok", TT_ID, user_credentials, settings)
    assert metrics.views == 500
    assert len(fake.calls("tiktok")) == 3
    assert sleeps == [0.75, 1.5]  # 1 s then 2 s, each scaled by the (fixed) jitter
    assert [e["attempt"] for e in logs if e["event"] == "platform_call"] == [1, 2, 3]


def test_retry_after_header_sets_the_wait(fake, settings, sleeps):
    fake.add_youtube_video(YT_ID, 9)
    fake.script("youtube", Scripted(429, {"error": {"code": 429, "message": "Too many"}}, {"Retry-After": "4"}))
    assert fetch_post_metrics("youtube_shorts", YT_ID, NO_CREDENTIALS, settings).views == 9
    assert sleeps == [4.0]


def test_x_rate_limit_reset_within_the_cap_is_waited_for(fake, settings, sleeps, user_credentials):
    fake.add_tweet(X_ID, 3)
    fake.script("x", x_problem(429, "Too Many Requests", "Too Many Requests",
                               headers={"x-rate-limit-remaining": "0", "x-rate-limit-reset": epoch_in(5)}))
    assert fetch_post_metrics("x", X_ID, user_credentials, settings).views == 3
    assert len(sleeps) == 1 and 3 <= sleeps[0] <= 5


def test_a_wait_longer_than_the_cap_is_not_slept_but_reported(fake, settings, sleeps, user_credentials):
    fake.script("x", x_problem(429, "Too Many Requests", "Too Many Requests",
                               headers={"x-rate-limit-remaining": "0", "x-rate-limit-reset": epoch_in(900)}))
    with pytest.raises(RateLimitedError) as caught:
        fetch_post_metrics("x", X_ID, user_credentials, settings)
    assert 890 <= caught.value.retry_after <= 900
    assert sleeps == []
    assert len(fake.calls("x")) == 1


def test_rate_limited_on_every_try_gives_up_after_three(fake, settings, sleeps, user_credentials):
    limited = tiktok_error(429, "rate_limit_exceeded", "API rate limit was exceeded.")
    fake.script("tiktok", limited, limited, limited, limited)
    with pytest.raises(RateLimitedError, match="TikTok is limiting"):
        fetch_post_metrics("tiktok", TT_ID, user_credentials, settings)
    assert len(fake.calls("tiktok")) == 3
    assert sleeps == [0.75, 1.5]


@pytest.mark.parametrize("status", [500, 502, 503, 504])
def test_server_errors_three_times_make_the_platform_unavailable(fake, settings, sleeps, status):
    fake.script("youtube", *[Scripted(status, {"error": {"code": status, "message": "Backend Error"}})] * 3)
    with pytest.raises(PlatformUnavailableError) as caught:
        fetch_post_metrics("youtube_shorts", YT_ID, NO_CREDENTIALS, settings)
    assert caught.value.reason == "YouTube Shorts is not answering right now; we will try again later."
    assert caught.value.http_status == status
    assert len(fake.calls("youtube")) == 3
    assert sleeps == [0.75, 1.5]


def test_one_server_error_is_retried_away(fake, settings, sleeps, user_credentials):
    fake.add_tweet(X_ID, 8)
    fake.script("x", Scripted(503, "<html>Service Unavailable</html>"))
    assert fetch_post_metrics("x", X_ID, user_credentials, settings).views == 8
    assert sleeps == [0.75]


def test_a_stalled_server_times_out_is_retried_then_unavailable(fake, settings, sleeps):
    short = PlatformSettings(api_base=fake.url, youtube_api_key=settings.youtube_api_key, read_timeout=0.2,
                             sleep=sleeps.append, jitter=lambda: 0.5)
    fake.script("youtube", *[Scripted(200, {"items": []}, delay=0.6)] * 3)
    started = time.monotonic()
    with capture_logs() as logs, pytest.raises(PlatformUnavailableError, match="did not answer in time"):
        fetch_post_metrics("youtube_shorts", YT_ID, NO_CREDENTIALS, short)
    assert time.monotonic() - started < 1.5, "each attempt is cut at the read timeout"
    assert len(fake.calls("youtube")) == 3
    assert sleeps == [0.75, 1.5]
    assert [e["error"] for e in logs if e["event"] == "platform_call_failed"] == ["ReadTimeout"] * 3


def test_a_refused_connection_is_retried_then_unavailable(sleeps, user_credentials):
    with socket.socket() as probe:  # a port nobody listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    closed = PlatformSettings(api_base=f"http://127.0.0.1:{port}", sleep=sleeps.append, jitter=lambda: 0.5)
    with pytest.raises(PlatformUnavailableError):
        fetch_post_metrics("x", X_ID, user_credentials, closed)
    assert sleeps == [0.75, 1.5]


def test_youtube_quota_exhausted_is_not_retried_and_says_when_it_resets(fake, settings, sleeps):
    fake.script("youtube", youtube_quota_exceeded())
    with pytest.raises(QuotaExhaustedError) as caught:
        fetch_post_metrics("youtube_shorts", YT_ID, NO_CREDENTIALS, settings)
    error = caught.value
    assert "quota" in error.reason and "manual queue" in error.reason
    assert 0 < error.retry_after <= 25 * 3600
    assert len(fake.calls("youtube")) == 1
    assert sleeps == []


def test_x_monthly_usage_cap_is_quota_not_a_rate_limit(fake, settings, sleeps, user_credentials):
    fake.script("x", x_problem(429, "UsageCapExceeded", "Usage cap exceeded: Monthly product cap",
                               type_="https://api.twitter.com/2/problems/usage-capped"))
    with pytest.raises(QuotaExhaustedError, match="monthly X API allowance"):
        fetch_post_metrics("x", X_ID, user_credentials, settings)
    assert len(fake.calls("x")) == 1 and sleeps == []


def test_instagram_rate_limit_is_quota_with_the_regain_time_from_usage_headers(fake, settings, user_credentials):
    usage = '{"17841400000000000":[{"type":"instagram","call_count":100,"total_cputime":25,' \
            '"total_time":25,"estimated_time_to_regain_access":15}]}'
    fake.script("instagram_list", graph_error(403, 4, "Application request limit reached",
                                              headers={"X-Business-Use-Case-Usage": usage}))
    with pytest.raises(QuotaExhaustedError) as caught:
        fetch_post_metrics("instagram_reels", IG_CODE, user_credentials, settings)
    assert caught.value.retry_after == 15 * 60
    assert len(fake.calls()) == 1


@pytest.mark.parametrize(("platform", "post_id", "route", "answer"), [
    ("tiktok", TT_ID, "tiktok", tiktok_error(401, "access_token_invalid", "The access token is invalid.")),
    ("x", X_ID, "x", x_problem(401, "Unauthorized", "Unauthorized")),
    ("instagram_reels", IG_CODE, "instagram_list",
     graph_error(400, 190, "Error validating access token: Session has expired.", 463)),
])
def test_rejected_token_means_reconnect_and_is_not_retried(fake, settings, sleeps, user_credentials,
                                                           platform, post_id, route, answer):
    fake.script(route, answer)
    with pytest.raises(AuthExpiredError, match="reconnect"):
        fetch_post_metrics(platform, post_id, user_credentials, settings)
    assert len(fake.calls()) == 1 and sleeps == []


def test_wrong_token_against_the_fake_is_rejected_like_the_platform_does(fake, settings):
    with pytest.raises(AuthExpiredError):
        fetch_post_metrics("tiktok", TT_ID, PlatformCredentials(access_token="stale"), settings)


def test_invalid_youtube_key_is_an_admin_problem(fake, settings):
    with pytest.raises(AuthExpiredError, match="YOUTUBE_API_KEY"):
        fetch_post_metrics("youtube_shorts", YT_ID, PlatformCredentials(api_key="wrong-key"), settings)


def test_instagram_media_gone_between_listing_and_reading_is_not_found(fake, settings, user_credentials):
    fake.add_instagram_media("17900000000001", IG_CODE, views=5)
    fake.script("instagram_media", graph_error(400, 100, "Unsupported get request. Object with ID "
                                                         "'17900000000001' does not exist.", 33))
    with pytest.raises(PostNotFoundError):
        fetch_post_metrics("instagram_reels", IG_CODE, user_credentials, settings)


def test_an_unreadable_success_answer_is_an_error_not_a_crash(fake, settings):
    fake.script("youtube", Scripted(200, "<html>captive portal</html>"))
    with pytest.raises(PlatformError, match="could not read"):
        fetch_post_metrics("youtube_shorts", YT_ID, NO_CREDENTIALS, settings)


def test_other_client_errors_are_reported_with_their_status(fake, settings, sleeps):
    fake.script("youtube", youtube_error(403, "forbidden", "Access forbidden.", domain="global"), PASS)
    with pytest.raises(PlatformError, match=r"HTTP 403") as caught:
        fetch_post_metrics("youtube_shorts", YT_ID, NO_CREDENTIALS, settings)
    assert type(caught.value) is PlatformError
    assert sleeps == []


def test_retry_after_accepts_seconds_and_http_dates():
    from datetime import UTC, datetime

    now = datetime(2026, 11, 23, 12, 0, 0, tzinfo=UTC)
    assert parse_retry_after({"Retry-After": "7"}) == 7.0
    assert parse_retry_after({"Retry-After": "Mon, 23 Nov 2026 12:00:30 GMT"}, now=now) == 30.0
    assert parse_retry_after({"Retry-After": "soon"}) is None
    assert parse_retry_after({}) is None


def test_a_redirect_from_the_api_is_never_followed(fake, settings):
    trap = socket.socket()
    trap.bind(("127.0.0.1", 0))
    trap.listen(1)
    trap.setblocking(False)
    try:
        target = f"http://127.0.0.1:{trap.getsockname()[1]}/youtube/v3/videos"
        fake.script("youtube", Scripted(302, "", {"Location": target}))
        with pytest.raises(PlatformError, match=r"HTTP 302"):
            fetch_post_metrics("youtube_shorts", YT_ID, NO_CREDENTIALS, settings)
        with pytest.raises(BlockingIOError):
            trap.accept()
    finally:
        trap.close()


def test_instagram_batch_keeps_going_past_one_missing_media(fake, settings, user_credentials):
    from app.social.platforms import fetch_many

    fake.add_instagram_media("17900000000001", "GONEGONE1", views=5)
    fake.add_instagram_media("17900000000002", "LIVELIVE2", views=6)
    fake.script("instagram_media", graph_error(400, 100, "Unsupported get request.", 33))
    results = fetch_many("instagram_reels", ["GONEGONE1", "LIVELIVE2"], user_credentials, settings)
    assert isinstance(results["GONEGONE1"], PostNotFoundError)
    assert results["LIVELIVE2"].views == 6
    assert len(fake.calls("instagram_list")) == 1, "one media-list walk serves the whole batch"


def test_instagram_outage_mid_batch_is_reported_for_every_post(fake, settings, sleeps, user_credentials):
    from app.social.platforms import fetch_many

    fake.add_instagram_media("17900000000001", "FIRST0001", views=5)
    fake.add_instagram_media("17900000000002", "SECOND002", views=6)
    fake.script("instagram_media", *[Scripted(503, {"error": {"code": 2, "message": "Service unavailable"}})] * 3)
    results = fetch_many("instagram_reels", ["FIRST0001", "SECOND002"], user_credentials, settings)
    assert all(isinstance(r, PlatformUnavailableError) for r in results.values())
    assert len(fake.calls("instagram_media")) == 3, "no second media is tried during an outage"
