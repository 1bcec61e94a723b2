"""Instagram: reel/post links, and views through the Graph API (Instagram Login) with the user's token.

Invariants:
- accepted links: ``instagram.com``/``www.``/``m.`` (and ``instagr.am``)
  ``/reel/<code>``, ``/reels/<code>``, ``/p/<code>``, ``/tv/<code>`` and
  ``/<user>/reel|p/<code>``; ``/share/...`` links are short links (they redirect)
  and are refused; the post id is the shortcode ``[A-Za-z0-9_-]{5,40}``;
- the Graph API addresses media by numeric id, not shortcode: a shortcode is
  resolved through the connected account's own media list
  (``/me/media?fields=id,shortcode``, following ``after`` cursors for at most
  ``MAX_MEDIA_PAGES`` pages). A shortcode not in that list is not the clipper's
  post (or is too old to be listed): ``PostNotFoundError``;
- per media: ``/{id}?fields=like_count,comments_count,timestamp,username,...``
  and ``/{id}/insights?metric=views``; the token goes in the Authorization
  header, never the URL;
- Graph errors come from ``error.code``: 190 = token expired (reconnect);
  4/17/32/613 = rate limit — an hourly budget, so ``QuotaExhaustedError`` with
  ``retry_after`` from the usage headers, not an in-process retry; 100/33 = gone.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from datetime import datetime
from typing import Any

from app.social.platforms.base import (
    AuthExpiredError,
    CredentialsMissingError,
    PlatformError,
    PlatformHttp,
    PlatformSettings,
    PlatformUnavailableError,
    PostNotFoundError,
    QuotaExhaustedError,
    default_error,
    non_negative_int,
)
from app.social.platforms.posts import ParsedPost, PlatformCredentials, PostMetrics, PostUrlError
from app.social.platforms.urls import PostUrl

PLATFORM = "instagram_reels"
HOSTS = frozenset({"instagram.com", "www.instagram.com", "m.instagram.com", "instagr.am", "www.instagr.am"})
SHORT_LINK_HOSTS: frozenset[str] = frozenset()
POST_ID = re.compile(r"[A-Za-z0-9_-]{5,40}")
USERNAME = re.compile(r"[A-Za-z0-9_.]{1,30}")
BATCH_SIZE = 50  # one media-list walk serves the whole batch
DEFAULT_BASE = "https://graph.instagram.com"
GRAPH_VERSION = "v23.0"
MEDIA_FIELDS = "id,shortcode,like_count,comments_count,timestamp,username,permalink"
MAX_MEDIA_PAGES = 10
MEDIA_PAGE_SIZE = 100

_POST_KINDS = {"reel": "reel", "reels": "reel", "p": "p", "tv": "reel"}
_RATE_LIMIT_CODES = {4, 17, 32, 613}
_TRANSIENT_CODES = {1, 2}


def parse(url: PostUrl) -> ParsedPost | None:
    segments = url.segments
    if segments and segments[0] == "share":
        raise PostUrlError("short_link")
    handle = None
    if len(segments) == 3 and USERNAME.fullmatch(segments[0]) and segments[1] in ("reel", "p"):
        handle, segments = segments[0], segments[1:]
    if len(segments) != 2 or segments[0] not in _POST_KINDS or not POST_ID.fullmatch(segments[1]):
        return None
    kind, shortcode = _POST_KINDS[segments[0]], segments[1]
    return ParsedPost(PLATFORM, shortcode, f"https://www.instagram.com/{kind}/{shortcode}/", handle)


def require_credentials(credentials: PlatformCredentials, settings: PlatformSettings) -> None:
    if not credentials.access_token:
        raise CredentialsMissingError(
            "Your Instagram account is not connected, so this post is verified by hand.", platform=PLATFORM)


def fetch_batch(post_ids: list[str], credentials: PlatformCredentials,
                settings: PlatformSettings) -> dict[str, PostMetrics | PlatformError]:
    require_credentials(credentials, settings)
    http = PlatformHttp(PLATFORM, DEFAULT_BASE, settings, interpret_error)
    headers = {"Authorization": f"Bearer {credentials.access_token}"}
    media_ids = resolve_shortcodes(http, headers, set(post_ids))
    results: dict[str, PostMetrics | PlatformError] = {}
    for shortcode in post_ids:
        media_id = media_ids.get(shortcode)
        if media_id is None:
            results[shortcode] = PostNotFoundError(
                "This post is not among the connected Instagram account's posts: it is deleted, "
                "private, or posted from another account.", platform=PLATFORM)
            continue
        try:
            results[shortcode] = _fetch_media(http, headers, media_id)
        except PlatformError as error:
            if not (isinstance(error, PostNotFoundError) or type(error) is PlatformError):
                raise  # auth, quota, outage: the whole batch is affected; fetch_many reports it for every post
            results[shortcode] = error
    return results


def resolve_shortcodes(http: PlatformHttp, headers: dict[str, str], shortcodes: set[str]) -> dict[str, str]:
    """Map shortcodes to media ids by walking the account's media list (newest first)."""
    found: dict[str, str] = {}
    params: dict[str, Any] = {"fields": "id,shortcode", "limit": MEDIA_PAGE_SIZE}
    for _page in range(MAX_MEDIA_PAGES):
        payload = http.request("GET", f"/{GRAPH_VERSION}/me/media", params=params, headers=headers).payload
        for media in payload.get("data") or []:
            if isinstance(media, dict) and media.get("shortcode") in shortcodes:
                found[media["shortcode"]] = str(media.get("id"))
        paging = payload.get("paging") or {}
        after = (paging.get("cursors") or {}).get("after")
        if found.keys() >= shortcodes or not after or not paging.get("next"):
            break
        params = {**params, "after": after}
    return found


