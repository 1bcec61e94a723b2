"""Readiness checks: can this process reach what it needs?

Invariant: each check is bounded by a short timeout, so /readyz answers fast
even when a dependency hangs, and a failure names the dependency, not secrets.
"""

from __future__ import annotations

import structlog
from flask import current_app
from redis import Redis
from sqlalchemy import text

from app.extensions import db

log = structlog.get_logger(__name__)


def check_database() -> tuple[bool, str]:
    try:
        db.session.execute(text("SELECT 1"))
        db.session.rollback()
        return True, "ok"
    except Exception as exc:  # any driver error means "not ready"
        db.session.rollback()
        log.warning("readyz_database_failed", error=type(exc).__name__)
        return False, "unreachable"


def check_redis() -> tuple[bool, str]:
    url = current_app.config.get("REDIS_URL")
    if not url:
        return True, "not configured (embedded mode)"
    # A separate short-timeout client: the shared one retries and may wait longer.
    client = Redis.from_url(url, socket_connect_timeout=1, socket_timeout=1)
    try:
        client.ping()
        return True, "ok"
    except Exception as exc:
        log.warning("readyz_redis_failed", error=type(exc).__name__)
        return False, "unreachable"
    finally:
        client.close()


def readiness() -> tuple[bool, dict[str, str]]:
    checks = {}
    ok = True
    for name, check in (("database", check_database), ("redis", check_redis)):
        passed, detail = check()
        checks[name] = detail
        ok = ok and passed
    return ok, checks
