"""Jobs used by the job-system tests. They run in a real RQ worker process."""

from __future__ import annotations

from flask import current_app

from app.accounts.models import User
from app.extensions import db
from app.jobs import redis_connection


def record_marker(key: str) -> int:
    """Count a run under ``key`` (proves the job ran, and how often)."""
    assert current_app, "jobs run inside an app context"
    return redis_connection().incr(key)


def record_user_email(user_id: int, key: str) -> str:
    """Read a committed row in the worker's own session."""
    user = db.session.get(User, user_id)
    value = user.email if user else "missing"
    redis_connection().set(key, value)
    return value


def fail_once(key: str) -> int:
    """Fail on the first run, succeed on the retry."""
    runs = redis_connection().incr(key)
    if runs == 1:
        raise RuntimeError("first attempt fails on purpose")
    return runs
