"""Running a batch of platform checks: metrics in, pending snapshots and signals out.

Invariants:
- the platform is asked only through ``social.platforms.fetch_many`` with the
  credentials ``social.service.credentials_for`` gives; without credentials no call
  is made and the posts stay (or go) on the manual queue with the reason shown;
- a post's result is one of: a pending ``platform_api`` snapshot for its slot (at most
  one per slot, so a retried job adds nothing twice) plus ownership signals; or a
  reason on ``manual_reason`` (quota exhausted, not connected, token expired, post
  gone) — the admin sees it on the queue;
- rate limits and outages the client could not retry away are raised after every
  other post of the batch is saved, so RQ retries the job (``RETRY_NETWORK``);
- ownership: the platform's author must match the clipper's handle (or account id)
  and the post must be published after the application was approved.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import datetime

import structlog
from sqlalchemy import select

from app.db import utcnow
from app.extensions import db
from app.social import service as social
from app.social.platforms import (
    USER_TOKEN_PLATFORMS,
    PlatformError,
    PostMetrics,
    QuotaExhaustedError,
    check_ownership,
    fetch_many,
)
from app.submissions.models import Submission
from app.tracking import fraud, snapshots
from app.tracking.models import FraudSignal, TrackingState

log = structlog.get_logger(__name__)


class ChecksIncompleteError(Exception):
    """Some posts hit a retryable platform error; the job is retried for them."""


def _quota_reason(error: QuotaExhaustedError) -> str:
    if error.retry_after:
        hours = max(1, round(error.retry_after / 3600))
        return f"{error.reason} Checked by hand until the quota resets (about {hours} h)."
    return f"{error.reason} Checked by hand until the quota resets."


def _approved_at(submission: Submission) -> datetime:
    from app.campaigns import applications

    application = applications.application_of(submission.campaign_id, submission.clipper_id)
    return (application.decided_at if application and application.decided_at else submission.created_at)


def _ownership(submission: Submission, state: TrackingState, metrics: PostMetrics, snapshot_id: int | None) -> None:
    account = social.account_of(submission.clipper_id, submission.platform)
    found = check_ownership(metrics, account.handle if account else None, _approved_at(submission),
                            expected_author_id=account.platform_user_id if account else None)
    already = set(db.session.scalars(select(FraudSignal.kind).where(
        FraudSignal.submission_id == submission.id, FraudSignal.kind.in_(found))))
    for kind in found:
        if kind in already:
            continue
        details = {"reported_author": metrics.author_handle or metrics.author_id,
                   "expected_handle": account.handle if account else None,
                   "published_at": metrics.published_at.isoformat() if metrics.published_at else None,
                   "approved_at": _approved_at(submission).isoformat()}
        fraud.raise_signal(submission.id, kind, details, snapshot_id=snapshot_id)


def run_checks(platform: str, pairs: list[tuple[int, str]], now: datetime | None = None) -> dict[str, int]:
    """Check the given (submission id, slot) pairs of one platform. Commits."""
    now = now or utcnow()
    slots = {int(sub_id): slot for sub_id, slot in pairs}
    subs = {s.id: s for s in db.session.scalars(select(Submission).where(
        Submission.id.in_(slots), Submission.platform == platform,
        Submission.status.in_(snapshots.COUNTABLE_STATUSES)))}
    groups: dict[int | None, list[Submission]] = defaultdict(list)
    for submission in subs.values():
        groups[submission.clipper_id if platform in USER_TOKEN_PLATFORMS else None].append(submission)
    outcome = {"recorded": 0, "manual": 0, "retry": 0}
    retry_errors: list[PlatformError] = []
    for owner, members in groups.items():
        credentials = social.credentials_for(owner if owner is not None else members[0].clipper_id, platform)
        if credentials is None:
            reason = social.manual_reason(members[0].clipper_id, platform)
            for submission in members:
                state = snapshots.lock_state(submission.id)
                state.manual_reason, state.last_checked_at = reason, now
                outcome["manual"] += 1
            db.session.commit()
            continue
        if owner is None:  # YouTube: the API key serves every clipper; the author is compared per post
            credentials = type(credentials)(api_key=credentials.api_key)
        results = fetch_many(platform, [s.post_id for s in members], credentials)
        for submission in members:
            result = results.get(submission.post_id)
            state = snapshots.lock_state(submission.id)
            state.last_checked_at = now
            if isinstance(result, PostMetrics):
                snapshot = snapshots.record(submission.id, result.views, source="platform_api", likes=result.likes,
                                            comments=result.comments, slot=slots[submission.id], now=now,
                                            state=state)
                state.manual_reason = None
                if result.published_at:
                    state.published_at = result.published_at
                _ownership(submission, state, result, snapshot.id if snapshot else None)
                outcome["recorded"] += 1 if snapshot else 0
            elif isinstance(result, PlatformError) and result.retryable:
                retry_errors.append(result)
                outcome["retry"] += 1
            else:
                error = result if isinstance(result, PlatformError) else PlatformError("No answer for this post.")
                state.manual_reason = _quota_reason(error) if isinstance(error, QuotaExhaustedError) else error.reason
                outcome["manual"] += 1
            db.session.commit()
    log.info("views_checked", platform=platform, **outcome)
    if retry_errors:
        raise ChecksIncompleteError(retry_errors[0].reason)
    return outcome
