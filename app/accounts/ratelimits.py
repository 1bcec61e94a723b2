"""Account-level rate limits on Flask-Limiter's storage (Redis when REDIS_URL is set).

Flask-Limiter's decorators key a route on one thing (the IP); these rules key
on several at once — the account, the IP and the phone number — and only the
caller knows the account or phone. Invariants: a check tests every key before
hitting any (a blocked request spends nobody's budget); the message says when
to try again; with RATELIMIT_ENABLED off nothing is limited.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

from flask import current_app
from limits import parse_many

from app.errors import DomainError
from app.extensions import limiter

# Sending a code (first send and resends): once a minute and 5 an hour, per key, counted
# per purpose (scope "otp-signup", "otp-reset", "otp-step-up", "otp-email-change", ...).
CODE_SENDS = "1 per minute;5 per hour"
# Switching channel after a failed delivery: no minute wait, same hourly budget.
CODE_SENDS_AFTER_FAILURE = "5 per hour"
# Failed sign-ins: 10 per 15 minutes, per account and per IP.
FAILED_LOGINS = "10 per 15 minutes"


class RateLimitedError(DomainError):
    status_code = 429
    title = "Slow down"

    def __init__(self, message: str, retry_after: int):
        super().__init__(message)
        self.retry_after = retry_after


@dataclass(frozen=True)
class Key:
    kind: str  # "account", "ip", "phone", "email"
    value: str


def _describe(seconds: int) -> str:
    if seconds < 90:
        return f"{max(seconds, 1)} seconds"
    return f"{round(seconds / 60)} minutes"


def _blocked(rule: str, scope: str, keys: list[Key]) -> int | None:
    """Seconds until every key is under every limit again, or None if nothing is blocked."""
    wait = None
    for item in parse_many(rule):
        for key in keys:
            if not limiter.limiter.test(item, scope, key.kind, key.value):
                stats = limiter.limiter.get_window_stats(item, scope, key.kind, key.value)
                seconds = max(int(stats.reset_time - time.time()), 1)
                wait = max(wait or 0, seconds)
    return wait


def enforce(rule: str, scope: str, keys: list[Key], message: str) -> None:
    """Raise RateLimitedError if any key is over ``rule``; otherwise count one hit on each."""
    if not current_app.config.get("RATELIMIT_ENABLED", True):
        return
    keys = [key for key in keys if key.value]
    wait = _blocked(rule, scope, keys)
    if wait is not None:
        raise RateLimitedError(f"{message} Try again in {_describe(wait)}.", retry_after=wait)
    for item in parse_many(rule):
        for key in keys:
            limiter.limiter.hit(item, scope, key.kind, key.value)


def check(rule: str, scope: str, keys: list[Key], message: str) -> None:
    """Raise RateLimitedError if any key is over ``rule``, without counting a hit."""
    if not current_app.config.get("RATELIMIT_ENABLED", True):
        return
    wait = _blocked(rule, scope, [key for key in keys if key.value])
    if wait is not None:
        raise RateLimitedError(f"{message} Try again in {_describe(wait)}.", retry_after=wait)


def hit(rule: str, scope: str, keys: list[Key]) -> None:
    if not current_app.config.get("RATELIMIT_ENABLED", True):
        return
    for item in parse_many(rule):
        for key in keys:
            if key.value:
                limiter.limiter.hit(item, scope, key.kind, key.value)
