"""Tracking's door for other domains: start tracking a post, what payouts and earnings ask
(open disputes, fraud flags), flagging, and what a clipper or brand may read about a post's views.

Invariants:
- every submission has exactly one ``TrackingState`` row, created in the same
  transaction as the submission (``on_submission_submitted``, the handler of the
  ``SubmissionSubmitted`` event);
- a verified count publishes ``SnapshotVerified`` (``tracking.snapshots``); tracking
  never imports earnings, which sits above it;
- ``has_open_fraud_flag`` is true while any of the clipper's posts has an open
  fraud signal (see ``tracking.fraud``) — payouts hold while it is;
- a recorded clip file (``ClipRecorded``, published by submissions) runs the duplicate-clip
  check here, so submissions never imports tracking;
- ``allowed_actions`` is what post pages may offer (submissions' actions plus
  ``report_views`` and ``dispute``); ``clear_signal`` refuses a dispute's signal while the
  dispute is open (only resolving it clears it).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select

from app import events
from app.audit import service as audit
from app.errors import NotFoundError
from app.extensions import db
from app.social import service as social
from app.submissions import service as submissions
from app.submissions.models import Submission
from app.tracking import claims, fraud
from app.tracking.models import Dispute, FraudSignal, TrackingState, ViewSnapshot
from app.tracking.snapshots import COUNTABLE_STATUSES, lock_state


def start_tracking(submission_id: int, clipper_id: int, platform: str) -> TrackingState:
    """Create the post's tracking row; on the manual queue from the start when no API call is possible."""
    manual = None if social.credentials_for(clipper_id, platform) else social.manual_reason(clipper_id, platform)
    state = TrackingState(submission_id=submission_id, risk_score=0, manual_reason=manual)
    db.session.add(state)
    db.session.flush()
    return state


def on_submission_submitted(event: events.SubmissionSubmitted) -> None:
    """Event handler: a new post starts being tracked in the transaction that created it."""
    start_tracking(event.submission_id, event.clipper_id, event.platform)


def on_clip_recorded(event: events.ClipRecorded) -> None:
    """Event handler: a post's new clip file raises ``duplicate_clip`` when another clipper has it."""
    fraud.check_duplicate_clip(submissions.get(event.submission_id))


def has_open_fraud_flag(clipper_id: int) -> bool:
    """True while any of the clipper's posts carries an open fraud signal (payouts hold)."""
    return fraud.has_open_fraud_flag(clipper_id)


def clippers_with_open_fraud_flag(clipper_ids) -> set[int]:
    """Those of ``clipper_ids`` with an open fraud signal on any post (one query)."""
    ids = list(clipper_ids)
    if not ids:
        return set()
    return set(db.session.scalars(
        select(Submission.clipper_id).join(FraudSignal, FraudSignal.submission_id == Submission.id)
        .where(Submission.clipper_id.in_(ids), FraudSignal.cleared_at.is_(None),
               FraudSignal.kind.not_in(fraud.NOT_FRAUD)).distinct()))


def submissions_with_open_dispute(submission_ids) -> set[int]:
    ids = list(submission_ids)
    if not ids:
        return set()
    return set(db.session.scalars(select(Dispute.submission_id).where(
        Dispute.submission_id.in_(ids), Dispute.status == "open")))


def allowed_actions(submission: Submission, user, *, dispute_open: bool | None = None) -> frozenset[str]:
    """What ``user`` may do with a post now: the submissions actions (``resubmit``, ``upload_clip``,
    ``review``, ``remove``) plus tracking's, on a live post: ``report_views`` (its clipper) and
    ``dispute`` (its brand, while no dispute is open)."""
    actions = set(submissions.allowed_actions(submission, user))
    if submission.status not in COUNTABLE_STATUSES or not submissions.may_see(submission, user):
        return frozenset(actions)
    if user.role == "clipper":
        actions.add("report_views")
    elif user.role == "brand":
        if dispute_open is None:
            dispute_open = submission.id in submissions_with_open_dispute([submission.id])
        if not dispute_open:
            actions.add("dispute")
    return frozenset(actions)


