"""Change requests: a brand asks for a new CPM and/or budget on a live campaign, and an
admin approves (the new terms apply) or rejects it.

Invariants:
- a change request is only made for a published or paused campaign, by its brand,
  and at most one is pending per campaign (checked under the campaign's row lock and
  by a partial unique index);
- the requested terms pass the same ``rules`` as the wizard (positive, not too large,
  a budget that pays for at least 1,000 views at the resulting CPM, caps not above
  the budget) and the budget is never below what already left escrow (spent);
- the campaign keeps running on its old terms until approval; ``approve`` re-checks
  every rule against the campaign as it is then, requires escrow to cover a larger
  budget (funded total = escrow balance + spent), and applies the terms under the
  campaign's row lock in the same transaction as the status change;
- ``_transition`` is the only code that sets ``CampaignChangeRequest.status``: it
  checks ``TRANSITIONS``, locks the request row and writes an audit event on the
  campaign (so the campaign's history shows it); each public function commits once.

"Spent" (money that ever left the campaign's escrow) and "funded" come from
``campaigns.escrow``, which reads the ledger through ``ledger.reading``; nothing here
writes to the ledger.
"""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from app.audit import service as audit
from app.campaigns import escrow, rules
from app.campaigns.models import Campaign, CampaignChangeRequest
from app.db import utcnow
from app.errors import ConflictError, NotFoundError, ValidationError
from app.extensions import db
from app.money import format_money
from app.notifications import service as notifications

TRANSITIONS: frozenset[tuple[str, str]] = frozenset({
    ("pending", "approved"),
    ("pending", "rejected"),
    ("pending", "withdrawn"),
})
REASON_REQUIRED = frozenset({"rejected"})
LIVE_STATUSES = ("published", "paused")
MAX_REASON_LENGTH = 2000


class ChangeNotCoveredError(ValidationError):
    """The new budget is larger than the money the campaign's escrow has received."""


def _locked_campaign(campaign_id: int) -> Campaign:
    campaign = db.session.scalar(select(Campaign).where(Campaign.id == campaign_id).with_for_update()
                                 .execution_options(populate_existing=True))
    if campaign is None:
        raise NotFoundError("There is no such campaign.")
    return campaign


def _locked_request(request_id: int) -> CampaignChangeRequest:
    change = db.session.scalar(select(CampaignChangeRequest).where(CampaignChangeRequest.id == request_id)
                               .with_for_update().execution_options(populate_existing=True))
    if change is None:
        raise NotFoundError("There is no such change request.")
    return change


def _reason(reason, *, required: bool) -> str:
    reason = reason.strip() if isinstance(reason, str) else ""
    if required and not reason:
        raise ValidationError("Say why.", field="reason")
    if len(reason) > MAX_REASON_LENGTH:
        raise ValidationError(f"The reason is too long (at most {MAX_REASON_LENGTH:,} characters).", field="reason")
    return reason


def _checked_terms(campaign: Campaign, cpm_cents, budget_cents) -> dict:
    """The requested terms cleaned by the wizard's rules; only the ones that change."""
    values = {name: value for name, value in (("cpm_cents", cpm_cents), ("budget_cents", budget_cents))
              if value is not None}
    if not values:
        raise ValidationError("Give a new CPM, a new budget, or both.")
    current = {name: getattr(campaign, name) for name in rules.STEP_FIELDS["budget"]}
    cleaned = rules.check(values, current)
    changed = {name: value for name, value in cleaned.items() if value != current[name]}
    if not changed:
        raise ValidationError("These are the campaign's current terms: change the CPM or the budget.")
    spent = escrow.spent_cents(campaign)
    if "budget_cents" in changed and changed["budget_cents"] < spent:
        raise ValidationError(f"The budget cannot go below what is already spent "
                              f"({format_money(spent, campaign.currency)}).", field="budget_cents")
    return changed


def _shortfall(campaign: Campaign, budget_cents: int | None) -> int:
    """How much more escrow must receive before ``budget_cents`` is covered (0: covered)."""
    if budget_cents is None:
        return 0
    received = escrow.funded_cents(campaign.id) + escrow.spent_cents(campaign)
    return max(0, budget_cents - received)


def _own_live_campaign(campaign_id: int, brand_id: int) -> Campaign:
    campaign = _locked_campaign(campaign_id)
    if campaign.brand_id != brand_id:
        raise NotFoundError("There is no such campaign.")
    if campaign.status not in LIVE_STATUSES:
        raise ConflictError("Only a published or paused campaign takes a change request.")
    return campaign


def pending_request(campaign_id: int) -> CampaignChangeRequest | None:
    return db.session.scalar(select(CampaignChangeRequest).where(
        CampaignChangeRequest.campaign_id == campaign_id, CampaignChangeRequest.status == "pending"))


def pending_requests() -> list[tuple[CampaignChangeRequest, Campaign]]:
    """The admin queue's change requests, oldest first, each with its campaign."""
    return list(db.session.execute(
        select(CampaignChangeRequest, Campaign).join(Campaign, Campaign.id == CampaignChangeRequest.campaign_id)
        .where(CampaignChangeRequest.status == "pending")
        .order_by(CampaignChangeRequest.created_at, CampaignChangeRequest.id)
    ).tuples())


