"""YouTube: Shorts/watch/youtu.be links, and views through the Data API v3 with the app's API key.

Invariants:
- accepted links: ``youtube.com``/``www.``/``m.`` ``/shorts/<id>`` and
  ``/watch?v=<id>`` and ``youtu.be/<id>``; the id is exactly 11 of
  ``[A-Za-z0-9_-]``; the canonical link is ``https://www.youtube.com/shorts/<id>``;
- ``videos.list?part=statistics,snippet`` for up to 50 ids a call (1 quota unit
  per call); the key goes in the ``X-Goog-Api-Key`` header, never in the URL;
- an id that the API does not return is deleted or private: ``PostNotFoundError``;
- ``quotaExceeded`` is ``QuotaExhaustedError`` with ``retry_after`` = seconds to the
  daily reset (midnight Pacific time); ``rateLimitExceeded`` is retried;
- YouTube reports the channel id (``author_id``), not the @handle.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from app.social.platforms.base import (
    AuthExpiredError,
    CredentialsMissingError,
    PlatformError,
    PlatformHttp,
    PlatformSettings,
    PostNotFoundError,
    QuotaExhaustedError,
    RateLimitedError,
    default_error,
    non_negative_int,
)
from app.social.platforms.posts import ParsedPost, PlatformCredentials, PostMetrics
from app.social.platforms.urls import PostUrl

PLATFORM = "youtube_shorts"
HOSTS = frozenset({"youtube.com", "www.youtube.com", "m.youtube.com", "youtu.be"})
SHORT_LINK_HOSTS: frozenset[str] = frozenset()
POST_ID = re.compile(r"[A-Za-z0-9_-]{11}")
BATCH_SIZE = 50
DEFAULT_BASE = "https://www.googleapis.com"
VIDEOS_PATH = "/youtube/v3/videos"

_QUOTA_REASONS = {"quotaExceeded", "dailyLimitExceeded"}
_RATE_REASONS = {"rateLimitExceeded", "userRateLimitExceeded"}
_KEY_REASONS = {"keyInvalid", "keyExpired", "API_KEY_INVALID"}


def parse(url: PostUrl) -> ParsedPost | None:
    segments = url.segments
    if url.host == "youtu.be":
        video_id = segments[0] if len(segments) == 1 else None
    elif len(segments) == 2 and segments[0] == "shorts":
        video_id = segments[1]
    elif segments == ("watch",):
        video_id = url.query_value("v")
    else:
        video_id = None
    if video_id is None or not POST_ID.fullmatch(video_id):
        return None
    return ParsedPost(PLATFORM, video_id, f"https://www.youtube.com/shorts/{video_id}")


def api_key(credentials: PlatformCredentials, settings: PlatformSettings) -> str:
    key = credentials.api_key or settings.youtube_api_key
    if not key:
        raise CredentialsMissingError(
            "YouTube checks are not set up (no API key); the post is verified by hand.", platform=PLATFORM)
    return key


def require_credentials(credentials: PlatformCredentials, settings: PlatformSettings) -> None:
    api_key(credentials, settings)


def fetch_batch(post_ids: list[str], credentials: PlatformCredentials,
                settings: PlatformSettings) -> dict[str, PostMetrics | PlatformError]:
    http = PlatformHttp(PLATFORM, DEFAULT_BASE, settings, interpret_error)
    response = http.request(
        "GET", VIDEOS_PATH,
        params={"part": "statistics,snippet", "id": ",".join(post_ids), "maxResults": BATCH_SIZE},
        headers={"X-Goog-Api-Key": api_key(credentials, settings)},
    )
    found = {item.get("id"): item for item in response.payload.get("items") or [] if isinstance(item, dict)}
    results: dict[str, PostMetrics | PlatformError] = {}
    for post_id in post_ids:
        item = found.get(post_id)
        results[post_id] = _metrics(item) if item else PostNotFoundError(
            "YouTube says this video does not exist or is private.", platform=PLATFORM)
    return results


def _metrics(item: dict) -> PostMetrics | PlatformError:
    statistics = item.get("statistics") or {}
    snippet = item.get("snippet") or {}
    views = non_negative_int(statistics.get("viewCount"))
    if views is None:
        return PlatformError("YouTube did not report a view count for this video.", platform=PLATFORM)
    return PostMetrics(
        views=views,
        likes=non_negative_int(statistics.get("likeCount")),  # absent when the owner hides likes
        comments=non_negative_int(statistics.get("commentCount")),  # absent when comments are off
        author_id=snippet.get("channelId") or None,
        published_at=_timestamp(snippet.get("publishedAt")),
    )


def _timestamp(value: Any) -> datetime | None:
    try:
        parsed = datetime.fromisoformat(value)
    except (TypeError, ValueError):
        return None
    return parsed if parsed.tzinfo else None


def interpret_error(status: int, payload: Any, headers: Mapping[str, str]) -> PlatformError | None:
    if 200 <= status < 300:
        return None
    error = payload.get("error") if isinstance(payload, dict) else None
    error = error if isinstance(error, dict) else {}
    # Reasons sit in error.errors[] (quotaExceeded) and, for key problems, in error.details[] (API_KEY_INVALID).
    entries = [*(error.get("errors") or []), *(error.get("details") or [])]
    reasons = {entry.get("reason") for entry in entries if isinstance(entry, dict)}
    if reasons & _QUOTA_REASONS:
        return QuotaExhaustedError(
            "YouTube's daily quota for view checks is used up; checks resume after it resets "
            "(midnight Pacific time). The post stays in the manual queue until then.",
            platform=PLATFORM, status=status, retry_after=seconds_until_quota_reset())
    if reasons & _RATE_REASONS:
        return RateLimitedError("YouTube is limiting how often we can check; we will try again later.",
                                platform=PLATFORM, status=status)
    if reasons & _KEY_REASONS:
        return AuthExpiredError("YouTube rejected our API key; an admin must check YOUTUBE_API_KEY.",
                                platform=PLATFORM, status=status)
    return default_error(PLATFORM, status, headers)


def seconds_until_quota_reset(now: datetime | None = None) -> float | None:
    """The Data API's daily quota resets at midnight America/Los_Angeles."""
    try:
        pacific = ZoneInfo("America/Los_Angeles")
    except ZoneInfoNotFoundError:  # no tz database in this image: the reset time is unknown
        return None
    local_now = (now or datetime.now(pacific)).astimezone(pacific)
    next_midnight = datetime.combine(local_now.date() + timedelta(days=1), datetime.min.time(), tzinfo=pacific)
    return (next_midnight - local_now).total_seconds()


def oauth_account(userinfo: dict) -> tuple[str, str] | None:
    """(channel id, custom URL handle) of the signed-in Google account's channel; None: no channel."""
    items = userinfo.get("items") or []
    if not items:
        return None
    return str(items[0]["id"]), str(items[0]["snippet"]["customUrl"])
