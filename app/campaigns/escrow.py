"""What a campaign holds in escrow and what its budget still lacks (read-only).

Invariants: "funded" is the campaign's ``campaign_escrow`` balance in its own currency,
read through ``app.ledger.reading`` (never a counter stored on the campaign); money
moves in and out of escrow only in ``app.payments`` (funding, refunds) and
``app.earnings`` (accruals), both through ``ledger.service``; nothing here writes.
"""

from __future__ import annotations

from sqlalchemy import func, select

from app.campaigns.models import Campaign
from app.extensions import db
from app.ledger import reading as ledger_reading


def escrow_column():
    """A correlated scalar subquery: the campaign's escrow balance (0 without an account)."""
    return func.coalesce(ledger_reading.escrow_column(Campaign.id, Campaign.currency), 0)


def funded_cents(campaign_id: int) -> int:
    """The campaign's escrow balance (0 if never funded or no such campaign)."""
    return db.session.scalar(select(escrow_column()).where(Campaign.id == campaign_id)) or 0


def amount_due_cents(campaign: Campaign) -> int:
    """What the budget still lacks in escrow (0 when fully funded or without a budget)."""
    funded = ledger_reading.escrow_balance(campaign.id, campaign.currency)
    return max(0, (campaign.budget_cents or 0) - funded)


def spent_cents(campaign: Campaign) -> int:
    """Money that ever left the campaign's escrow (earnings accrued to clippers, refunds)."""
    return ledger_reading.outflow_cents("campaign", campaign.id, "campaign_escrow", campaign.currency)
