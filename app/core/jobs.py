"""Core periodic jobs."""

from __future__ import annotations

from app.db import utcnow
from app.jobs import redis_connection

HEARTBEAT_KEY = "contentflow:cron:heartbeat"


def record_cron_heartbeat() -> str:
    """Store when cron last ran, so operators (and /readyz) can tell it is alive."""
    stamp = utcnow().isoformat()
    conn = redis_connection()
    if conn is not None:
        conn.set(HEARTBEAT_KEY, stamp, ex=3600)
    return stamp
