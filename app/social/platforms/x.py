"""X (Twitter): status links, and views through API v2 ``public_metrics`` with the user's token.

Invariants:
- accepted links: ``x.com`` and ``twitter.com`` (``www.``, ``mobile.``, ``m.``)
  ``/<user>/status/<id>`` (optionally ``/photo/1``, ``/video/1``, ...),
  ``/i/web/status/<id>`` and ``/i/status/<id>``; ``t.co`` short links are refused;
  the id is 1-19 digits; the canonical link is ``https://x.com/<user>/status/<id>``;
- ``GET /2/tweets`` for up to 100 ids a call with ``public_metrics`` and the
  author expanded; ``impression_count`` is the view count;
- ids reported in ``errors`` (deleted, protected) or missing are ``PostNotFoundError``;
- a 429 is retried after ``x-rate-limit-reset`` when that is within the retry cap,
  else reported with ``retry_after``; a 429 for the monthly usage cap is
  ``QuotaExhaustedError`` and never retried.
"""

from __future__ import annotations

import re
import time
from collections.abc import Mapping
from datetime import datetime
from typing import Any

from app.social.platforms.base import (
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
from app.social.platforms.posts import ParsedPost, PlatformCredentials, PostMetrics, PostUrlError
from app.social.platforms.urls import PostUrl

PLATFORM = "x"
HOSTS = frozenset({
    "x.com", "www.x.com", "mobile.x.com",
    "twitter.com", "www.twitter.com", "mobile.twitter.com", "m.twitter.com",
})
SHORT_LINK_HOSTS = frozenset({"t.co"})
POST_ID = re.compile(r"[0-9]{1,19}")
USERNAME = re.compile(r"[A-Za-z0-9_]{1,15}")
BATCH_SIZE = 100
DEFAULT_BASE = "https://api.x.com"
TWEETS_PATH = "/2/tweets"
_MEDIA_SUFFIXES = {"photo", "video", "analytics", "quotes", "retweets", "likes"}


def parse(url: PostUrl) -> ParsedPost | None:
    if url.host in SHORT_LINK_HOSTS:
        raise PostUrlError("short_link")
    segments = url.segments
    handle = None
    if segments[:3] == ("i", "web", "status") and len(segments) == 4:
        post_id = segments[3]
    elif segments[:2] == ("i", "status") and len(segments) == 3:
        post_id = segments[2]
    elif (len(segments) >= 3 and segments[1] in ("status", "statuses") and segments[0] != "i"
          and USERNAME.fullmatch(segments[0]) and _allowed_suffix(segments[3:])):
        handle, post_id = segments[0], segments[2]
    else:
        return None
    if not POST_ID.fullmatch(post_id):
        return None
    canonical = f"https://x.com/{handle}/status/{post_id}" if handle else f"https://x.com/i/web/status/{post_id}"
    return ParsedPost(PLATFORM, post_id, canonical, handle)


def _allowed_suffix(rest: tuple[str, ...]) -> bool:
    return not rest or (rest[0] in _MEDIA_SUFFIXES and len(rest) <= 2)


def require_credentials(credentials: PlatformCredentials, settings: PlatformSettings) -> None:
    if not credentials.access_token:
        raise CredentialsMissingError(
            "Your X account is not connected, so this post is verified by hand.", platform=PLATFORM)


def fetch_batch(post_ids: list[str], credentials: PlatformCredentials,
                settings: PlatformSettings) -> dict[str, PostMetrics | PlatformError]:
    require_credentials(credentials, settings)
    http = PlatformHttp(PLATFORM, DEFAULT_BASE, settings, interpret_error)
    payload = http.request(
        "GET", TWEETS_PATH,
        params={"ids": ",".join(post_ids), "tweet.fields": "public_metrics,created_at,author_id",
                "expansions": "author_id", "user.fields": "username"},
        headers={"Authorization": f"Bearer {credentials.access_token}"},
    ).payload
    users = {u.get("id"): u.get("username") for u in (payload.get("includes") or {}).get("users") or []
             if isinstance(u, dict)}
    found = {t.get("id"): t for t in payload.get("data") or [] if isinstance(t, dict)}
    results: dict[str, PostMetrics | PlatformError] = {}
    for post_id in post_ids:
        tweet = found.get(post_id)
        results[post_id] = _metrics(tweet, users) if tweet else PostNotFoundError(
            "X says this post does not exist, was deleted, or is from a protected account.", platform=PLATFORM)
    return results


def _metrics(tweet: dict, users: dict) -> PostMetrics | PlatformError:
    public = tweet.get("public_metrics") or {}
    views = non_negative_int(public.get("impression_count"))
    if views is None:
        return PlatformError("X did not report a view count for this post.", platform=PLATFORM)
    author_id = tweet.get("author_id")
    return PostMetrics(
        views=views,
        likes=non_negative_int(public.get("like_count")),
        comments=non_negative_int(public.get("reply_count")),
        author_id=author_id,
        author_handle=users.get(author_id),
        published_at=_timestamp(tweet.get("created_at")),
    )


def _timestamp(value: Any) -> datetime | None:
    try:  # "2024-05-01T12:34:56.000Z"
        parsed = datetime.fromisoformat(value)
    except (TypeError, ValueError):
        return None
    return parsed if parsed.tzinfo else None


def interpret_error(status: int, payload: Any, headers: Mapping[str, str]) -> PlatformError | None:
    if 200 <= status < 300:
        return None
    problem = payload if isinstance(payload, dict) else {}
    if status == 429 and ("usage-capped" in str(problem.get("type", "")) or problem.get("title") == "UsageCapExceeded"):
        return QuotaExhaustedError(
            "Our monthly X API allowance is used up; X checks resume next month. "
            "The post stays in the manual queue until then.", platform=PLATFORM, status=status)
    if status == 429:
        return RateLimitedError("X is limiting how often we can check; we will try again later.",
                                platform=PLATFORM, status=status, retry_after=seconds_until_reset(headers))
    return default_error(PLATFORM, status, headers)


def seconds_until_reset(headers: Mapping[str, str], now: float | None = None) -> float | None:
    """``x-rate-limit-reset`` is the epoch second when the window resets."""
    value = headers.get("x-rate-limit-reset")
    if not value or not value.strip().isdigit():
        return None
    return max(0.0, int(value) - (time.time() if now is None else now))


def oauth_account(userinfo: dict) -> tuple[str, str] | None:
    """(user id, username) from ``/2/users/me``."""
    return str(userinfo["data"]["id"]), str(userinfo["data"]["username"])
