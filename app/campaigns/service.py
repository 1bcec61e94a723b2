"""Campaigns: create and edit drafts, the lifecycle, and who may see what.

Invariants:
- ``transition`` is the only code that sets ``Campaign.status``: it checks
  ``TRANSITIONS``, locks the row (``SELECT ... FOR UPDATE``), runs the guard of the
  target status, writes an audit event, and the caller's wrapper commits once;
- a campaign is submitted only when ``rules`` finds it complete and valid and its
  escrow (the ledger) holds at least its budget;
- only drafts are edited freely; a published or paused campaign may change its
  brief, a later end date and caps upward only (``edit_live_campaign``); CPM and
  budget are fixed once live;
- brands reach only their own campaigns, clippers only published ones (or ones they
  applied to), staff all (``campaign_for``); a miss is "not found", never a hint.
"""

from __future__ import annotations

from sqlalchemy import func, select

from app.audit import service as audit
from app.campaigns import escrow, rules
from app.campaigns.models import PLATFORMS, Application, Campaign, platforms_from_mask
from app.db import utcnow
from app.errors import ConflictError, NotFoundError, PermissionDeniedError, ValidationError
from app.extensions import db
from app.notifications import service as notifications

# (from, to) pairs; nothing else is a legal status change.
TRANSITIONS: frozenset[tuple[str, str]] = frozenset({
    ("draft", "pending_review"),
    ("pending_review", "published"),
    ("pending_review", "draft"),  # changes requested (with a reason)
    ("published", "paused"),
    ("paused", "published"),
    ("published", "completed"),
    ("paused", "completed"),
    ("draft", "discarded"),
    ("pending_review", "discarded"),
})
REASON_REQUIRED = frozenset({("pending_review", "draft")})
# The moves a brand makes itself (the rest are the admin's review): action -> allowed pairs.
BRAND_MOVES: dict[str, frozenset[tuple[str, str]]] = {
    "submit": frozenset({("draft", "pending_review")}),
    "pause": frozenset({("published", "paused")}),
    "resume": frozenset({("paused", "published")}),
    "complete": frozenset({("published", "completed"), ("paused", "completed")}),
    "discard": frozenset({("draft", "discarded"), ("pending_review", "discarded")}),
}
ADMIN_REVIEW = frozenset({("pending_review", "published"), ("pending_review", "draft")})
LIVE_STATUSES = ("published", "paused")
STAFF = ("admin", "support")
MAX_REASON_LENGTH = 2000


def _values(campaign: Campaign) -> dict:
    values = {name: getattr(campaign, name) for name in rules.FIELDS if name != "platforms"}
    values["platforms"] = platforms_from_mask(campaign.platforms_mask)
    return values


def _assign(campaign: Campaign, cleaned: dict) -> None:
    for name, value in cleaned.items():
        if name == "platforms":
            campaign.platforms_mask = sum(PLATFORMS[p] for p in value)
        else:
            setattr(campaign, name, value)


def _locked(campaign_id: int) -> Campaign:
    campaign = db.session.scalar(
        select(Campaign).where(Campaign.id == campaign_id).with_for_update()
        .execution_options(populate_existing=True)
    )
    if campaign is None:
        raise NotFoundError("There is no such campaign.")
    return campaign


def _own_draft(campaign_id: int, brand_id: int) -> Campaign:
    campaign = _locked(campaign_id)
    if campaign.brand_id != brand_id:
        raise NotFoundError("There is no such campaign.")
    if campaign.status != "draft":
        raise ConflictError("Only a draft can be changed this way.")
    return campaign


# -- creating and editing -----------------------------------------------------------------

def create_campaign(brand_id: int, **values) -> Campaign:
    """A new draft from ``values`` (at least the basics: title, brief, platforms). Commits."""
    if not values.keys() >= {"title", "brief", "platforms"}:
        raise ValidationError("A campaign needs a title, a brief and at least one platform.")
    cleaned = rules.check(values)
    campaign = Campaign(brand_id=brand_id, status="draft", title=cleaned["title"])
    _assign(campaign, cleaned)
    db.session.add(campaign)
    db.session.flush()
    audit.record(brand_id, "campaign.created", "campaign", campaign.id)
    db.session.commit()
    return campaign


def update_draft(campaign_id: int, brand_id: int, **values) -> Campaign:
    """Change a draft's fields (any subset of ``rules.FIELDS``). Commits."""
    campaign = _own_draft(campaign_id, brand_id)
    cleaned = rules.check(values, _values(campaign))
    _assign(campaign, cleaned)
    db.session.commit()
    return campaign


LIVE_EDITABLE = ("brief", "ends_at", "max_payout_per_post_cents", "max_earnings_per_clipper_cents",
                 "max_participants")


