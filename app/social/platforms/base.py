"""HTTP plumbing shared by the platform clients: errors, settings, retries.

Invariants:
- every call has explicit timeouts (connect 3 s, read 10 s by default), never
  follows a redirect, and goes only to the platform's fixed API host (or to
  ``PLATFORM_API_BASE`` when set — tests point that at a local fake);
- 429, 500/502/503/504, timeouts and connection errors are retried, at most
  ``max_attempts`` calls in all, waiting exponential backoff with jitter, or the
  server's ``Retry-After`` when it gives one; a server that asks for a longer
  wait than ``max_retry_wait`` is not waited for (the error carries
  ``retry_after`` so a job can come back later);
- quota exhaustion, expired auth, missing posts and other 4xx are never retried;
- the sleep and jitter functions are injectable, so tests never sleep for real;
- each attempt is logged (platform, method, path, status, attempt) — never the
  query string, a token or an API key (keys travel in headers, not URLs);
- every failure is a ``PlatformError`` whose ``reason`` a user or admin can read.
"""

from __future__ import annotations

import os
import random
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import Any

import requests
import structlog

from app.social.platforms.posts import platform_label

log = structlog.get_logger(__name__)

RETRYABLE_STATUSES = frozenset({429, 500, 502, 503, 504})
USER_AGENT = "ContentFlow/1.0 (+views verification)"


class PlatformError(Exception):
    """A platform call failed; ``reason`` is safe to show a clipper or an admin."""

    retryable = False

    def __init__(self, reason: str, *, platform: str | None = None, status: int | None = None,
                 retry_after: float | None = None):
        super().__init__(reason)
        self.reason = reason
        self.platform = platform
        self.http_status = status  # the HTTP status the platform answered with
        self.retry_after = retry_after


class CredentialsMissingError(PlatformError):
    """No API key, or the clipper has not connected the account: the post stays on the manual queue."""


class QuotaExhaustedError(PlatformError):
    """The daily/monthly quota is used up; do not call again before ``retry_after`` (if known)."""


class RateLimitedError(PlatformError):
    """Too many calls right now, still so after our retries."""

    retryable = True


class PostNotFoundError(PlatformError):
    """The post is deleted, private, or not visible to these credentials."""


class PlatformUnavailableError(PlatformError):
    """The platform failed (5xx, timeout, connection refused), still so after our retries."""

    retryable = True


class AuthExpiredError(PlatformError):
    """The token (or key) was rejected: it must be refreshed or the account reconnected."""


@dataclass(frozen=True)
class PlatformSettings:
    api_base: str | None = None
    youtube_api_key: str | None = None
    connect_timeout: float = 3.0
    read_timeout: float = 10.0
    max_attempts: int = 3
    backoff_base: float = 1.0
    max_retry_wait: float = 30.0
    sleep: Callable[[float], None] = time.sleep
    jitter: Callable[[], float] = random.random

    @classmethod
    def from_config(cls, config: Mapping[str, Any]) -> PlatformSettings:
        return cls(api_base=config.get("PLATFORM_API_BASE"), youtube_api_key=config.get("YOUTUBE_API_KEY"))

    def base_url(self, default: str) -> str:
        return (self.api_base or default).rstrip("/")

    def backoff(self, attempt: int) -> float:
        """Wait before attempt ``attempt + 1``: base * 2^(attempt-1), scaled into [50 %, 100 %) by jitter."""
        return self.backoff_base * 2 ** (attempt - 1) * (0.5 + self.jitter() / 2)


@dataclass(frozen=True)
class PlatformResponse:
    status: int
    payload: Any
    headers: Mapping[str, str]


# Reads (status, JSON payload or None, headers) and returns the error it means, or None for success.
ErrorInterpreter = Callable[[int, Any, Mapping[str, str]], PlatformError | None]

_SESSIONS: dict[tuple[int, str], requests.Session] = {}


def shared_session(platform: str) -> requests.Session:
    """One pooled session per platform and process (a forked worker must not share sockets)."""
    key = (os.getpid(), platform)
    session = _SESSIONS.get(key)
    if session is None:
        session = requests.Session()
        session.headers["User-Agent"] = USER_AGENT
        _SESSIONS[key] = session
    return session