def allowed_actions_for(items: list[Submission], user) -> dict[int, frozenset[str]]:
    """``allowed_actions`` for a page of posts (open disputes in one query)."""
    open_ids = submissions_with_open_dispute([s.id for s in items])
    return {s.id: allowed_actions(s, user, dispute_open=s.id in open_ids) for s in items}


def queue_row_actions(row, admin) -> frozenset[str]:
    """What an admin may do to a queue row's post itself: ``remove`` while the submissions
    transition table allows it (counts and signals have their own checks)."""
    if getattr(admin, "role", None) != "admin":
        return frozenset()
    return frozenset({"remove"}) if (row.status, "removed") in submissions.TRANSITIONS else frozenset()


def flag_submission(submission_id: int, admin_id: int, reason: str, now: datetime | None = None) -> FraudSignal:
    """An admin flags a post for review (raises its risk). Commits."""
    reason = submissions.clean_reason(reason, required=True)
    lock_state(submission_id)
    claims.require_claim(submission_id, admin_id, now)
    signal = fraud.raise_signal(submission_id, "admin_flag", {"reason": reason, "admin_id": admin_id})
    audit.record(admin_id, "submission.flagged", "submission", submission_id, reason=reason)
    db.session.commit()
    return signal


def clear_signal(signal_id: int, admin_id: int, now: datetime | None = None) -> None:
    """An admin reviewed a signal and closes it. Commits."""
    submission_id = db.session.scalar(select(FraudSignal.submission_id).where(FraudSignal.id == signal_id))
    if submission_id is None:
        raise NotFoundError("There is no such signal.")
    lock_state(submission_id)
    claims.require_claim(submission_id, admin_id, now)
    signal = db.session.get(FraudSignal, signal_id)
    if signal.cleared_at is None:
        fraud.clear_signal(signal, admin_id)
        audit.record(admin_id, "signal.cleared", "submission", submission_id, kind=signal.kind)
    db.session.commit()


def signal_submission(signal_id: int) -> int:
    submission_id = db.session.scalar(select(FraudSignal.submission_id).where(FraudSignal.id == signal_id))
    if submission_id is None:
        raise NotFoundError("There is no such signal.")
    return submission_id


def remove_submission(submission_id: int, admin_id: int, reason: str, now: datetime | None = None) -> None:
    """Fraud or policy: take an approved post out. Commits."""
    lock_state(submission_id)
    claims.require_claim(submission_id, admin_id, now)
    submissions.remove_submission(submission_id, admin_id, reason)
    db.session.commit()


@dataclass(frozen=True)
class ViewsSummary:
    verified_views: int | None
    verified_at: datetime | None
    pending: int
    manual_reason: str | None
    history: list[ViewSnapshot]


def views_summary(submission_ids: list[int]) -> dict[int, ViewsSummary]:
    """What a clipper or brand sees of each post's views (for posts they may already see)."""
    if not submission_ids:
        return {}
    states = {s.submission_id: s for s in db.session.scalars(
        select(TrackingState).where(TrackingState.submission_id.in_(submission_ids)))}
    snaps: dict[int, list[ViewSnapshot]] = {i: [] for i in submission_ids}
    for snap in db.session.scalars(select(ViewSnapshot).where(ViewSnapshot.submission_id.in_(submission_ids))
                                   .order_by(ViewSnapshot.recorded_at, ViewSnapshot.id)):
        snaps[snap.submission_id].append(snap)
    result = {}
    for submission_id in submission_ids:
        state = states.get(submission_id)
        history = snaps[submission_id]
        result[submission_id] = ViewsSummary(
            state.last_verified_views if state else None, state.last_verified_at if state else None,
            sum(1 for s in history if s.status == "pending"), state.manual_reason if state else None,
            [s for s in history if s.status == "verified"])
    return result
