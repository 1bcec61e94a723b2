"""Submitting posts, the brand's content review, and who may see a submission.

Invariants:
- ``transition`` is the only code that sets ``Submission.status``: it checks
  ``TRANSITIONS``, locks the row (``SELECT ... FOR UPDATE``), writes an audit
  event and tells the clipper; callers commit once;
- a post is submitted only by a clipper whose application to the campaign is
  approved, while the campaign is published and not ended, up to
  ``MAX_POSTS_PER_CAMPAIGN`` live posts; the link is parsed (never fetched) and must
  be on one of the campaign's platforms;
- a (platform, post id) exists once in the whole system: the check before the
  insert gives the friendly message, the unique constraint settles races (the
  loser gets the same ``ConflictError`` and nothing is written);
- a reason is required to reject, request a revision or remove;
- object-level access: a clipper reaches only their own submissions, a brand
  only those of its campaigns, staff all; a miss is "not found".
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from app import events
from app.audit import service as audit
from app.db import utcnow
from app.errors import ConflictError, NotFoundError, ValidationError
from app.extensions import db
from app.notifications import service as notifications
from app.social.platforms import parse_post_url
from app.submissions.models import Submission

TRANSITIONS: frozenset[tuple[str, str]] = frozenset({
    ("submitted", "approved"), ("submitted", "rejected"), ("submitted", "revision_requested"),
    ("revision_requested", "submitted"), ("approved", "removed"),
})
REASON_REQUIRED = frozenset({"rejected", "revision_requested", "removed"})
LIVE_STATUSES = ("submitted", "approved", "revision_requested")
MAX_POSTS_PER_CAMPAIGN = 20
MAX_REASON_LENGTH = 1000
STAFF = ("admin", "support")
NOTICE = {"approved": "submission_approved", "rejected": "submission_rejected",
          "revision_requested": "submission_revision_requested", "removed": "submission_removed"}
ALREADY_SUBMITTED = "This post is already submitted. Each post can be submitted once."


def _campaign(campaign_id: int):
    from app.campaigns import service as campaigns

    return campaigns.own_campaign_for_staff(campaign_id)


def _locked(submission_id: int) -> Submission:
    submission = db.session.scalar(select(Submission).where(Submission.id == submission_id).with_for_update()
                                   .execution_options(populate_existing=True))
    if submission is None:
        raise NotFoundError("There is no such submission.")
    return submission


def clean_reason(reason: object, *, required: bool) -> str | None:
    text = reason.strip() if isinstance(reason, str) else ""
    if required and not text:
        raise ValidationError("Give a reason; the clipper will see it.", field="reason")
    if len(text) > MAX_REASON_LENGTH:
        raise ValidationError(f"The reason is too long (at most {MAX_REASON_LENGTH} characters).", field="reason")
    return text or None


def transition(submission_id: int, to_status: str, *, actor_id: int | None, reason: str | None = None,
               now: datetime | None = None) -> Submission:
    """Move a submission to ``to_status`` if the table allows it. Does not commit."""
    submission = _locked(submission_id)
    pair = (submission.status, to_status)
    if pair not in TRANSITIONS:
        raise ConflictError(f"A post that is {submission.status.replace('_', ' ')} cannot become "
                            f"{to_status.replace('_', ' ')}.")
    reason = clean_reason(reason, required=to_status in REASON_REQUIRED)
    now = now or utcnow()
    submission.status = to_status
    submission.status_reason = reason
    if to_status == "submitted":
        submission.submitted_at = now
    else:
        submission.reviewed_at = now
    if to_status == "approved":
        submission.approved_at = now
    audit.record(actor_id, f"submission.{to_status}", "submission", submission.id, reason=reason,
                 from_status=pair[0], to_status=to_status, campaign_id=submission.campaign_id)
    if to_status in NOTICE:
        campaign = _campaign(submission.campaign_id)
        notifications.notify(submission.clipper_id, NOTICE[to_status], title=campaign.title, reason=reason or "",
                             url=f"/my/submissions/{submission.id}")
    return submission


# -- submitting ---------------------------------------------------------------------------

def _require_participant(campaign, clipper_id: int):
    from app.campaigns import applications

    application = applications.application_of(campaign.id, clipper_id)
    if application is None or application.status != "approved":
        raise NotFoundError("You can submit posts only to campaigns you were approved for.")
    if campaign.status != "published" or (campaign.ends_at is not None and campaign.ends_at <= utcnow()):
        raise ConflictError("This campaign is not taking posts any more.")
    return application


def _already_submitted(platform: str, post_id: str) -> bool:
    return db.session.scalar(select(Submission.id).where(
        Submission.platform == platform, Submission.post_id == post_id)) is not None


def submit_post(campaign_id: int, clipper_id: int, post_url: str) -> Submission:
    """Record a post link for an approved application; tracking starts on ``SubmissionSubmitted``. Commits."""
    campaign = _campaign(campaign_id)
    application = _require_participant(campaign, clipper_id)
    parsed = parse_post_url(post_url, campaign.platforms)
    if _already_submitted(parsed.platform, parsed.post_id):
        raise ConflictError(ALREADY_SUBMITTED, field="post_url")
    live = db.session.scalar(select(func.count()).select_from(Submission).where(
        Submission.campaign_id == campaign.id, Submission.clipper_id == clipper_id,
        Submission.status.in_(LIVE_STATUSES))) or 0
    if live >= MAX_POSTS_PER_CAMPAIGN:
        raise ConflictError(f"You already have {MAX_POSTS_PER_CAMPAIGN} posts in this campaign.", field="post_url")
    now = utcnow()
    submission = Submission(campaign_id=campaign.id, application_id=application.id, clipper_id=clipper_id,
                            platform=parsed.platform, post_id=parsed.post_id, post_url=parsed.canonical_url,
                            status="submitted", submitted_at=now)
    try:
        with db.session.begin_nested():
            db.session.add(submission)
            db.session.flush()
    except IntegrityError:
        db.session.rollback()
        raise ConflictError(ALREADY_SUBMITTED, field="post_url") from None
    events.publish(events.SubmissionSubmitted(submission.id, submission.clipper_id, submission.platform))
    audit.record(clipper_id, "submission.submitted", "submission", submission.id, campaign_id=campaign.id,
                 platform=parsed.platform, post_id=parsed.post_id)
    from app.accounts import service as accounts

    notifications.notify(campaign.brand_id, "submission_received", title=campaign.title,
                         handle=accounts.get_user(clipper_id).handle or "",
                         url=f"/brand/campaigns/{campaign.id}/submissions")
    try:
        db.session.commit()
    except IntegrityError:
        db.session.rollback()
        raise ConflictError(ALREADY_SUBMITTED, field="post_url") from None
    return submission


def resubmit(submission_id: int, clipper_id: int, post_url: str | None = None) -> Submission:
    """After a revision request: send the post back for review, optionally as a new link. Commits."""
    submission = _locked(submission_id)
    if submission.clipper_id != clipper_id:
        raise NotFoundError("There is no such submission.")
    if post_url and post_url.strip():
        campaign = _campaign(submission.campaign_id)
        parsed = parse_post_url(post_url, campaign.platforms)
        if (parsed.platform, parsed.post_id) != (submission.platform, submission.post_id):
            if submission.status != "revision_requested":
                raise ConflictError("Only a post with changes requested can be sent again.")
            if _already_submitted(parsed.platform, parsed.post_id):
                raise ConflictError(ALREADY_SUBMITTED, field="post_url")
            submission.platform, submission.post_id = parsed.platform, parsed.post_id
            submission.post_url = parsed.canonical_url
    transition(submission.id, "submitted", actor_id=clipper_id)
    try:
        db.session.commit()
    except IntegrityError:
        db.session.rollback()
        raise ConflictError(ALREADY_SUBMITTED, field="post_url") from None
    return submission


# -- the brand's review -------------------------------------------------------------------

BRAND_DECISIONS = {"approve": "approved", "reject": "rejected", "revise": "revision_requested"}


def review_submission(submission_id: int, brand_id: int, decision: str, reason: str | None = None) -> Submission:
    """The brand approves, rejects (with reason) or asks for a revision (with reason). Commits."""
    if decision not in BRAND_DECISIONS:
        raise ValidationError("Choose approve, reject or request a revision.")
    submission = db.session.get(Submission, submission_id)
    if submission is None or _campaign(submission.campaign_id).brand_id != brand_id:
        raise NotFoundError("There is no such submission.")
    transition(submission_id, BRAND_DECISIONS[decision], actor_id=brand_id, reason=reason)
    db.session.commit()
    return submission


def remove_submission(submission_id: int, actor_id: int | None, reason: str) -> Submission:
    """Take an approved post out (fraud or policy); ``SubmissionRemoved`` reverses what it
    earned in the same transaction. Does not commit (callers own the transaction)."""
    submission = transition(submission_id, "removed", actor_id=actor_id, reason=reason)
    events.publish(events.SubmissionRemoved(submission_id))
    return submission


def approve_overdue(now: datetime | None = None, limit: int = 500) -> int:
    """Approve posts the brand did not review within the campaign's auto-approval window. Commits."""
    from app.campaigns.models import Campaign

    now = now or utcnow()
    rows = db.session.execute(
        select(Submission.id, Submission.submitted_at, Campaign.auto_approve_hours)
        .join(Campaign, Campaign.id == Submission.campaign_id)
        .where(Submission.status == "submitted").order_by(Submission.submitted_at).limit(limit)
    ).all()
    approved = 0
    for submission_id, submitted_at, hours in rows:
        if submitted_at + timedelta(hours=hours) > now:
            continue
        submission = _locked(submission_id)
        if submission.status != "submitted":  # changed since we read it
            continue
        transition(submission_id, "approved", actor_id=None, reason="approved automatically: not reviewed in time",
                   now=now)
        db.session.commit()
        approved += 1
    return approved


