"""Campaign funding: how much a campaign holds in escrow, and offline funding.

Invariants: "funded" is the campaign's ``campaign_escrow`` balance in the ledger,
never a counter stored here; ``record_offline_funding`` is the only way money
enters escrow until Stripe funding lands (payments will replace its internals,
keeping the signature): one ledger posting ``offline_clearing(platform) ->
campaign_escrow(campaign)`` whose idempotency key is made of the campaign id and
the staff member's reference, so recording the same reference twice adds money
once; the posting, its audit event and nothing else commit together.

Reading escrow balances joins the ledger's account table read-only (the feed
needs it inside one SQL statement); writes go through ``ledger.service`` only.
"""

from __future__ import annotations

from sqlalchemy import select

from app.audit import service as audit
from app.campaigns.models import Campaign
from app.errors import NotFoundError, ValidationError
from app.extensions import db
from app.ledger import service as ledger
from app.ledger.models import LedgerAccount
from app.money import MAX_MINOR_UNITS

MAX_REFERENCE_LENGTH = 100
FUNDABLE_STATUSES = ("draft", "pending_review", "published", "paused")


def escrow_column():
    """A correlated scalar subquery: the campaign's escrow balance (0 without an account)."""
    return (
        select(LedgerAccount.balance_cents)
        .where(LedgerAccount.owner_type == "campaign", LedgerAccount.owner_id == Campaign.id,
               LedgerAccount.purpose == "campaign_escrow", LedgerAccount.currency == Campaign.currency)
        .correlate(Campaign).scalar_subquery()
    )


def escrow_balances(campaign_ids) -> dict[int, int]:
    """Escrow balance per campaign id (0 for campaigns never funded)."""
    ids = list(campaign_ids)
    if not ids:
        return {}
    rows = db.session.execute(
        select(Campaign.id, LedgerAccount.balance_cents)
        .join(LedgerAccount, (LedgerAccount.owner_type == "campaign") & (LedgerAccount.owner_id == Campaign.id)
              & (LedgerAccount.purpose == "campaign_escrow") & (LedgerAccount.currency == Campaign.currency))
        .where(Campaign.id.in_(ids))
    )
    balances = dict.fromkeys(ids, 0)
    balances.update({campaign_id: balance for campaign_id, balance in rows})
    return balances


def funded_cents(campaign_id: int) -> int:
    return escrow_balances([campaign_id])[campaign_id]


def record_offline_funding(campaign_id: int, amount_cents: int, reference: str, admin_id: int) -> int:
    """Move ``amount_cents`` from offline clearing into the campaign's escrow; the new
    escrow balance. Commits. A repeated reference with the same amount changes nothing."""
    if isinstance(amount_cents, bool) or not isinstance(amount_cents, int) or amount_cents <= 0:
        raise ValidationError("The funding amount must be more than zero.", field="amount")
    if amount_cents > MAX_MINOR_UNITS:
        raise ValidationError("The funding amount is too large.", field="amount")
    reference = reference.strip() if isinstance(reference, str) else ""
    if not reference or len(reference) > MAX_REFERENCE_LENGTH:
        raise ValidationError(f"Give the payment reference (1 to {MAX_REFERENCE_LENGTH} characters).",
                              field="reference")
    campaign = db.session.scalar(select(Campaign).where(Campaign.id == campaign_id).with_for_update())
    if campaign is None:
        raise NotFoundError("There is no such campaign.")
    if campaign.status not in FUNDABLE_STATUSES:
        raise ValidationError(f"A {campaign.status.replace('_', ' ')} campaign cannot take new funding.")
    before = funded_cents(campaign.id)
    clearing = ledger.platform_account("offline_clearing", campaign.currency)
    escrow = ledger.get_account("campaign", campaign.id, "campaign_escrow", campaign.currency)
    ledger.post(
        f"offline-funding:campaign-{campaign.id}:{reference}", "offline_funding",
        [ledger.Line(clearing, -amount_cents), ledger.Line(escrow, amount_cents)],
        memo=f"Offline funding, reference {reference}", ref_type="campaign", ref_id=campaign.id,
    )
    after = ledger.balance(escrow)
    if after != before:  # not a retry of the same reference
        audit.record(admin_id, "campaign.funding_recorded", "campaign", campaign.id,
                     amount_cents=amount_cents, currency=campaign.currency, reference=reference)
    db.session.commit()
    return after
