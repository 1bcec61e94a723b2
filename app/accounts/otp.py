"""One-time codes: issue, deliver (RQ job on the ``otp`` queue), check.

Invariants:
- a code is 6 digits from ``secrets``; the database keeps only an HMAC-SHA256
  of (user, purpose, code) keyed by SECRET_KEY, so a code for one user or
  purpose never matches another, and a dump reveals nothing usable;
- only the newest code of a (user, purpose) is live; issuing one supersedes
  the older ones;
- a code is valid for ``CODE_TTL`` (10 minutes), used at most once, and dies
  after ``MAX_ATTEMPTS`` (5) wrong tries. Checking locks the row, so parallel
  guesses are counted one by one, never all against the same attempt count;
- the delivery job receives the code sealed (Fernet); Redis never holds it in
  clear. A job that runs late, twice, or for a superseded code sends nothing.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from datetime import datetime, timedelta

import structlog
from flask import current_app
from sqlalchemy import select, update

from app.accounts.models import OneTimeCode
from app.db import utcnow
from app.errors import DomainError
from app.extensions import db
from app.jobs import RETRY_FAST, enqueue_after_commit, job_id

log = structlog.get_logger(__name__)

CODE_TTL = timedelta(minutes=10)
MAX_ATTEMPTS = 5
CODE_DIGITS = 6


class CodeError(DomainError):
    status_code = 422
    title = "That code did not work"


def new_code() -> str:
    return f"{secrets.randbelow(10**CODE_DIGITS):0{CODE_DIGITS}d}"


def code_digest(user_id: int, purpose: str, code: str) -> str:
    key = hashlib.sha256(b"contentflow-otp:" + current_app.config["SECRET_KEY"].encode()).digest()
    return hmac.new(key, f"{user_id}:{purpose}:{code}".encode(), hashlib.sha256).hexdigest()


def issue_code(user_id: int, purpose: str, channel: str, destination: str,
               *, now: datetime | None = None) -> OneTimeCode:
    """Create a new live code, supersede older ones, and queue its delivery after commit.

    Does not commit: the caller's service commits once (the job runs only then).
    """
    now = now or utcnow()
    db.session.execute(
        update(OneTimeCode)
        .where(OneTimeCode.user_id == user_id, OneTimeCode.purpose == purpose,
               OneTimeCode.used_at.is_(None), OneTimeCode.superseded_at.is_(None))
        .values(superseded_at=now)
    )
    code = new_code()
    row = OneTimeCode(
        user_id=user_id, purpose=purpose, channel=channel, destination=destination,
        code_digest=code_digest(user_id, purpose, code), attempts=0,
        created_at=now, expires_at=now + CODE_TTL, delivery_status="queued",
    )
    db.session.add(row)
    db.session.flush()
    from app.security import seal

    enqueue_after_commit(
        "app.accounts.jobs.deliver_code", row.id, seal(code), id=job_id("otp", row.id), queue="otp", retry=RETRY_FAST,
    )
    log.info("otp_issued", user_id=user_id, purpose=purpose, channel=channel, code_id=row.id)
    return row


def latest_code(user_id: int, purpose: str, *, for_update: bool = False) -> OneTimeCode | None:
    query = (
        select(OneTimeCode)
        .where(OneTimeCode.user_id == user_id, OneTimeCode.purpose == purpose,
               OneTimeCode.superseded_at.is_(None))
        .order_by(OneTimeCode.created_at.desc(), OneTimeCode.id.desc())
        .limit(1)
    )
    if for_update:
        query = query.with_for_update()
    return db.session.scalar(query)


def check_code(user_id: int, purpose: str, code: str, *, now: datetime | None = None) -> OneTimeCode:
    """Consume the live code if ``code`` matches; raise CodeError otherwise.

    Does not commit on success (the caller's change and the use of the code
    commit together). A wrong try is committed at once, so a failing caller
    cannot roll the attempt count back.
    """
    now = now or utcnow()
    code = (code or "").strip()
    row = latest_code(user_id, purpose, for_update=True)
    if row is None or row.used_at is not None:
        db.session.rollback()
        raise CodeError("There is no active code. Send a new one.", field="code")
    if row.attempts >= MAX_ATTEMPTS:
        db.session.rollback()
        raise CodeError("Too many wrong tries: this code no longer works. Send a new one.", field="code")
    if now > row.expires_at:
        db.session.rollback()
        raise CodeError("This code has expired. Send a new one.", field="code")
    expected = code_digest(user_id, purpose, code)
    if not (len(code) == CODE_DIGITS and code.isascii() and code.isdigit()
            and hmac.compare_digest(expected, row.code_digest)):
        row.attempts += 1
        left = MAX_ATTEMPTS - row.attempts
        db.session.commit()
        log.info("otp_wrong", user_id=user_id, purpose=purpose, code_id=row.id, attempts=row.attempts)
        if left <= 0:
            raise CodeError("Too many wrong tries: this code no longer works. Send a new one.", field="code")
        raise CodeError(f"That code is not right. {left} {'try' if left == 1 else 'tries'} left.", field="code")
    row.used_at = now
    return row


# A code's delivery: queued until the job sends it or gives up; a late success still counts.
DELIVERY_TRANSITIONS = frozenset({("queued", "sent"), ("queued", "failed"), ("failed", "sent")})


def _move_delivery(row: OneTimeCode, to_status: str) -> None:
    """The one place ``delivery_status`` changes (row locked by the caller); a repeat is a no-op
    (a job run twice), any other move is a bug and raises. Delivery is logged, not audited."""
    if row.delivery_status == to_status:
        return
    if (row.delivery_status, to_status) not in DELIVERY_TRANSITIONS:
        raise ValueError(f"code delivery cannot go from {row.delivery_status} to {to_status}")
    row.delivery_status = to_status


def record_delivery(code_id: int, *, ok: bool, error: str | None = None, final: bool = True) -> None:
    row = db.session.scalar(select(OneTimeCode).where(OneTimeCode.id == code_id).with_for_update())
    if row is None:
        return
    row.delivery_attempts += 1
    if ok:
        _move_delivery(row, "sent")
        row.sent_at, row.delivery_error = utcnow(), None
    else:
        row.delivery_error = (error or "unknown error")[:300]
        if final:
            _move_delivery(row, "failed")
    db.session.commit()


def deliverable(code_id: int, *, now: datetime | None = None) -> OneTimeCode | None:
    """The code row if sending it still makes sense (live, unused, not expired, not sent)."""
    row = db.session.get(OneTimeCode, code_id)
    now = now or utcnow()
    if row is None or row.used_at or row.superseded_at or now > row.expires_at:
        return None
    if row.delivery_status == "sent":
        return None
    return row
