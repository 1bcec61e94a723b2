"""Platform registry: parse post links, fetch post metrics, check ownership.

Invariants:
- ``parse_post_url`` is pure string work: it never resolves a name or opens a
  connection, and it either returns a ``ParsedPost`` built from validated parts
  or raises ``PostUrlError`` (a ``ValidationError``) whose message tells the user
  what to paste instead;
- the platforms are the entries of ``registry.REGISTRY``; each has one client
  module (``tiktok``, ``youtube``, ``instagram``, ``x``), loaded here from the
  entry's dotted path, exposing ``PLATFORM, HOSTS, SHORT_LINK_HOSTS, POST_ID,
  BATCH_SIZE, parse(), require_credentials(), fetch_batch(), oauth_account()``;
  a host belongs to exactly one platform;
- ``fetch_many`` answers every requested id — with ``PostMetrics`` or the
  ``PlatformError`` for that id — and calls the API in chunks of the
  platform's batch size; once a chunk fails as a whole (quota, auth, outage) the
  remaining chunks get the same error without further calls; missing
  credentials make no HTTP call at all;
- ``check_ownership`` is a pure function of what the platform reported.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from importlib import import_module
from types import ModuleType

from flask import current_app, has_app_context

from app.social.platforms import registry
from app.social.platforms.base import (
    AuthExpiredError,
    CredentialsMissingError,
    PlatformError,
    PlatformSettings,
    PlatformUnavailableError,
    PostNotFoundError,
    QuotaExhaustedError,
    RateLimitedError,
)
from app.social.platforms.posts import (
    PLATFORM_LABELS,
    PLATFORMS,
    ParsedPost,
    PlatformCredentials,
    PostMetrics,
    PostUrlError,
    platform_label,
)
from app.social.platforms.urls import split_post_url

__all__ = [
    "PLATFORMS", "PLATFORM_LABELS", "platform_label", "ParsedPost", "PostMetrics", "PlatformCredentials",
    "PostUrlError", "PlatformSettings", "PlatformError", "CredentialsMissingError", "QuotaExhaustedError",
    "RateLimitedError", "PostNotFoundError", "PlatformUnavailableError", "AuthExpiredError",
    "parse_post_url", "fetch_post_metrics", "fetch_many", "check_ownership", "current_settings",
    "registry", "client", "USER_TOKEN_PLATFORMS",
]

MODULES: dict[str, ModuleType] = {platform.key: import_module(platform.client) for platform in registry.REGISTRY}
assert all(key == module.PLATFORM for key, module in MODULES.items()), "a client module serves its own key"
_MODULE_BY_HOST: dict[str, ModuleType] = {
    host: module for module in MODULES.values() for host in module.HOSTS | module.SHORT_LINK_HOSTS
}
assert len(_MODULE_BY_HOST) == sum(len(m.HOSTS | m.SHORT_LINK_HOSTS) for m in MODULES.values()), \
    "a host belongs to exactly one platform"
# Platforms whose API is called with the clipper's own token (one check job per clipper).
USER_TOKEN_PLATFORMS: frozenset[str] = registry.USER_TOKEN_KEYS


def client(platform: str) -> ModuleType:
    """The client module of ``platform`` (URL parser, metrics, OAuth account reader)."""
    return MODULES[platform]


def parse_post_url(url: str, allowed_platforms: Iterable[str] | None = None) -> ParsedPost:
    """Read a submitted link as (platform, post id); ``allowed_platforms`` = the campaign's targets."""
    allowed = tuple(allowed_platforms) if allowed_platforms is not None else PLATFORMS
    unknown = set(allowed) - set(PLATFORMS)
    if unknown:
        raise ValueError(f"unknown platforms: {sorted(unknown)}")
    post_url = split_post_url(url)
    module = _MODULE_BY_HOST.get(post_url.host)
    if module is None:
        raise PostUrlError("other_site")
    parsed = module.parse(post_url)
    if parsed is None:
        raise PostUrlError("not_a_post")
    if parsed.platform not in allowed:
        raise PostUrlError(
            "platform_not_targeted", platform=platform_label(parsed.platform),
            allowed=", ".join(platform_label(p) for p in PLATFORMS if p in allowed) or "none",
        )
    return parsed


def current_settings() -> PlatformSettings:
    """Settings from the Flask app when there is one (jobs, requests), else the real hosts, no key."""
    return PlatformSettings.from_config(current_app.config) if has_app_context() else PlatformSettings()


def fetch_many(platform: str, post_ids: Iterable[str], credentials: PlatformCredentials,
               settings: PlatformSettings | None = None) -> dict[str, PostMetrics | PlatformError]:
    """Metrics for many posts of one platform and one set of credentials, batched per API limits."""
    module = MODULES[platform]
    settings = settings or current_settings()
    results: dict[str, PostMetrics | PlatformError] = {}
    valid: list[str] = []
    for post_id in dict.fromkeys(post_ids):
        if isinstance(post_id, str) and module.POST_ID.fullmatch(post_id):
            valid.append(post_id)
        else:
            results[post_id] = PostNotFoundError(
                f"This is not a valid {platform_label(platform)} post id.", platform=platform)
    try:
        module.require_credentials(credentials, settings)
    except CredentialsMissingError as error:
        return {**results, **dict.fromkeys(valid, error)}
    chunks = [valid[i:i + module.BATCH_SIZE] for i in range(0, len(valid), module.BATCH_SIZE)]
    batch_error: PlatformError | None = None
    for chunk in chunks:
        if batch_error is None:
            try:
                results.update(module.fetch_batch(chunk, credentials, settings))
                continue
            except PlatformError as error:
                batch_error = error
        results.update(dict.fromkeys(chunk, batch_error))
    return results


def fetch_post_metrics(platform: str, post_id: str, credentials: PlatformCredentials,
                       settings: PlatformSettings | None = None) -> PostMetrics:
    """Metrics for one post; raises the ``PlatformError`` that explains why there are none."""
    result = fetch_many(platform, [post_id], credentials, settings)[post_id]
    if isinstance(result, PlatformError):
        raise result
    return result


def check_ownership(metrics: PostMetrics, expected_handle: str | None, approved_at: datetime,
                    *, expected_author_id: str | None = None) -> list[str]:
    """Fraud signals from what the platform reported about a post (empty list = nothing to flag).

    - ``ownership_mismatch``: the platform reports an author handle (compared
      without ``@`` and case-insensitively) or author id that differs from the
      clipper's connected account;
    - ``published_before_approval``: the post went up before the clipper's
      application was approved, so it was not made for this campaign.
    Nothing is flagged for facts the platform does not report.
    """
    if approved_at.tzinfo is None:
        raise ValueError("approved_at must be timezone-aware")
    signals: list[str] = []
    handle_differs = bool(metrics.author_handle and expected_handle
                          and _handle(metrics.author_handle) != _handle(expected_handle))
    id_differs = bool(metrics.author_id and expected_author_id and metrics.author_id != expected_author_id)
    if handle_differs or id_differs:
        signals.append("ownership_mismatch")
    if metrics.published_at is not None and metrics.published_at < approved_at:
        signals.append("published_before_approval")
    return signals


def _handle(handle: str) -> str:
    return handle.strip().lstrip("@").casefold()
