"""The verification queue: which posts need an admin, in which order, and what a row shows.

Invariants:
- a post is on the queue while it is live (submitted or approved) and it has a
  pending count, an open dispute, an open signal worth ``REVIEW_RISK`` or more, or it
  is checked by hand (no API) and has no verified count younger than ``MANUAL_EVERY``;
- order: risk score (highest first), then how long it has waited (oldest first);
- a row is built with a fixed number of queries for the whole page (no lazy loads in
  templates): snapshots, signals and disputes are loaded per page, not per row;
- a row carries what the template may offer about signals (``clearable_signal_ids``) and
  its ``risk_band``, from ``fraud``'s rules; what may be done to the post itself comes from
  ``service.queue_row_actions``: the template copies no rule.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import and_, exists, func, or_, select

from app.db import utcnow
from app.extensions import db
from app.submissions.models import Submission
from app.tracking import fraud
from app.tracking.models import Dispute, FraudSignal, TrackingState, ViewSnapshot

MANUAL_EVERY = timedelta(hours=24)
REVIEW_RISK = 20
PAGE_SIZE = 50
HISTORY_POINTS = 30


def _pending_since():
    return (select(func.min(ViewSnapshot.recorded_at))
            .where(ViewSnapshot.submission_id == TrackingState.submission_id, ViewSnapshot.status == "pending")
            .correlate(TrackingState).scalar_subquery())


def _dispute_since():
    return (select(func.min(Dispute.created_at))
            .where(Dispute.submission_id == TrackingState.submission_id, Dispute.status == "open")
            .correlate(TrackingState).scalar_subquery())


def queue_filter(now: datetime):
    has_pending = exists().where(ViewSnapshot.submission_id == TrackingState.submission_id,
                                 ViewSnapshot.status == "pending")
    has_dispute = exists().where(Dispute.submission_id == TrackingState.submission_id, Dispute.status == "open")
    stale = or_(TrackingState.last_verified_at.is_(None), TrackingState.last_verified_at < now - MANUAL_EVERY)
    manual_due = and_(TrackingState.manual_reason.is_not(None), stale)
    return and_(Submission.status.in_(("submitted", "approved")),
                or_(has_pending, has_dispute, TrackingState.risk_score >= REVIEW_RISK, manual_due))


def queue_select(*columns, now: datetime):
    waiting = func.coalesce(_dispute_since(), _pending_since(), Submission.submitted_at)
    return (select(*columns).select_from(TrackingState)
            .join(Submission, Submission.id == TrackingState.submission_id)
            .where(queue_filter(now))
            .order_by(TrackingState.risk_score.desc(), waiting.asc(), TrackingState.submission_id))


@dataclass
class QueueRow:
    submission_id: int
    platform: str
    post_url: str
    status: str
    clipper_handle: str
    campaign_title: str
    risk_score: int
    manual_reason: str | None
    last_verified_views: int | None
    claimed_by_id: int | None
    claim_expires_at: datetime | None
    snapshots: list[ViewSnapshot] = field(default_factory=list)
    signals: list[FraudSignal] = field(default_factory=list)
    dispute: Dispute | None = None
    clearable_signal_ids: frozenset[int] = frozenset()

    @property
    def risk_band(self) -> str:
        return fraud.risk_band(self.risk_score)

    @property
    def pending(self) -> list[ViewSnapshot]:
        return [s for s in self.snapshots if s.status == "pending"]

    def claimed_by_other(self, admin_id: int, now: datetime) -> bool:
        return bool(self.claimed_by_id and self.claimed_by_id != admin_id and self.claim_expires_at
                    and self.claim_expires_at > now)


def queue_rows(now: datetime | None = None, only: int | None = None) -> list[QueueRow]:
    from app.accounts.models import User
    from app.campaigns.models import Campaign

    now = now or utcnow()
    query = queue_select(TrackingState, Submission, User.handle, Campaign.title, now=now) \
        .join(User, User.id == Submission.clipper_id).join(Campaign, Campaign.id == Submission.campaign_id)
    if only is not None:
        query = query.where(TrackingState.submission_id == only)
    rows = [QueueRow(sub.id, sub.platform, sub.post_url, sub.status, handle or "", title, state.risk_score,
                     state.manual_reason, state.last_verified_views, state.claimed_by_id, state.claim_expires_at)
            for state, sub, handle, title in db.session.execute(query.limit(PAGE_SIZE))]
    attach_details(rows)
    return rows


def attach_details(rows: list) -> None:
    """Load snapshots, open signals and open disputes for ``rows`` in three queries."""
    ids = [row.submission_id for row in rows]
    if not ids:
        return
    by_id = {row.submission_id: row for row in rows}
    for snapshot in db.session.scalars(select(ViewSnapshot).where(ViewSnapshot.submission_id.in_(ids))
                                       .order_by(ViewSnapshot.recorded_at, ViewSnapshot.id)):
        by_id[snapshot.submission_id].snapshots.append(snapshot)
    for submission_id, signals in fraud.open_signals(ids).items():
        by_id[submission_id].signals = signals
    for dispute in db.session.scalars(select(Dispute).where(Dispute.submission_id.in_(ids))
                                      .order_by(Dispute.id)):
        by_id[dispute.submission_id].dispute = dispute if dispute.status == "open" else by_id[
            dispute.submission_id].dispute
    for row in rows:
        row.clearable_signal_ids = frozenset(signal.id for signal in row.signals
                                             if fraud.clearable(signal, row.dispute is not None))


def sparkline(snapshots: list[ViewSnapshot], width: int = 160, height: int = 36) -> str:
    """SVG polyline points for the counts' history (rejected counts left out)."""
    points = [s for s in snapshots if s.status != "rejected"][-HISTORY_POINTS:]
    if not points:
        return ""
    top = max(s.views for s in points) or 1
    step = width / max(1, len(points) - 1)
    return " ".join(f"{round(i * step, 1)},{round(height - (s.views / top) * (height - 2) - 1, 1)}"
                    for i, s in enumerate(points))
