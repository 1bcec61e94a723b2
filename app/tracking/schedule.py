"""When each post's views are checked through the platform API, and enqueuing those checks.

Cadence, measured from when the post was submitted (``Submission.created_at``, fixed,
so every scheduler computes the same slot for the same moment):
- hourly for the first 48 hours (slots ``h0`` .. ``h47``);
- every 6 hours until day 7 (``s8`` .. ``s27``, the index counts 6-hour blocks);
- daily after that (``d7`` ..) while the campaign runs and its hold window lasts;
- once the campaign's end plus ``hold_days`` has passed: one ``final`` check, then none.

Invariants:
- one check per post per slot, also with several schedulers running at once: a post's
  slot is claimed by a conditional, set-based UPDATE of ``TrackingState.last_slot`` on
  rows locked with SKIP LOCKED (only the scheduler whose UPDATE changes the row enqueues
  it), and the job id is derived from the batch's (post, slot) pairs, so a repeated
  enqueue of the same batch is a no-op;
- a slot claimed whose enqueue then failed (Redis down after commit) is not retried: the
  post is checked at its next slot, and it stays on the manual queue meanwhile if due;
- checks are batched per job: up to ``BATCH_SIZE`` posts of one platform (and, for
  platforms called with the clipper's token, one clipper) per job;
- jobs are enqueued after the claiming transaction commits, with ``RETRY_NETWORK``.
"""

from __future__ import annotations

import hashlib
from collections import defaultdict
from datetime import datetime, timedelta

from sqlalchemy import BigInteger, String, column, or_, select, update, values

from app import jobs
from app.db import utcnow
from app.extensions import db
from app.social.platforms import USER_TOKEN_PLATFORMS
from app.submissions.models import Submission
from app.tracking.models import TrackingState

HOURLY_UNTIL = timedelta(hours=48)
SIX_HOURLY_UNTIL = timedelta(days=7)
BATCH_SIZE = 50
SCAN_LIMIT = 5000
CLAIM_CHUNK = 1000
FINAL = "final"


def slot_for(anchor: datetime, now: datetime, tracking_ends_at: datetime | None) -> str | None:
    """The schedule slot ``now`` falls in for a post submitted at ``anchor`` (None: not yet)."""
    age = now - anchor
    if age < timedelta(0):
        return None
    if tracking_ends_at is not None and now >= tracking_ends_at:
        return FINAL
    if age < HOURLY_UNTIL:
        return f"h{int(age // timedelta(hours=1))}"
    if age < SIX_HOURLY_UNTIL:
        return f"s{int(age // timedelta(hours=6))}"
    return f"d{int(age // timedelta(days=1))}"


def tracking_end(ends_at: datetime | None, hold_days: int) -> datetime | None:
    return None if ends_at is None else ends_at + timedelta(days=hold_days)


def _claim_slots(due: list[tuple[int, str]]) -> list[tuple[int, str]]:
    """Set ``last_slot`` for the due posts nobody else claimed; the (post, slot) pairs this call won.

    Rows are locked in id order with SKIP LOCKED (a concurrent scheduler skips what this one
    holds instead of waiting or deadlocking), then one UPDATE ... FROM (VALUES ...) changes
    only rows whose slot still differs — after the other scheduler committed, that is none.
    """
    won: list[tuple[int, str]] = []
    for start in range(0, len(due), CLAIM_CHUNK):
        chunk = due[start:start + CLAIM_CHUNK]
        locked = list(db.session.scalars(
            select(TrackingState.submission_id).where(TrackingState.submission_id.in_([i for i, _ in chunk]))
            .order_by(TrackingState.submission_id).with_for_update(skip_locked=True)))
        if not locked:
            continue
        wanted = values(column("id", BigInteger), column("slot", String), name="due").data(
            [pair for pair in chunk if pair[0] in set(locked)])
        won.extend(tuple(row) for row in db.session.execute(
            update(TrackingState)
            .where(TrackingState.submission_id == wanted.c.id,
                   or_(TrackingState.last_slot.is_(None), TrackingState.last_slot != wanted.c.slot))
            .values(last_slot=wanted.c.slot)
            .returning(TrackingState.submission_id, wanted.c.slot)))
    return sorted(won)


def batch_job_id(platform: str, pairs: list[tuple[int, str]]) -> str:
    digest = hashlib.sha256(repr(sorted(pairs)).encode()).hexdigest()[:24]
    return jobs.job_id("views", platform, digest)


def schedule_due_checks(now: datetime | None = None) -> int:
    """Claim the due slot of every tracked post and enqueue batched checks; how many posts. Commits."""
    from app.campaigns.models import Campaign

    now = now or utcnow()
    rows = db.session.execute(
        select(Submission.id, Submission.platform, Submission.clipper_id, Submission.created_at,
               TrackingState.last_slot, Campaign.ends_at, Campaign.hold_days)
        .join(TrackingState, TrackingState.submission_id == Submission.id)
        .join(Campaign, Campaign.id == Submission.campaign_id)
        .where(Submission.status.in_(("submitted", "approved")),
               or_(TrackingState.last_slot.is_(None), TrackingState.last_slot != FINAL))
        .order_by(Submission.id).limit(SCAN_LIMIT)).all()
    due, owners = [], {}
    for sub_id, platform, clipper_id, created_at, last_slot, ends_at, hold_days in rows:
        slot = slot_for(created_at, now, tracking_end(ends_at, hold_days))
        if slot is not None and slot != last_slot:
            due.append((sub_id, slot))
            owners[sub_id] = (platform, clipper_id if platform in USER_TOKEN_PLATFORMS else None)
    groups: dict[tuple, list[tuple[int, str]]] = defaultdict(list)
    for sub_id, slot in _claim_slots(due):
        groups[owners[sub_id]].append((sub_id, slot))
    scheduled = 0
    for (platform, _owner), pairs in groups.items():
        for start in range(0, len(pairs), BATCH_SIZE):
            batch = pairs[start:start + BATCH_SIZE]
            jobs.enqueue_after_commit("app.tracking.jobs.check_views", platform, [list(p) for p in batch],
                                      queue="views", id=batch_job_id(platform, batch), retry=jobs.RETRY_NETWORK,
                                      timeout=300)
            scheduled += len(batch)
    db.session.commit()
    return scheduled
