"""Fraud signals and the risk score that orders the verification queue.

Rules (each signal is stored with the numbers that raised it, in ``details``):
- ``velocity`` (35 points): a new count's views per hour since the last verified
  count (or since submission) is more than ``VELOCITY_FACTOR`` x the higher of the
  clipper's own median rate on their other posts and the campaign's median rate,
  and above ``VELOCITY_FLOOR_PER_HOUR``; needs ``MIN_SAMPLES`` posts of history;
- ``engagement`` (25): (likes + comments) / views is below ``ENGAGEMENT_FACTOR`` x
  the campaign's median ratio, for a count of at least ``ENGAGEMENT_MIN_VIEWS``;
  needs ``MIN_SAMPLES`` other posts with known likes;
- ``duplicate_clip`` (40): the uploaded clip file's hash (storage etag, the MD5 of
  the bytes) is also on another clipper's post; both posts get the signal;
- ``count_dropped`` (30): a new count is lower than the last verified one (a
  deleted post or a platform correction) — the count is kept pending, never applied;
- ``ownership_mismatch`` (50), ``published_before_approval`` (40): what the platform
  reports about the post's author and publishing time (``check_ownership``);
- ``admin_flag`` (60): an admin flagged the post; ``disputed`` (20): a brand disputes it.

Risk score = min(100, sum over open signal kinds of that kind's points) — several open
signals of one kind count once. The queue orders by risk, then age; bulk verification
only takes platform counts that raised no signal on posts with risk below
``BULK_VERIFY_MAX_RISK`` + 1. ``has_open_fraud_flag`` (payouts use it) is true while a
clipper has any open signal other than ``disputed``.

A ``disputed`` signal is cleared only by resolving its dispute: ``clear_signal`` refuses
it (``ConflictError``) while the post has an open dispute. ``risk_band`` names the
queue's bands (high from ``HIGH_RISK``, mid from ``MID_RISK``).
"""

from __future__ import annotations

from datetime import datetime
from statistics import median

from sqlalchemy import func, select

from app.db import utcnow
from app.errors import ConflictError
from app.extensions import db
from app.submissions.models import Submission
from app.tracking.models import Dispute, FraudSignal, TrackingState

POINTS = {"velocity": 35, "engagement": 25, "duplicate_clip": 40, "count_dropped": 30, "ownership_mismatch": 50,
          "published_before_approval": 40, "admin_flag": 60, "disputed": 20}
BULK_VERIFY_MAX_RISK = 19
VELOCITY_FACTOR = 10
VELOCITY_FLOOR_PER_HOUR = 500
ENGAGEMENT_FACTOR = 0.2
ENGAGEMENT_MIN_VIEWS = 1000
MIN_SAMPLES = 3
HISTORY_LIMIT = 500
NOT_FRAUD = ("disputed",)
HIGH_RISK = 50
MID_RISK = 20
CLEARED_BY_RESOLUTION = frozenset({"disputed"})


def raise_signal(submission_id: int, kind: str, details: dict, snapshot_id: int | None = None) -> FraudSignal:
    """Add an open signal and refresh the risk score. Does not commit."""
    signal = FraudSignal(submission_id=submission_id, snapshot_id=snapshot_id, kind=kind, points=POINTS[kind],
                         details=details, created_at=utcnow())
    db.session.add(signal)
    db.session.flush()
    refresh_risk(submission_id)
    return signal


def risk_band(score: int) -> str:
    return "high" if score >= HIGH_RISK else ("mid" if score >= MID_RISK else "low")


def clearable(signal: FraudSignal, dispute_open: bool) -> bool:
    """May an admin clear ``signal`` now? Not a dispute's signal while the dispute is open."""
    return signal.cleared_at is None and not (dispute_open and signal.kind in CLEARED_BY_RESOLUTION)


def _dispute_open(submission_id: int) -> bool:
    return db.session.scalar(select(Dispute.id).where(Dispute.submission_id == submission_id,
                                                      Dispute.status == "open").limit(1)) is not None


def clear_signal(signal: FraudSignal, admin_id: int | None) -> None:
    """Close an open signal and refresh the risk score. Does not commit."""
    if signal.kind in CLEARED_BY_RESOLUTION and _dispute_open(signal.submission_id):
        raise ConflictError("This signal belongs to an open dispute: resolve the dispute to clear it.")
    signal.cleared_at = utcnow()
    signal.cleared_by_id = admin_id
    db.session.flush()
    refresh_risk(signal.submission_id)


def open_signals(submission_ids: list[int]) -> dict[int, list[FraudSignal]]:
    found: dict[int, list[FraudSignal]] = {i: [] for i in submission_ids}
    if not submission_ids:
        return found
    for signal in db.session.scalars(select(FraudSignal).where(
            FraudSignal.submission_id.in_(submission_ids), FraudSignal.cleared_at.is_(None))
            .order_by(FraudSignal.id)):
        found[signal.submission_id].append(signal)
    return found