def edit_live_campaign(campaign_id: int, brand_id: int, **values) -> Campaign:
    """Edit a published or paused campaign: brief, a later end date, caps upward. Commits."""
    campaign = _locked(campaign_id)
    if campaign.brand_id != brand_id:
        raise NotFoundError("There is no such campaign.")
    if campaign.status not in LIVE_STATUSES:
        raise ConflictError("Only a published or paused campaign is edited this way.")
    fixed = set(values) - set(LIVE_EDITABLE)
    if fixed:
        raise ValidationError("CPM, budget and the other terms of a live campaign change only through a new "
                              "review; here you can change the brief, a later end date and caps upward.")
    current = _values(campaign)
    cleaned = rules.check(values, current)
    if "ends_at" in cleaned and (cleaned["ends_at"] is None or cleaned["ends_at"] < current["ends_at"]):
        raise ValidationError("The end date of a live campaign can only move later.", field="ends_at")
    for cap in LIVE_EDITABLE[2:]:
        if cap in cleaned and current[cap] is not None and (cleaned[cap] is None or cleaned[cap] < current[cap]):
            raise ValidationError(f"{rules.LABELS[cap]} of a live campaign can only go up.", field=cap)
    changed = {name: value for name, value in cleaned.items() if value != current[name]}
    _assign(campaign, changed)
    audit.record(brand_id, "campaign.edited", "campaign", campaign.id, fields=sorted(changed))
    db.session.commit()
    return campaign


# -- lifecycle ----------------------------------------------------------------------------

def _guard_submission(campaign: Campaign) -> None:
    missing = rules.missing_for_submission(_values(campaign))
    if missing:
        raise ValidationError("Before submitting, add: " + ", ".join(missing) + ".")
    rules.check(_values(campaign))  # every rule again, in case rules changed since the draft was saved
    funded = escrow.funded_cents(campaign.id)
    if funded < campaign.budget_cents:
        from app.money import format_money

        raise ValidationError(
            f"Fund the campaign before submitting: {format_money(funded, campaign.currency)} of "
            f"{format_money(campaign.budget_cents, campaign.currency)} is in escrow.")


def transition(campaign_id: int, to_status: str, *, actor_id: int | None, reason: str | None = None,
               only: frozenset[tuple[str, str]] | None = None) -> Campaign:
    """Move a campaign to ``to_status`` if the table (and ``only``, the caller's moves) allows it.
    Does not commit."""
    campaign = _locked(campaign_id)
    pair = (campaign.status, to_status)
    if pair not in TRANSITIONS or (only is not None and pair not in only):
        raise ConflictError(f"A {campaign.status.replace('_', ' ')} campaign cannot become "
                            f"{to_status.replace('_', ' ')}.")
    reason = reason.strip() if isinstance(reason, str) else None
    if reason and len(reason) > MAX_REASON_LENGTH:
        raise ValidationError(f"The reason is too long (at most {MAX_REASON_LENGTH} characters).", field="reason")
    if pair in REASON_REQUIRED and not reason:
        raise ValidationError("Say what needs to change.", field="reason")
    if to_status == "pending_review":
        _guard_submission(campaign)
    if to_status == "published" and campaign.published_at is None:
        campaign.published_at = utcnow()
    campaign.review_note = reason if pair in REASON_REQUIRED else campaign.review_note
    campaign.status = to_status
    audit.record(actor_id, f"campaign.{to_status}", "campaign", campaign.id, reason=reason,
                 from_status=pair[0], to_status=to_status)
    return campaign


def _brand_transition(campaign_id: int, brand_id: int, to_status: str, action: str) -> Campaign:
    owner = db.session.scalar(select(Campaign.brand_id).where(Campaign.id == campaign_id))
    if owner is None or owner != brand_id:
        raise NotFoundError("There is no such campaign.")
    campaign = transition(campaign_id, to_status, actor_id=brand_id, only=BRAND_MOVES[action])
    db.session.commit()
    return campaign


def submit_campaign(campaign_id: int, brand_id: int) -> Campaign:
    return _brand_transition(campaign_id, brand_id, "pending_review", "submit")


def pause_campaign(campaign_id: int, brand_id: int) -> Campaign:
    return _brand_transition(campaign_id, brand_id, "paused", "pause")


def resume_campaign(campaign_id: int, brand_id: int) -> Campaign:
    return _brand_transition(campaign_id, brand_id, "published", "resume")


def complete_campaign(campaign_id: int, brand_id: int) -> Campaign:
    return _brand_transition(campaign_id, brand_id, "completed", "complete")


def withdraw_campaign(campaign_id: int, brand_id: int) -> Campaign:
    """The brand discards its own draft or pending campaign."""
    return _brand_transition(campaign_id, brand_id, "discarded", "discard")


