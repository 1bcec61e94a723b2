"""Clippers' applications to campaigns.

Invariants:
- ``transition`` is the only code that sets ``Application.status``: it checks
  ``TRANSITIONS``, locks the campaign row and then the application row (always in
  that order, so two writers never deadlock), and writes an audit event;
- ``max_participants`` holds under concurrency: every approval counts approved
  applications while holding the campaign's row lock, so of two approvals racing
  for the last place exactly one wins (the other gets ``CampaignFullError``);
- one application per clipper per campaign (unique constraint; a second gets a
  clear ``ConflictError``); a clipper applies only to a published campaign that has
  not ended; with ``approval_mode == "automatic"`` the application is approved in
  the same transaction;
- brands act only on applications to their own campaigns, clippers only on their own.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import func, select

from app.audit import service as audit
from app.campaigns import rules
from app.campaigns.models import Application, Campaign
from app.db import utcnow
from app.errors import ConflictError, NotFoundError, ValidationError
from app.extensions import db
from app.notifications import service as notifications

TRANSITIONS: frozenset[tuple[str, str]] = frozenset({
    ("applied", "approved"), ("applied", "rejected"), ("approved", "removed"), ("applied", "withdrawn"),
})
MAX_PITCH_LENGTH = 1000
REASON_SHOWN = ("rejected", "removed")
MAX_REASON_LENGTH = 1000


class CampaignFullError(ConflictError):
    title = "Campaign full"


def _lock_campaign(campaign_id: int) -> Campaign:
    campaign = db.session.scalar(select(Campaign).where(Campaign.id == campaign_id).with_for_update()
                                 .execution_options(populate_existing=True))
    if campaign is None:
        raise NotFoundError("There is no such campaign.")
    return campaign


def _lock_application(application_id: int) -> tuple[Campaign, Application]:
    campaign_id = db.session.scalar(select(Application.campaign_id).where(Application.id == application_id))
    if campaign_id is None:
        raise NotFoundError("There is no such application.")
    campaign = _lock_campaign(campaign_id)
    application = db.session.scalar(select(Application).where(Application.id == application_id)
                                    .with_for_update().execution_options(populate_existing=True))
    return campaign, application


def approved_count(campaign_id: int) -> int:
    return db.session.scalar(select(func.count()).select_from(Application).where(
        Application.campaign_id == campaign_id, Application.status == "approved")) or 0


def _transition(campaign: Campaign, application: Application, to_status: str, *, actor_id: int | None,
                reason: str | None = None) -> Application:
    pair = (application.status, to_status)
    if pair not in TRANSITIONS:
        raise ConflictError(f"An application that is {application.status} cannot become {to_status}.")
    if to_status == "approved" and campaign.max_participants is not None \
            and approved_count(campaign.id) >= campaign.max_participants:
        raise CampaignFullError("This campaign has no places left.")
    application.status = to_status
    application.decided_at = utcnow()
    application.decision_reason = reason
    audit.record(actor_id, f"application.{to_status}", "application", application.id, reason=reason,
                 from_status=pair[0], to_status=to_status, campaign_id=campaign.id)
    kind = {"approved": "application_approved", "rejected": "application_rejected",
            "removed": "application_removed"}.get(to_status)
    if kind:
        notifications.notify(application.clipper_id, kind, title=campaign.title, reason=reason or "",
                             campaign_id=campaign.id, url=f"/campaigns/{campaign.id}")
    return application


def transition(application_id: int, to_status: str, *, actor_id: int | None, reason: str | None = None
               ) -> Application:
    """Move an application to ``to_status`` if the table allows it. Does not commit."""
    campaign, application = _lock_application(application_id)
    return _transition(campaign, application, to_status, actor_id=actor_id, reason=reason)


def _clean_reason(reason, *, required: bool) -> str | None:
    reason = reason.strip() if isinstance(reason, str) else ""
    if required and not reason:
        raise ValidationError("Give a reason; the clipper will see it.", field="reason")
    if len(reason) > MAX_REASON_LENGTH:
        raise ValidationError(f"The reason is too long (at most {MAX_REASON_LENGTH} characters).", field="reason")
    return reason or None


def apply(campaign_id: int, clipper_id: int, pitch: str) -> Application:
    """Apply to a published campaign with a pitch; approved at once in automatic mode. Commits."""
    pitch = rules.text_field("pitch", pitch, MAX_PITCH_LENGTH, required=False, multiline=True) if pitch else ""
    if not pitch:
        raise ValidationError("Write a short pitch: why you, and what you will make.", field="pitch")
    campaign = _lock_campaign(campaign_id)
    if campaign.status != "published" or (campaign.ends_at and campaign.ends_at <= utcnow()):
        raise ConflictError("This campaign is not taking applications.")
    existing = db.session.scalar(select(Application).where(
        Application.campaign_id == campaign_id, Application.clipper_id == clipper_id))
    if existing is not None:
        raise ConflictError("You already applied to this campaign.")
    automatic = campaign.approval_mode == "automatic"
    if automatic and campaign.max_participants is not None and approved_count(campaign.id) >= campaign.max_participants:
        raise CampaignFullError("This campaign has no places left.")
    application = Application(campaign_id=campaign.id, clipper_id=clipper_id, pitch=pitch, status="applied")
    db.session.add(application)
    db.session.flush()
    audit.record(clipper_id, "application.applied", "application", application.id, campaign_id=campaign.id)
    from app.accounts import service as accounts

    handle = accounts.get_user(clipper_id).handle or ""
    notifications.notify(campaign.brand_id, "application_received", title=campaign.title, handle=handle,
                         campaign_id=campaign.id, url=f"/brand/campaigns/{campaign.id}")
    if automatic:
        _transition(campaign, application, "approved", actor_id=None, reason="automatic approval")
    db.session.commit()
    return application


def _brand_decision(application_id: int, brand_id: int, to_status: str, reason: str | None) -> Application:
    campaign, application = _lock_application(application_id)
    if campaign.brand_id != brand_id:
        raise NotFoundError("There is no such application.")
    _transition(campaign, application, to_status, actor_id=brand_id, reason=reason)
    db.session.commit()
    return application


def approve_application(application_id: int, brand_id: int) -> Application:
    return _brand_decision(application_id, brand_id, "approved", None)


def reject_application(application_id: int, brand_id: int, reason: str | None = None) -> Application:
    return _brand_decision(application_id, brand_id, "rejected", _clean_reason(reason, required=False))


def remove_participant(application_id: int, brand_id: int, reason: str) -> Application:
    return _brand_decision(application_id, brand_id, "removed", _clean_reason(reason, required=True))


def withdraw_application(application_id: int, clipper_id: int) -> Application:
    campaign, application = _lock_application(application_id)
    if application.clipper_id != clipper_id:
        raise NotFoundError("There is no such application.")
    _transition(campaign, application, "withdrawn", actor_id=clipper_id)
    db.session.commit()
    return application


def allowed_actions(application: Application | None, user, campaign: Campaign | None = None) -> frozenset[str]:
    """What ``user`` may do with ``application`` now, from ``TRANSITIONS`` and who they are: the
    campaign's brand ``approve``, ``reject``, ``remove``; its clipper ``withdraw``. With no
    application yet, a clipper may ``apply`` to a published ``campaign``."""
    role = getattr(user, "role", None)
    if application is None:
        return frozenset({"apply"}) if role == "clipper" and campaign is not None and \
            campaign.status == "published" else frozenset()
    status = application.status
    if role == "clipper" and application.clipper_id == user.id:
        return frozenset({"withdraw"}) if (status, "withdrawn") in TRANSITIONS else frozenset()
    if role == "brand" and campaign is not None and campaign.brand_id == user.id:
        moves = {"approve": "approved", "reject": "rejected", "remove": "removed"}
        return frozenset(action for action, to in moves.items() if (status, to) in TRANSITIONS)
    return frozenset()


# -- reading ------------------------------------------------------------------------------

@dataclass(frozen=True)
class ClipperApplication:
    id: int
    campaign_id: int
    campaign_title: str
    campaign_status: str
    status: str
    reason: str | None
    created_at: object

    @property
    def shown_reason(self) -> str | None:
        """The decision's reason, which the clipper reads on a rejection or a removal."""
        return self.reason if self.status in REASON_SHOWN else None


def applications_of(clipper_id: int) -> list[ClipperApplication]:
    rows = db.session.execute(
        select(Application.id, Application.campaign_id, Campaign.title, Campaign.status, Application.status,
               Application.decision_reason, Application.created_at)
        .join(Campaign, Campaign.id == Application.campaign_id)
        .where(Application.clipper_id == clipper_id).order_by(Application.id.desc())
    )
    return [ClipperApplication(*row) for row in rows]


def applications_to(campaign_id: int) -> list[tuple[Application, str]]:
    """The campaign's applications with each clipper's handle, newest first."""
    from app.accounts.models import User

    rows = db.session.execute(
        select(Application, User.handle).join(User, User.id == Application.clipper_id)
        .where(Application.campaign_id == campaign_id).order_by(Application.id.desc())
    )
    return [(application, handle) for application, handle in rows]


def application_of(campaign_id: int, clipper_id: int) -> Application | None:
    return db.session.scalar(select(Application).where(
        Application.campaign_id == campaign_id, Application.clipper_id == clipper_id))


def is_participant(campaign_id: int, clipper_id: int) -> bool:
    application = application_of(campaign_id, clipper_id)
    return application is not None and application.status == "approved"