def risk_of(kinds) -> int:
    return min(100, sum(POINTS[kind] for kind in set(kinds)))


def refresh_risk(submission_id: int) -> int:
    kinds = db.session.scalars(select(FraudSignal.kind).where(
        FraudSignal.submission_id == submission_id, FraudSignal.cleared_at.is_(None))).all()
    score = risk_of(kinds)
    state = db.session.get(TrackingState, submission_id)
    if state is not None:
        state.risk_score = score
    return score


def has_open_fraud_flag(clipper_id: int) -> bool:
    return db.session.scalar(
        select(func.count()).select_from(FraudSignal).join(Submission, Submission.id == FraudSignal.submission_id)
        .where(Submission.clipper_id == clipper_id, FraudSignal.cleared_at.is_(None),
               FraudSignal.kind.not_in(NOT_FRAUD))) > 0


# -- the rules ----------------------------------------------------------------------------

def _hours(start: datetime, end: datetime) -> float:
    return max(1.0, (end - start).total_seconds() / 3600)


def _rates(where) -> list[float]:
    rows = db.session.execute(
        select(TrackingState.last_verified_views, TrackingState.last_verified_at, Submission.submitted_at)
        .join(Submission, Submission.id == TrackingState.submission_id)
        .where(where, TrackingState.last_verified_views.is_not(None)).limit(HISTORY_LIMIT)).all()
    return [views / _hours(started, at) for views, at, started in rows if at is not None]


def velocity_details(submission: Submission, state: TrackingState, views: int, at: datetime) -> dict | None:
    """The numbers of a velocity signal for a new count, or None when nothing is unusual."""
    since_views = state.last_verified_views or 0
    since = state.last_verified_at or submission.submitted_at
    rate = (views - since_views) / _hours(since, at)
    if rate <= VELOCITY_FLOOR_PER_HOUR:
        return None
    others = Submission.id != submission.id
    clipper_rates = _rates(others & (Submission.clipper_id == submission.clipper_id))
    campaign_rates = _rates(others & (Submission.campaign_id == submission.campaign_id))
    medians = [median(r) for r in (clipper_rates, campaign_rates) if len(r) >= MIN_SAMPLES]
    if not medians:
        return None
    baseline = max(medians)
    if rate <= VELOCITY_FACTOR * baseline:
        return None
    return {"views_per_hour": round(rate, 1), "baseline_per_hour": round(baseline, 1),
            "clipper_median": round(median(clipper_rates), 1) if len(clipper_rates) >= MIN_SAMPLES else None,
            "campaign_median": round(median(campaign_rates), 1) if len(campaign_rates) >= MIN_SAMPLES else None,
            "factor": VELOCITY_FACTOR}


def engagement_details(submission: Submission, views: int, likes: int | None, comments: int | None) -> dict | None:
    if views < ENGAGEMENT_MIN_VIEWS or (likes is None and comments is None):
        return None
    from app.tracking.models import ViewSnapshot

    ratio = ((likes or 0) + (comments or 0)) / views
    latest = (select(ViewSnapshot.submission_id, func.max(ViewSnapshot.id).label("id"))
              .join(Submission, Submission.id == ViewSnapshot.submission_id)
              .where(Submission.campaign_id == submission.campaign_id, Submission.id != submission.id,
                     ViewSnapshot.likes.is_not(None), ViewSnapshot.views > 0, ViewSnapshot.status != "rejected")
              .group_by(ViewSnapshot.submission_id).limit(HISTORY_LIMIT).subquery())
    rows = db.session.execute(select(ViewSnapshot.views, ViewSnapshot.likes, ViewSnapshot.comments)
                              .join(latest, latest.c.id == ViewSnapshot.id)).all()
    ratios = [((lk or 0) + (cm or 0)) / v for v, lk, cm in rows]
    if len(ratios) < MIN_SAMPLES:
        return None
    campaign_median = median(ratios)
    if ratio >= ENGAGEMENT_FACTOR * campaign_median:
        return None
    return {"engagement_ratio": round(ratio, 5), "campaign_median": round(campaign_median, 5),
            "factor": ENGAGEMENT_FACTOR, "views": views}


def check_duplicate_clip(submission: Submission) -> list[int]:
    """Flag both posts when another clipper's post has the same clip file. Does not commit."""
    if not submission.clip_etag:
        return []
    others = db.session.execute(select(Submission.id, Submission.clipper_id).where(
        Submission.clip_etag == submission.clip_etag, Submission.id != submission.id,
        Submission.clipper_id != submission.clipper_id)).all()
    if not others:
        return []
    other_ids = [row.id for row in others]
    raise_signal(submission.id, "duplicate_clip", {"file_hash": submission.clip_etag, "same_file_on": other_ids})
    for other_id in other_ids:
        raise_signal(other_id, "duplicate_clip", {"file_hash": submission.clip_etag, "same_file_on": [submission.id]})
    return other_ids
