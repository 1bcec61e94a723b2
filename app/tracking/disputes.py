"""Brands' disputes of a post's views, and the admin's resolution.

Invariants:
- only the campaign's brand disputes, only a live post (submitted or approved),
  with a reason, and at most one open dispute per post (checked under the post's
  ``TrackingState`` row lock); opening raises the ``disputed`` signal so the post
  returns to the queue with the dispute attached;
- ``resolve`` ends an open dispute exactly once with one of ``OUTCOMES``:
  ``upheld`` (the counts stand), ``adjusted`` (the admin sets the correct count:
  a verified manual snapshot, which may be lower — an explicit correction, recorded
  and audited, not a silent drop), ``removed`` (the post goes ``approved -> removed``);
  the ``disputed`` signal is cleared and both brand and clipper are told;
- ``transition`` is the only code that changes a dispute's status: it locks the row,
  checks ``TRANSITIONS`` and writes an audit event (after the post's ``TrackingState``
  lock, which every caller takes first); an adjusted count goes through
  ``snapshots.record_verified_correction`` (which rejects the pending counts through
  ``snapshots.decide``);
- the brand and the clipper of the post read the dispute and its outcome.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select

from app.audit import service as audit
from app.db import utcnow
from app.errors import ConflictError, NotFoundError, ValidationError
from app.extensions import db
from app.notifications import service as notifications
from app.submissions import service as submissions
from app.tracking import claims, fraud
from app.tracking.models import DISPUTE_OUTCOMES, Dispute, FraudSignal
from app.tracking.snapshots import clean_count, lock_state, record_verified_correction

TRANSITIONS = frozenset({("open", "resolved")})
OUTCOME_TEXT = {"upheld": "the view counts stand", "adjusted": "the view count was corrected to {views:,}",
                "removed": "the post was removed"}
# The admin's choices when resolving, one per outcome of ``DISPUTE_OUTCOMES`` (the form's options).
OUTCOME_CHOICES = {"upheld": "Uphold: the counts stand", "adjusted": "Adjust the count", "removed": "Remove the post"}


def _campaign(submission):
    from app.campaigns import service as campaigns

    return campaigns.own_campaign_for_staff(submission.campaign_id)


def open_dispute(submission_id: int, brand_id: int, reason: str) -> Dispute:
    """The brand disputes a post's views. Commits."""
    submission = submissions.get(submission_id)
    campaign = _campaign(submission)
    if campaign.brand_id != brand_id:
        raise NotFoundError("There is no such submission.")
    reason = submissions.clean_reason(reason, required=True)
    lock_state(submission_id)
    if submission.status not in ("submitted", "approved"):
        raise ConflictError("Only a live post's views can be disputed.")
    if open_dispute_of(submission_id) is not None:
        raise ConflictError("This post already has an open dispute.")
    dispute = Dispute(submission_id=submission_id, brand_id=brand_id, reason=reason, status="open",
                      created_at=utcnow())
    db.session.add(dispute)
    db.session.flush()
    fraud.raise_signal(submission_id, "disputed", {"dispute_id": dispute.id})
    audit.record(brand_id, "dispute.opened", "submission", submission_id, reason=reason, dispute_id=dispute.id)
    notifications.notify(submission.clipper_id, "dispute_opened", title=campaign.title, reason=reason,
                         url=f"/my/submissions/{submission_id}")
    db.session.commit()
    return dispute


def open_dispute_of(submission_id: int) -> Dispute | None:
    return db.session.scalar(select(Dispute).where(Dispute.submission_id == submission_id,
                                                   Dispute.status == "open"))


def disputes_for(submission_ids: list[int]) -> dict[int, list[tuple[Dispute, str]]]:
    """Each post's disputes, newest first, with the outcome text both sides read (one query)."""
    found: dict[int, list[tuple[Dispute, str]]] = {i: [] for i in submission_ids}
    if submission_ids:
        for dispute in db.session.scalars(select(Dispute).where(Dispute.submission_id.in_(submission_ids))
                                          .order_by(Dispute.id.desc())):
            found[dispute.submission_id].append((dispute, outcome_text(dispute)))
    return found