def _fetch_media(http: PlatformHttp, headers: dict[str, str], media_id: str) -> PostMetrics | PlatformError:
    media = http.request("GET", f"/{GRAPH_VERSION}/{media_id}", params={"fields": MEDIA_FIELDS},
                         headers=headers).payload
    insights = http.request("GET", f"/{GRAPH_VERSION}/{media_id}/insights", params={"metric": "views"},
                            headers=headers).payload
    views = None
    for metric in insights.get("data") or []:
        if isinstance(metric, dict) and metric.get("name") == "views":
            values = metric.get("values") or [{}]
            views = non_negative_int(values[0].get("value") if isinstance(values[0], dict) else None)
    if views is None:
        return PlatformError("Instagram did not report a view count for this post.", platform=PLATFORM)
    return PostMetrics(
        views=views,
        likes=non_negative_int(media.get("like_count")),
        comments=non_negative_int(media.get("comments_count")),
        author_handle=media.get("username") or None,
        published_at=_timestamp(media.get("timestamp")),
    )


def _timestamp(value: Any) -> datetime | None:
    try:  # Graph API: "2024-05-01T12:34:56+0000"
        parsed = datetime.strptime(value, "%Y-%m-%dT%H:%M:%S%z")
    except (TypeError, ValueError):
        return None
    return parsed


def interpret_error(status: int, payload: Any, headers: Mapping[str, str]) -> PlatformError | None:
    if 200 <= status < 300:
        return None
    error = payload.get("error") if isinstance(payload, dict) else None
    code = error.get("code") if isinstance(error, dict) else None
    subcode = error.get("error_subcode") if isinstance(error, dict) else None
    if code == 190:
        return AuthExpiredError("Instagram no longer accepts the connection; reconnect your Instagram account.",
                                platform=PLATFORM, status=status)
    if code in _RATE_LIMIT_CODES:
        return QuotaExhaustedError(
            "Instagram's hourly limit for view checks is used up; checks resume when it resets. "
            "The post stays in the manual queue until then.",
            platform=PLATFORM, status=status, retry_after=seconds_until_access_regained(headers))
    if code == 100 and subcode == 33:
        return PostNotFoundError("Instagram says this post does not exist or is not visible.",
                                 platform=PLATFORM, status=status)
    if code in _TRANSIENT_CODES:
        return PlatformUnavailableError("Instagram is not answering right now; we will try again later.",
                                        platform=PLATFORM, status=status)
    return default_error(PLATFORM, status, headers)


def seconds_until_access_regained(headers: Mapping[str, str]) -> float | None:
    """``X-Business-Use-Case-Usage`` carries ``estimated_time_to_regain_access`` in minutes."""
    try:
        usage = json.loads(headers.get("X-Business-Use-Case-Usage") or "{}")
    except ValueError:
        return None
    minutes = [entry.get("estimated_time_to_regain_access")
               for entries in (usage.values() if isinstance(usage, dict) else [])
               for entry in (entries if isinstance(entries, list) else []) if isinstance(entry, dict)]
    minutes = [m for m in minutes if isinstance(m, int | float) and not isinstance(m, bool)]
    return max(minutes) * 60.0 if minutes else None


def oauth_account(userinfo: dict) -> tuple[str, str] | None:
    """(Instagram user id, username) from ``/me``."""
    return str(userinfo.get("user_id") or userinfo["id"]), str(userinfo["username"])
