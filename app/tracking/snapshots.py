"""Recording view counts and the admin's verdict on them.

Invariants:
- every count arrives as a ``pending`` snapshot (admin entries, clipper evidence and
  platform checks alike); ``decide`` is the only code that changes a snapshot's
  status: it checks ``TRANSITIONS``, locks the post's ``TrackingState`` row and then
  the snapshot (always in that order), and writes an audit event;
- the one count created ``verified`` (never a status change) is a dispute's correction
  (``record_verified_correction``): it locks ``TrackingState`` first, rejects the pending
  counts through ``decide`` and audits the correction;
- counts never go backwards silently: a count lower than the last verified one raises
  a ``count_dropped`` signal and stays pending; verifying it is refused (reject it,
  flag or remove the post, or resolve a dispute with an adjusted count);
- verifying moves ``last_verified_views`` forward and publishes ``SnapshotVerified``
  (earnings accrues) in the same transaction;
- manual and clipper counts carry a screenshot that storage confirmed under
  ``submissions/<id>/evidence``; a platform check stores at most one count per
  schedule slot;
- every admin action first takes the row's claim (``claims.require_claim``).
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select

from app import events
from app.audit import service as audit
from app.db import utcnow
from app.errors import ConflictError, NotFoundError, ValidationError
from app.extensions import db
from app.submissions import service as submissions
from app.tracking import claims, fraud
from app.tracking.models import TrackingState, ViewSnapshot

TRANSITIONS = frozenset({("pending", "verified"), ("pending", "rejected")})
MAX_VIEWS = 10**12
EVIDENCE_SOURCES = ("manual", "clipper_evidence")
COUNTABLE_STATUSES = ("submitted", "approved")


def evidence_prefix(submission_id: int) -> str:
    return f"submissions/{submission_id}/evidence"


def clean_count(value: object, field: str = "views", *, required: bool = True) -> int | None:
    if value is None or (isinstance(value, str) and not value.strip()):
        if required:
            raise ValidationError("Enter the view count.", field=field)
        return None
    text = str(value).strip().replace(",", "").replace("_", "")
    if not text.isdigit():
        raise ValidationError("A count is a whole number, like 12500.", field=field)
    number = int(text)
    if number > MAX_VIEWS:
        raise ValidationError("That count is not believable.", field=field)
    return number


def lock_state(submission_id: int) -> TrackingState:
    state = db.session.scalar(select(TrackingState).where(TrackingState.submission_id == submission_id)
                              .with_for_update().execution_options(populate_existing=True))
    if state is None:
        raise NotFoundError("There is no such submission.")
    return state


def _check_evidence(submission_id: int, key: object) -> str:
    from app.storage import get_storage
    from app.storage.keys import check_key_under

    if not isinstance(key, str) or not key:
        raise ValidationError("Attach a screenshot that shows the count.", field="evidence")
    try:
        check_key_under(key, evidence_prefix(submission_id))
    except ValidationError:
        raise ValidationError("Attach a screenshot that shows the count.", field="evidence") from None
    if get_storage().head(key) is None:
        raise ValidationError("The screenshot did not arrive. Upload it again.", field="evidence")
    return key


def record(submission_id: int, views: int, *, source: str, likes: int | None = None, comments: int | None = None,
           recorded_by_id: int | None = None, evidence_key: str | None = None, slot: str | None = None,
           now: datetime | None = None, state: TrackingState | None = None) -> ViewSnapshot | None:
    """Add a pending count and raise the signals it trips. None if the slot already has one. Does not commit."""
    now = now or utcnow()
    state = state or lock_state(submission_id)
    submission = submissions.get(submission_id)
    if submission.status not in COUNTABLE_STATUSES:
        raise ConflictError("Views are recorded only for submitted or approved posts.")
    if slot is not None and db.session.scalar(select(ViewSnapshot.id).where(
            ViewSnapshot.submission_id == submission_id, ViewSnapshot.slot == slot)) is not None:
        return None
    if source in EVIDENCE_SOURCES:
        evidence_key = _check_evidence(submission_id, evidence_key)
    snapshot = ViewSnapshot(submission_id=submission_id, views=views, likes=likes, comments=comments, source=source,
                            recorded_by_id=recorded_by_id, evidence_key=evidence_key, recorded_at=now, slot=slot,
                            status="pending")
    db.session.add(snapshot)
    db.session.flush()
    signals = []
    if state.last_verified_views is not None and views < state.last_verified_views:
        signals.append(("count_dropped", {"views": views, "last_verified_views": state.last_verified_views}))
    else:
        velocity = fraud.velocity_details(submission, state, views, now)
        if velocity:
            signals.append(("velocity", velocity))
    engagement = fraud.engagement_details(submission, views, likes, comments)
    if engagement:
        signals.append(("engagement", engagement))
    for kind, details in signals:
        fraud.raise_signal(submission_id, kind, details, snapshot_id=snapshot.id)
    snapshot.raised_signal = bool(signals)
    audit.record(recorded_by_id, "snapshot.recorded", "submission", submission_id, snapshot_id=snapshot.id,
                 views=views, source=source)
    return snapshot


def enter_count(submission_id: int, admin_id: int, views: object, evidence_key: object,
                likes: object = None, comments: object = None, now: datetime | None = None) -> ViewSnapshot:
    """An admin enters a count read from the post, with a screenshot. Commits."""
    views = clean_count(views)
    likes, comments = clean_count(likes, "likes", required=False), clean_count(comments, "comments", required=False)
    state = lock_state(submission_id)
    claims.require_claim(submission_id, admin_id, now)
    snapshot = record(submission_id, views, likes=likes, comments=comments, source="manual",
                      recorded_by_id=admin_id, evidence_key=evidence_key, now=now, state=state)
    db.session.commit()
    return snapshot


def submit_evidence(submission_id: int, clipper_id: int, views: object, evidence_key: object) -> ViewSnapshot:
    """The clipper reports a count with a screenshot; it waits on the queue. Commits."""
    views = clean_count(views)
    submission = submissions.get(submission_id)
    if submission.clipper_id != clipper_id:
        raise NotFoundError("There is no such submission.")
    snapshot = record(submission_id, views, source="clipper_evidence", recorded_by_id=clipper_id,
                      evidence_key=evidence_key)
    db.session.commit()
    return snapshot


def decide(snapshot_id: int, to_status: str, *, admin_id: int | None, reason: str | None = None,
           now: datetime | None = None, claim: bool = True) -> ViewSnapshot:
    """Verify or reject a pending count. Does not commit."""
    now = now or utcnow()
    submission_id = db.session.scalar(select(ViewSnapshot.submission_id).where(ViewSnapshot.id == snapshot_id))
    if submission_id is None:
        raise NotFoundError("There is no such count.")
    state = lock_state(submission_id)
    if claim and admin_id is not None:
        claims.require_claim(submission_id, admin_id, now)
    snapshot = db.session.scalar(select(ViewSnapshot).where(ViewSnapshot.id == snapshot_id).with_for_update()
                                 .execution_options(populate_existing=True))
    pair = (snapshot.status, to_status)
    if pair not in TRANSITIONS:
        raise ConflictError(f"This count is already {snapshot.status}.")
    if to_status == "verified":
        if state.last_verified_views is not None and snapshot.views < state.last_verified_views:
            raise ConflictError(f"This count ({snapshot.views:,}) is lower than the last verified one "
                                f"({state.last_verified_views:,}). Reject it, or flag or remove the post.")
        state.last_verified_views = snapshot.views
        state.last_verified_at = snapshot.recorded_at
    reason = submissions.clean_reason(reason, required=to_status == "rejected")
    snapshot.status = to_status
    snapshot.decided_by_id = admin_id
    snapshot.decided_at = now
    snapshot.decision_reason = reason
    audit.record(admin_id, f"snapshot.{to_status}", "submission", submission_id, reason=reason,
                 snapshot_id=snapshot.id, views=snapshot.views)
    if to_status == "verified":
        events.publish(events.SnapshotVerified(snapshot.id))
    return snapshot


def record_verified_correction(submission_id: int, views: int, *, admin_id: int, reason: str,
                               superseded_reason: str, now: datetime | None = None) -> ViewSnapshot:
    """A dispute's corrected count: verified at once (it may be lower than the last verified
    count: explicit and audited); the pending counts, which would undo it, are rejected
    through ``decide``. Publishes ``SnapshotVerified``. Does not commit."""
    now = now or utcnow()
    state = lock_state(submission_id)
    pending_ids = list(db.session.scalars(select(ViewSnapshot.id).where(
        ViewSnapshot.submission_id == submission_id, ViewSnapshot.status == "pending").order_by(ViewSnapshot.id)))
    for pending_id in pending_ids:
        decide(pending_id, "rejected", admin_id=admin_id, reason=superseded_reason, now=now, claim=False)
    snapshot = ViewSnapshot(submission_id=submission_id, views=views, source="manual", recorded_by_id=admin_id,
                            recorded_at=now, status="verified", decided_by_id=admin_id, decided_at=now,
                            decision_reason=reason)
    db.session.add(snapshot)
    db.session.flush()
    state.last_verified_views, state.last_verified_at = views, now
    audit.record(admin_id, "snapshot.corrected", "submission", submission_id, reason=reason,
                 snapshot_id=snapshot.id, views=views)
    events.publish(events.SnapshotVerified(snapshot.id))
    return snapshot


def verify(snapshot_id: int, admin_id: int, now: datetime | None = None) -> ViewSnapshot:
    snapshot = decide(snapshot_id, "verified", admin_id=admin_id, now=now)
    db.session.commit()
    return snapshot


def reject(snapshot_id: int, admin_id: int, reason: str, now: datetime | None = None) -> ViewSnapshot:
    snapshot = decide(snapshot_id, "rejected", admin_id=admin_id, reason=reason, now=now)
    db.session.commit()
    return snapshot


def bulk_verifiable(submission_ids: list[int] | None = None) -> list[int]:
    """Pending platform counts that raised no signal, on posts below the bulk risk threshold."""
    query = (select(ViewSnapshot.id).join(TrackingState, TrackingState.submission_id == ViewSnapshot.submission_id)
             .where(ViewSnapshot.status == "pending", ViewSnapshot.source == "platform_api",
                    ViewSnapshot.raised_signal.is_(False), TrackingState.risk_score <= fraud.BULK_VERIFY_MAX_RISK)
             .order_by(ViewSnapshot.id))
    if submission_ids is not None:
        query = query.where(ViewSnapshot.submission_id.in_(submission_ids))
    return list(db.session.scalars(query))


def bulk_verify(admin_id: int, snapshot_ids: list[int], now: datetime | None = None) -> tuple[int, int]:
    """Verify the given counts that are still bulk-verifiable; (verified, skipped). Commits per count."""
    allowed = set(bulk_verifiable())
    verified = skipped = 0
    for snapshot_id in snapshot_ids:
        if snapshot_id not in allowed:
            skipped += 1
            continue
        try:
            decide(snapshot_id, "verified", admin_id=admin_id, now=now)
            db.session.commit()
            verified += 1
        except ConflictError:
            db.session.rollback()
            skipped += 1
    return verified, skipped


def submission_of(snapshot_id: int) -> int:
    submission_id = db.session.scalar(select(ViewSnapshot.submission_id).where(ViewSnapshot.id == snapshot_id))
    if submission_id is None:
        raise NotFoundError("There is no such count.")
    return submission_id


def evidence_key_of(snapshot_id: int) -> str:
    key = db.session.scalar(select(ViewSnapshot.evidence_key).where(ViewSnapshot.id == snapshot_id))
    if not key:
        raise NotFoundError("This count has no screenshot.")
    return key


def history(submission_id: int) -> list[ViewSnapshot]:
    return list(db.session.scalars(select(ViewSnapshot).where(ViewSnapshot.submission_id == submission_id)
                                   .order_by(ViewSnapshot.recorded_at, ViewSnapshot.id)))
