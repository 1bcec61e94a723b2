"""TikTok: ``/@user/video/<id>`` links, and views through the Display API with the clipper's token.

Invariants:
- accepted links: ``tiktok.com``/``www.``/``m.`` ``/@<user>/video/<id>`` with a
  15-25 digit id; ``vm.``/``vt.tiktok.com`` and ``/t/<code>`` short links are refused
  (resolving them would mean fetching a user-supplied URL);
- ``POST /v2/video/query/`` for up to 20 ids a call with the user's bearer token;
  without a token nothing is called (``CredentialsMissingError``);
- the Display API returns only the token owner's own videos, so a returned video
  is the connected account's (``author_id`` = the account's open id) and an id it
  does not return is deleted, private or someone else's: ``PostNotFoundError``;
- error codes come from the body's ``error.code``: ``access_token_invalid`` and
  scope errors mean reconnect, ``rate_limit_exceeded`` is retried.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from app.social.platforms.base import (
    AuthExpiredError,
    CredentialsMissingError,
    PlatformError,
    PlatformHttp,
    PlatformSettings,
    PostNotFoundError,
    RateLimitedError,
    default_error,
    non_negative_int,
)
from app.social.platforms.posts import ParsedPost, PlatformCredentials, PostMetrics, PostUrlError
from app.social.platforms.urls import PostUrl

PLATFORM = "tiktok"
HOSTS = frozenset({"tiktok.com", "www.tiktok.com", "m.tiktok.com"})
SHORT_LINK_HOSTS = frozenset({"vm.tiktok.com", "vt.tiktok.com"})
POST_ID = re.compile(r"[0-9]{15,25}")
USERNAME = re.compile(r"[A-Za-z0-9_.]{2,24}")
BATCH_SIZE = 20
DEFAULT_BASE = "https://open.tiktokapis.com"
QUERY_PATH = "/v2/video/query/"
FIELDS = "id,create_time,view_count,like_count,comment_count"

_AUTH_CODES = {"access_token_invalid", "scope_not_authorized", "scope_permission_missed", "token_expired"}


def parse(url: PostUrl) -> ParsedPost | None:
    segments = url.segments
    if url.host in SHORT_LINK_HOSTS or (segments and segments[0] == "t"):
        raise PostUrlError("short_link")
    if len(segments) != 3 or segments[1] != "video" or not segments[0].startswith("@"):
        return None
    handle, video_id = segments[0][1:], segments[2]
    if not USERNAME.fullmatch(handle) or not POST_ID.fullmatch(video_id):
        return None
    return ParsedPost(PLATFORM, video_id, f"https://www.tiktok.com/@{handle}/video/{video_id}", handle)


def require_credentials(credentials: PlatformCredentials, settings: PlatformSettings) -> None:
    if not credentials.access_token:
        raise CredentialsMissingError(
            "Your TikTok account is not connected, so this post is verified by hand.", platform=PLATFORM)


def fetch_batch(post_ids: list[str], credentials: PlatformCredentials,
                settings: PlatformSettings) -> dict[str, PostMetrics | PlatformError]:
    require_credentials(credentials, settings)
    http = PlatformHttp(PLATFORM, DEFAULT_BASE, settings, interpret_error)
    response = http.request(
        "POST", QUERY_PATH, params={"fields": FIELDS},
        json_body={"filters": {"video_ids": post_ids}},
        headers={"Authorization": f"Bearer {credentials.access_token}"},
    )
    data = response.payload.get("data") or {}
    found = {str(video.get("id")): video for video in data.get("videos") or [] if isinstance(video, dict)}
    results: dict[str, PostMetrics | PlatformError] = {}
    for post_id in post_ids:
        video = found.get(post_id)
        results[post_id] = _metrics(video, credentials) if video else PostNotFoundError(
            "TikTok did not return this video for the connected account: it is deleted, private, "
            "or posted from another account.", platform=PLATFORM)
    return results


def _metrics(video: dict, credentials: PlatformCredentials) -> PostMetrics | PlatformError:
    views = non_negative_int(video.get("view_count"))
    if views is None:
        return PlatformError("TikTok did not report a view count for this video.", platform=PLATFORM)
    created = video.get("create_time")
    published_at = (datetime.fromtimestamp(created, UTC)
                    if isinstance(created, int) and not isinstance(created, bool) else None)
    return PostMetrics(
        views=views,
        likes=non_negative_int(video.get("like_count")),
        comments=non_negative_int(video.get("comment_count")),
        author_id=credentials.platform_user_id,
        published_at=published_at,
    )


def interpret_error(status: int, payload: Any, headers: Mapping[str, str]) -> PlatformError | None:
    error = payload.get("error") if isinstance(payload, dict) else None
    code = error.get("code") if isinstance(error, dict) else None
    if 200 <= status < 300 and code in (None, "ok"):
        return None
    if code in _AUTH_CODES:
        return AuthExpiredError("TikTok no longer accepts the connection; reconnect your TikTok account.",
                                platform=PLATFORM, status=status)
    if code == "rate_limit_exceeded":
        return RateLimitedError("TikTok is limiting how often we can check; we will try again later.",
                                platform=PLATFORM, status=status)
    if 200 <= status < 300:
        return PlatformError(f"TikTok refused the request ({code}).", platform=PLATFORM, status=status)
    return default_error(PLATFORM, status, headers)


def oauth_account(userinfo: dict) -> tuple[str, str] | None:
    """(open id, username) from the Login Kit's ``/v2/user/info/`` answer."""
    user = userinfo["data"]["user"]
    return str(user["open_id"]), str(user["username"])