def parse_retry_after(headers: Mapping[str, str], now: datetime | None = None) -> float | None:
    """Seconds from a ``Retry-After`` header (delta-seconds or HTTP date), or None."""
    value = headers.get("Retry-After")
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(0.0, (when - (now or datetime.now(UTC))).total_seconds())


def default_error(platform: str, status: int, headers: Mapping[str, str]) -> PlatformError | None:
    """What a bare HTTP status means when the body says nothing more specific."""
    label = platform_label(platform)
    if 200 <= status < 300:
        return None
    if status == 429:
        return RateLimitedError(f"{label} is limiting how often we can check; we will try again later.",
                                platform=platform, status=status, retry_after=parse_retry_after(headers))
    if status in RETRYABLE_STATUSES or status >= 500:
        return PlatformUnavailableError(f"{label} is not answering right now; we will try again later.",
                                        platform=platform, status=status, retry_after=parse_retry_after(headers))
    if status == 401:
        return AuthExpiredError(f"{label} no longer accepts the connection; reconnect the account.",
                                platform=platform, status=status)
    if status == 404:
        return PostNotFoundError(f"{label} says this post does not exist or is not public.",
                                 platform=platform, status=status)
    return PlatformError(f"{label} refused the request (HTTP {status}).", platform=platform, status=status)


class PlatformHttp:
    """Calls one platform's API with timeouts and retries; ``interpret`` maps answers to errors."""

    def __init__(self, platform: str, default_base: str, settings: PlatformSettings, interpret: ErrorInterpreter):
        self.platform = platform
        self.base = settings.base_url(default_base)
        self.settings = settings
        self.interpret = interpret
        self.session = shared_session(platform)

    def request(self, method: str, path: str, *, params: Mapping[str, Any] | None = None,
                json_body: Any = None, headers: Mapping[str, str] | None = None) -> PlatformResponse:
        settings = self.settings
        for attempt in range(1, settings.max_attempts + 1):
            outcome = self._attempt(method, path, params, json_body, headers, attempt)
            if isinstance(outcome, PlatformResponse):
                return outcome
            error = outcome
            if not error.retryable or attempt == settings.max_attempts:
                raise error
            wait = error.retry_after if error.retry_after is not None else settings.backoff(attempt)
            if wait > settings.max_retry_wait:
                raise error
            log.info("platform_call_retry", platform=self.platform, path=path, attempt=attempt, wait_s=round(wait, 3))
            settings.sleep(wait)
        raise AssertionError("unreachable: the loop returns or raises")  # pragma: no cover

    def _attempt(self, method, path, params, json_body, headers, attempt) -> PlatformResponse | PlatformError:
        started = time.monotonic()
        try:
            response = self.session.request(
                method, self.base + path, params=params, json=json_body, headers=headers,
                timeout=(self.settings.connect_timeout, self.settings.read_timeout), allow_redirects=False,
            )
        except requests.RequestException as exc:
            log.warning("platform_call_failed", platform=self.platform, method=method, path=path, attempt=attempt,
                        error=type(exc).__name__, elapsed_ms=_elapsed_ms(started))
            return PlatformUnavailableError(
                f"{platform_label(self.platform)} did not answer in time; we will try again later.",
                platform=self.platform,
            )
        log.info("platform_call", platform=self.platform, method=method, path=path, status=response.status_code,
                 attempt=attempt, elapsed_ms=_elapsed_ms(started))
        try:
            payload = response.json()
        except ValueError:
            payload = None
        error = self.interpret(response.status_code, payload, response.headers)
        if error is None and payload is None:
            error = PlatformError(f"{platform_label(self.platform)} sent an answer we could not read.",
                                  platform=self.platform, status=response.status_code)
        if error is not None:
            if error.retry_after is None and error.retryable:
                error.retry_after = parse_retry_after(response.headers)
            return error
        return PlatformResponse(response.status_code, payload, response.headers)


def _elapsed_ms(started: float) -> int:
    return int((time.monotonic() - started) * 1000)


def non_negative_int(value: Any) -> int | None:
    """Platforms send counts as ints or numeric strings (YouTube); anything else is unknown."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value if value >= 0 else None
    if isinstance(value, str) and value.isdigit():
        return int(value)
    return None