def dispute_submission(dispute_id: int) -> int:
    submission_id = db.session.scalar(select(Dispute.submission_id).where(Dispute.id == dispute_id))
    if submission_id is None:
        raise NotFoundError("There is no such dispute.")
    return submission_id


def disputes_of(submission_id: int) -> list[Dispute]:
    return list(db.session.scalars(select(Dispute).where(Dispute.submission_id == submission_id)
                                   .order_by(Dispute.id.desc())))


def transition(dispute_id: int, to_status: str, *, actor_id: int | None, **fields) -> Dispute:
    """Move a dispute to ``to_status`` if the table allows it, setting ``fields`` with it. Does not commit."""
    dispute = db.session.scalar(select(Dispute).where(Dispute.id == dispute_id).with_for_update()
                                .execution_options(populate_existing=True))
    if dispute is None:
        raise NotFoundError("There is no such dispute.")
    if (dispute.status, to_status) not in TRANSITIONS:
        raise ConflictError(f"This dispute is already {dispute.status}.")
    from_status = dispute.status
    dispute.status = to_status
    for name, value in fields.items():
        setattr(dispute, name, value)
    audit.record(actor_id, f"dispute.{to_status}", "submission", dispute.submission_id, dispute_id=dispute.id,
                 from_status=from_status, to_status=to_status, reason=fields.get("resolution_note"),
                 outcome=fields.get("outcome"), adjusted_views=fields.get("adjusted_views"))
    db.session.flush()
    return dispute


def resolve(dispute_id: int, admin_id: int, outcome: str, note: str | None = None, views: object = None,
            now: datetime | None = None) -> Dispute:
    """End an open dispute: uphold, adjust the count, or remove the post. Commits."""

    if outcome not in DISPUTE_OUTCOMES:
        raise ValidationError("Choose uphold, adjust the count or remove the post.", field="outcome")
    now = now or utcnow()
    submission_id = db.session.scalar(select(Dispute.submission_id).where(Dispute.id == dispute_id))
    if submission_id is None:
        raise NotFoundError("There is no such dispute.")
    lock_state(submission_id)
    claims.require_claim(submission_id, admin_id, now)
    note = submissions.clean_reason(note, required=outcome == "removed")
    adjusted = clean_count(views) if outcome == "adjusted" else None
    dispute = transition(dispute_id, "resolved", actor_id=admin_id, outcome=outcome, resolution_note=note,
                         adjusted_views=adjusted, resolved_by_id=admin_id, resolved_at=now)
    if outcome == "adjusted":
        # Pending counts above the correction would undo it: they are rejected with it.
        record_verified_correction(submission_id, adjusted, admin_id=admin_id, now=now,
                                   reason=f"dispute {dispute.id}: count corrected",
                                   superseded_reason=f"superseded by the correction of dispute {dispute.id}")
    elif outcome == "removed":
        submissions.remove_submission(submission_id, admin_id, note)
    # The dispute is resolved now, so its "disputed" signals may be cleared.
    for signal in db.session.scalars(select(FraudSignal).where(
            FraudSignal.submission_id == submission_id, FraudSignal.kind == "disputed",
            FraudSignal.cleared_at.is_(None))):
        fraud.clear_signal(signal, admin_id)
    submission = submissions.get(submission_id)
    campaign = _campaign(submission)
    text = OUTCOME_TEXT[outcome].format(views=adjusted or 0) + (f" ({note})" if note else "")
    for user_id, url in ((dispute.brand_id, f"/brand/submissions/{submission_id}"),
                         (submission.clipper_id, f"/my/submissions/{submission_id}")):
        notifications.notify(user_id, "dispute_resolved", title=campaign.title, reason=text, url=url)
    db.session.commit()
    return dispute


def outcome_text(dispute: Dispute) -> str:
    if dispute.status == "open":
        return "open — an admin is looking at it"
    text = OUTCOME_TEXT[dispute.outcome].format(views=dispute.adjusted_views or 0)
    return text + (f" ({dispute.resolution_note})" if dispute.resolution_note else "")