# -- reading ------------------------------------------------------------------------------

def may_see(submission: Submission, user) -> bool:
    if user is None or not getattr(user, "is_authenticated", False):
        return False
    if user.role in STAFF:
        return True
    if user.role == "clipper":
        return submission.clipper_id == user.id
    if user.role == "brand":
        return _campaign(submission.campaign_id).brand_id == user.id
    return False


def allowed_actions(submission: Submission, user) -> frozenset[str]:
    """What ``user`` may do with ``submission`` now, from ``TRANSITIONS`` and who they are:
    ``resubmit`` and ``upload_clip`` (its clipper), ``review`` (its brand), ``remove`` (admin)."""
    if not may_see(submission, user):
        return frozenset()
    status, actions = submission.status, set()
    if user.role == "clipper":
        if (status, "submitted") in TRANSITIONS:
            actions.add("resubmit")
        if status in LIVE_STATUSES:
            actions.add("upload_clip")
    elif user.role == "brand":
        if all((status, to) in TRANSITIONS for to in BRAND_DECISIONS.values()):
            actions.add("review")
    elif user.role == "admin" and (status, "removed") in TRANSITIONS:
        actions.add("remove")
    return frozenset(actions)


def submission_for(submission_id: int, user) -> Submission:
    submission = db.session.get(Submission, submission_id)
    if submission is None or not may_see(submission, user):
        raise NotFoundError("There is no such submission.")
    return submission


def get(submission_id: int) -> Submission:
    submission = db.session.get(Submission, submission_id)
    if submission is None:
        raise NotFoundError("There is no such submission.")
    return submission


def submissions_of(clipper_id: int, campaign_id: int | None = None) -> list[Submission]:
    query = select(Submission).where(Submission.clipper_id == clipper_id)
    if campaign_id is not None:
        query = query.where(Submission.campaign_id == campaign_id)
    return list(db.session.scalars(query.order_by(Submission.id.desc()).limit(200)))


def submissions_for_campaign(campaign_id: int) -> list[Submission]:
    return list(db.session.scalars(select(Submission).where(Submission.campaign_id == campaign_id)
                                   .order_by(Submission.id.desc()).limit(500)))