def approve_campaign(campaign_id: int, admin_id: int) -> Campaign:
    campaign = transition(campaign_id, "published", actor_id=admin_id)
    notifications.notify(campaign.brand_id, "campaign_approved", title=campaign.title,
                         campaign_id=campaign.id, url=f"/brand/campaigns/{campaign.id}")
    db.session.commit()
    return campaign


def request_changes(campaign_id: int, admin_id: int, reason: str) -> Campaign:
    campaign = transition(campaign_id, "draft", actor_id=admin_id, reason=reason)
    notifications.notify(campaign.brand_id, "campaign_changes_requested", title=campaign.title,
                         reason=campaign.review_note, campaign_id=campaign.id,
                         url=f"/brand/campaigns/{campaign.id}")
    db.session.commit()
    return campaign


def discard_campaign(campaign_id: int, admin_id: int, reason: str) -> Campaign:
    if not isinstance(reason, str) or not reason.strip():
        raise ValidationError("Say why the campaign is discarded.", field="reason")
    campaign = transition(campaign_id, "discarded", actor_id=admin_id, reason=reason)
    notifications.notify(campaign.brand_id, "campaign_discarded", title=campaign.title, reason=reason.strip(),
                         campaign_id=campaign.id, url=f"/brand/campaigns/{campaign.id}")
    db.session.commit()
    return campaign


# -- reading ------------------------------------------------------------------------------

def allowed_actions(campaign: Campaign, user) -> frozenset[str]:
    """What ``user`` may do with ``campaign`` now, from ``TRANSITIONS`` and who they are: its
    brand ``edit`` (a draft), ``edit_live`` (published or paused) and the ``BRAND_MOVES``
    (submit, pause, resume, complete, discard) and ``see_refunds`` (a completed campaign's unspent
    budget goes back: the list is payments' page); staff ``review`` (approve, request changes)."""
    role, status = getattr(user, "role", None), campaign.status
    if role == "brand" and campaign.brand_id == user.id:
        actions = {action for action, pairs in BRAND_MOVES.items()
                   if any(pair[0] == status and pair in TRANSITIONS for pair in pairs)}
        if status == "draft":
            actions.add("edit")
        if status in LIVE_STATUSES:
            actions.add("edit_live")
        if status == "completed":
            actions.add("see_refunds")
        return frozenset(actions)
    if role in STAFF and any(pair[0] == status and pair in TRANSITIONS for pair in ADMIN_REVIEW):
        return frozenset({"review"})
    return frozenset()


def campaign_for(campaign_id: int, user) -> Campaign:
    """The campaign if ``user`` may see it, else NotFoundError (never reveals existence)."""
    campaign = db.session.get(Campaign, campaign_id)
    if campaign is None or user is None or not getattr(user, "is_authenticated", False):
        raise NotFoundError("There is no such campaign.")
    if user.role in STAFF:
        return campaign
    if user.role == "brand" and campaign.brand_id == user.id:
        return campaign
    if user.role == "clipper":
        if campaign.status == "published":
            return campaign
        applied = db.session.scalar(select(Application.id).where(
            Application.campaign_id == campaign.id, Application.clipper_id == user.id))
        if applied is not None and campaign.status in ("paused", "completed"):
            return campaign
    raise NotFoundError("There is no such campaign.")


def own_campaign(campaign_id: int, brand_id: int) -> Campaign:
    campaign = db.session.get(Campaign, campaign_id)
    if campaign is None or campaign.brand_id != brand_id:
        raise NotFoundError("There is no such campaign.")
    return campaign


def brand_campaigns(brand_id: int, status: str | None = None) -> list[Campaign]:
    query = select(Campaign).where(Campaign.brand_id == brand_id)
    if status:
        query = query.where(Campaign.status == status)
    return list(db.session.scalars(query.order_by(Campaign.id.desc()).limit(200)))


def status_counts(brand_id: int) -> dict[str, int]:
    rows = db.session.execute(select(Campaign.status, func.count()).where(Campaign.brand_id == brand_id)
                              .group_by(Campaign.status))
    return dict(rows.all())


def review_queue() -> list[Campaign]:
    return list(db.session.scalars(
        select(Campaign).where(Campaign.status == "pending_review").order_by(Campaign.updated_at, Campaign.id)
    ))


def require_staff(user) -> None:
    if getattr(user, "role", None) not in STAFF:
        raise PermissionDeniedError("Only staff can do this.")


def own_campaign_for_staff(campaign_id: int) -> Campaign:
    campaign = db.session.get(Campaign, campaign_id)
    if campaign is None:
        raise NotFoundError("There is no such campaign.")
    return campaign
