"""Admin claims on queue rows: a short lease so two admins never work the same row.

Invariants:
- a claim is the pair (``claimed_by_id``, ``claim_expires_at``) on the row's
  ``TrackingState``; it is taken only by one conditional UPDATE whose WHERE says
  "free, expired or already mine", so of two admins racing for a row exactly one
  gets it (PostgreSQL re-checks the WHERE after waiting for the row lock);
- ``claim_next`` picks with ``FOR UPDATE SKIP LOCKED``: concurrent callers skip each
  other's candidate instead of waiting for it, so each gets a different row;
- an admin holds at most one claim: taking a new one releases the old;
- a lease lasts ``LEASE``; after that anyone may take the row. Time is passed in
  (``now=``) so tests travel in time instead of sleeping.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import or_, update

from app.db import utcnow
from app.errors import ConflictError
from app.extensions import db
from app.tracking.models import TrackingState

LEASE = timedelta(minutes=5)


def _free_for(admin_id: int, now: datetime):
    return or_(TrackingState.claimed_by_id.is_(None), TrackingState.claimed_by_id == admin_id,
               TrackingState.claim_expires_at <= now)


def _release_others(admin_id: int, keep: int | None) -> None:
    db.session.execute(update(TrackingState).where(
        TrackingState.claimed_by_id == admin_id,
        TrackingState.submission_id != (keep if keep is not None else -1))
        .values(claimed_by_id=None, claim_expires_at=None))


def take_claim(submission_id: int, admin_id: int, now: datetime | None = None) -> bool:
    """Claim (or renew) the row for ``admin_id``; False if another admin holds a live lease. Does not commit."""
    now = now or utcnow()
    taken = db.session.execute(
        update(TrackingState).where(TrackingState.submission_id == submission_id, _free_for(admin_id, now))
        .values(claimed_by_id=admin_id, claim_expires_at=now + LEASE)
        .returning(TrackingState.submission_id)).scalar()
    if taken is None:
        return False
    _release_others(admin_id, submission_id)
    return True


def require_claim(submission_id: int, admin_id: int, now: datetime | None = None) -> None:
    if not take_claim(submission_id, admin_id, now):
        raise ConflictError("Another admin is working on this post right now. Take the next one.")


def claim(submission_id: int, admin_id: int, now: datetime | None = None) -> bool:
    """``take_claim`` in its own transaction. Commits."""
    taken = take_claim(submission_id, admin_id, now)
    db.session.commit()
    return taken


def claim_next(admin_id: int, now: datetime | None = None) -> int | None:
    """Claim the highest-risk, oldest queue row nobody else holds; its submission id, or None. Commits."""
    from app.tracking.queue import queue_select

    now = now or utcnow()
    candidate = db.session.scalar(
        queue_select(TrackingState.submission_id, now=now).where(_free_for(admin_id, now))
        .limit(1).with_for_update(skip_locked=True, of=TrackingState))
    if candidate is None:
        db.session.commit()
        return None
    db.session.execute(update(TrackingState).where(TrackingState.submission_id == candidate)
                       .values(claimed_by_id=admin_id, claim_expires_at=now + LEASE))
    _release_others(admin_id, candidate)
    db.session.commit()
    return candidate


def release(submission_id: int, admin_id: int) -> None:
    """Give the row back (only one's own claim). Commits."""
    db.session.execute(update(TrackingState).where(
        TrackingState.submission_id == submission_id, TrackingState.claimed_by_id == admin_id)
        .values(claimed_by_id=None, claim_expires_at=None))
    db.session.commit()