def shortfall_cents(change: CampaignChangeRequest, campaign: Campaign) -> int:
    return _shortfall(campaign, change.budget_cents)


def request_change(campaign_id: int, brand_id: int, *, cpm_cents=None, budget_cents=None,
                   reason: str = "") -> CampaignChangeRequest:
    """A pending request for new terms on the brand's live campaign. Commits."""
    campaign = _own_live_campaign(campaign_id, brand_id)
    reason = _reason(reason, required=False)
    changed = _checked_terms(campaign, cpm_cents, budget_cents)
    if pending_request(campaign.id) is not None:
        raise ConflictError("This campaign already has a change waiting for review: withdraw it first.")
    change = CampaignChangeRequest(campaign_id=campaign.id, requested_by_id=brand_id, status="pending",
                                   cpm_cents=changed.get("cpm_cents"), budget_cents=changed.get("budget_cents"),
                                   reason=reason)
    db.session.add(change)
    try:
        db.session.flush()
    except IntegrityError:  # the partial unique index: a pending request appeared meanwhile
        db.session.rollback()
        raise ConflictError("This campaign already has a change waiting for review: withdraw it first.") from None
    audit.record(brand_id, "campaign.change_requested", "campaign", campaign.id, reason=reason or None,
                 change_request_id=change.id, **changed)
    db.session.commit()
    return change


def _check_allowed(change: CampaignChangeRequest, to_status: str) -> None:
    if (change.status, to_status) not in TRANSITIONS:
        raise ConflictError(f"This change request is already {change.status}.")


def _transition(change: CampaignChangeRequest, to_status: str, *, actor_id: int, reason: str = "") -> None:
    """Move a locked request to ``to_status`` if the table allows it. Does not commit."""
    _check_allowed(change, to_status)
    reason = _reason(reason, required=to_status in REASON_REQUIRED)
    change.status = to_status
    change.decided_by_id = actor_id
    change.decided_at = utcnow()
    change.decision_reason = reason or None
    audit.record(actor_id, f"campaign.change_{to_status}", "campaign", change.campaign_id, reason=reason or None,
                 change_request_id=change.id)


def withdraw_change_request(request_id: int, brand_id: int) -> CampaignChangeRequest:
    """The brand takes back its own pending request. Commits."""
    change = _locked_request(request_id)
    owner = db.session.scalar(select(Campaign.brand_id).where(Campaign.id == change.campaign_id))
    if owner != brand_id:
        raise NotFoundError("There is no such change request.")
    _transition(change, "withdrawn", actor_id=brand_id)
    db.session.commit()
    return change


def _terms_text(campaign: Campaign, change: CampaignChangeRequest) -> str:
    parts = []
    if change.cpm_cents is not None:
        parts.append(f"CPM {format_money(change.cpm_cents, campaign.currency)}")
    if change.budget_cents is not None:
        parts.append(f"budget {format_money(change.budget_cents, campaign.currency)}")
    return ", ".join(parts)


def approve_change_request(request_id: int, admin_id: int) -> CampaignChangeRequest:
    """Apply the requested terms to the campaign (both rows locked) and notify the brand. Commits."""
    change = _locked_request(request_id)
    _check_allowed(change, "approved")
    campaign = _locked_campaign(change.campaign_id)
    if campaign.status not in LIVE_STATUSES:
        raise ConflictError("The campaign is no longer live: reject this request instead.")
    changed = _checked_terms(campaign, change.cpm_cents, change.budget_cents)
    missing = _shortfall(campaign, changed.get("budget_cents"))
    if missing:
        raise ChangeNotCoveredError(f"Escrow does not cover the new budget yet: "
                                    f"{format_money(missing, campaign.currency)} more must be funded first.")
    _transition(change, "approved", actor_id=admin_id)
    before = {name: getattr(campaign, name) for name in changed}
    for name, value in changed.items():
        setattr(campaign, name, value)
    audit.record(admin_id, "campaign.terms_changed", "campaign", campaign.id, change_request_id=change.id,
                 before=before, after=changed)
    notifications.notify(campaign.brand_id, "campaign_change_approved", title=campaign.title,
                         terms=_terms_text(campaign, change), campaign_id=campaign.id,
                         url=f"/brand/campaigns/{campaign.id}")
    db.session.commit()
    return change


def reject_change_request(request_id: int, admin_id: int, reason: str) -> CampaignChangeRequest:
    """Refuse the request with a reason; the campaign keeps its terms. Commits."""
    change = _locked_request(request_id)
    _transition(change, "rejected", actor_id=admin_id, reason=reason)
    title = db.session.scalar(select(Campaign.title).where(Campaign.id == change.campaign_id))
    brand_id = db.session.scalar(select(Campaign.brand_id).where(Campaign.id == change.campaign_id))
    notifications.notify(brand_id, "campaign_change_rejected", title=title, reason=change.decision_reason,
                         campaign_id=change.campaign_id, url=f"/brand/campaigns/{change.campaign_id}")
    db.session.commit()
    return change
