"""Brand funding: money into a campaign's escrow, offline (recorded by staff) or by card.

Invariants: "funded" is the campaign's ``campaign_escrow`` balance in the ledger
(``campaigns.escrow``), never a counter stored here; which campaigns may take funding
is the campaigns rule ``rules.may_take_funding``. Money enters escrow two ways, each
one ledger posting whose key makes a repeat harmless:
- ``record_offline_funding``: ``offline_clearing -> campaign_escrow``, key from the
  campaign id and the staff member's reference;
- card (Stripe Checkout): ``start_card_funding`` creates the session (amount =
  budget - funded; no brand-side fee today) and a ``CampaignPayment`` row; the
  webhook handlers (``checkout.session.completed`` and ``payment_intent.succeeded``,
  either first) re-read the session from Stripe and, if it is paid with this
  campaign id, amount and currency, post ``stripe_clearing -> campaign_escrow``
  with key ``stripe-checkout-<session id>`` and mark the payment paid — once.
Only ``app.payments`` writes ``CampaignPayment`` rows (here) and ``CampaignRefund``
rows (``refunds``). Writers lock the campaign row first, then ledger accounts;
ledger writes go through ``ledger.service`` only.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import func, select

from app.audit import service as audit
from app.campaigns import escrow, rules
from app.campaigns.models import Campaign
from app.db import utcnow
from app.errors import ConflictError, NotFoundError, ValidationError
from app.extensions import db
from app.ledger import service as ledger
from app.money import MAX_MINOR_UNITS
from app.payments.models import PAYMENT_TRANSITIONS, CampaignPayment
from app.payments.stripe_gateway import get_gateway

MAX_REFERENCE_LENGTH = 100


def lock_campaign(campaign_id: int, *, refresh: bool = True) -> Campaign:
    """The campaign row, locked ``FOR UPDATE`` (the first lock of every funding or refund writer)."""
    query = select(Campaign).where(Campaign.id == campaign_id).with_for_update()
    if refresh:
        query = query.execution_options(populate_existing=True)
    campaign = db.session.scalar(query)
    if campaign is None:
        raise NotFoundError("There is no such campaign.")
    return campaign


def check_reference(reference, what: str) -> str:
    """A staff member's payment reference, stripped; 1 to ``MAX_REFERENCE_LENGTH`` characters."""
    reference = reference.strip() if isinstance(reference, str) else ""
    if not reference or len(reference) > MAX_REFERENCE_LENGTH:
        raise ValidationError(f"Give the {what} reference (1 to {MAX_REFERENCE_LENGTH} characters).",
                              field="reference")
    return reference


def record_offline_funding(campaign_id: int, amount_cents: int, reference: str, admin_id: int) -> int:
    """Move ``amount_cents`` from offline clearing into the campaign's escrow; the new
    escrow balance. Commits. A repeated reference with the same amount changes nothing."""
    if isinstance(amount_cents, bool) or not isinstance(amount_cents, int) or amount_cents <= 0:
        raise ValidationError("The funding amount must be more than zero.", field="amount")
    if amount_cents > MAX_MINOR_UNITS:
        raise ValidationError("The funding amount is too large.", field="amount")
    reference = check_reference(reference, "payment")
    campaign = lock_campaign(campaign_id, refresh=False)
    rules.check_may_take_funding(campaign)
    before = escrow.funded_cents(campaign.id)
    clearing = ledger.platform_account("offline_clearing", campaign.currency)
    account = ledger.get_account("campaign", campaign.id, "campaign_escrow", campaign.currency)
    ledger.post(
        f"offline-funding:campaign-{campaign.id}:{reference}", "offline_funding",
        [ledger.Line(clearing, -amount_cents), ledger.Line(account, amount_cents)],
        memo=f"Offline funding, reference {reference}", ref_type="campaign", ref_id=campaign.id,
    )
    after = ledger.balance(account)
    if after != before:  # not a retry of the same reference
        audit.record(admin_id, "campaign.funding_recorded", "campaign", campaign.id,
                     amount_cents=amount_cents, currency=campaign.currency, reference=reference)
    db.session.commit()
    return after


# -- card funding (Stripe Checkout) ------------------------------------------------------------

def start_card_funding(campaign_id: int, brand_id: int, brand_email: str, success_url: str, cancel_url: str) -> str:
    """Open a Stripe Checkout Session for what the budget still lacks; the URL to send the brand to. Commits."""
    campaign = db.session.get(Campaign, campaign_id)
    if campaign is None or campaign.brand_id != brand_id:
        raise NotFoundError("There is no such campaign.")
    rules.check_may_take_funding(campaign)
    amount = escrow.amount_due_cents(campaign)
    if amount <= 0:
        raise ValidationError("This campaign's budget is already fully funded." if campaign.budget_cents
                              else "Set the campaign's budget before paying for it.")
    attempt = 1 + db.session.scalar(select(func.count()).select_from(CampaignPayment)
                                    .where(CampaignPayment.campaign_id == campaign.id))
    currency = campaign.currency
    gateway = get_gateway()  # raises PaymentsOfflineError without STRIPE_SECRET_KEY
    db.session.rollback()  # hold no row or lock while Stripe answers
    session = gateway.create_checkout_session(campaign_id, amount, currency, brand_email,
                                              success_url, cancel_url, attempt=attempt)
    db.session.add(CampaignPayment(campaign_id=campaign_id, checkout_session_id=session.id, amount_cents=amount,
                                   currency=currency, status="open", created_at=utcnow()))
    audit.record(brand_id, "campaign.card_funding_started", "campaign", campaign_id, amount_cents=amount,
                 checkout_session_id=session.id)
    db.session.commit()
    return session.url


def mark_payment(payment: CampaignPayment, to_status: str, **fields: Any) -> None:
    """The one place a card payment's status changes: the caller holds the payment row's lock
    (and the campaign's) and records the campaign-level audit event. Does not commit."""
    if (payment.status, to_status) not in PAYMENT_TRANSITIONS:
        raise ConflictError(f"A card payment that is {payment.status} cannot become {to_status}.")
    payment.status = to_status
    for name, value in fields.items():
        setattr(payment, name, value)


def _credit_checkout(session) -> bool:
    """Post a paid session to escrow once; True if it moved money now. Does not commit."""
    if session.payment_status != "paid" or session.campaign_id is None:
        return False
    payment_campaign = db.session.scalar(select(CampaignPayment.campaign_id).where(
        CampaignPayment.checkout_session_id == session.id))
    if payment_campaign is None or payment_campaign != session.campaign_id:
        raise ConflictError(f"Checkout session {session.id} is not one we opened for campaign {session.campaign_id}.")
    campaign = lock_campaign(payment_campaign)
    payment = db.session.scalar(select(CampaignPayment).where(CampaignPayment.checkout_session_id == session.id)
                                .with_for_update().execution_options(populate_existing=True))
    if payment.status == "paid":
        return False
    if session.amount_total_cents != payment.amount_cents or session.currency.upper() != payment.currency.upper():
        raise ConflictError(f"Checkout session {session.id} was paid for another amount than we asked.")
    clearing = ledger.platform_account("stripe_clearing", campaign.currency)
    account = ledger.get_account("campaign", campaign.id, "campaign_escrow", campaign.currency)
    ledger.post(f"stripe-checkout-{session.id}", "stripe_funding",
                [ledger.Line(clearing, -payment.amount_cents), ledger.Line(account, payment.amount_cents)],
                memo=f"Card payment, Checkout Session {session.id}", ref_type="campaign", ref_id=campaign.id)
    mark_payment(payment, "paid", paid_at=utcnow(), payment_intent_id=session.payment_intent_id)
    audit.record(None, "campaign.funding_recorded", "campaign", campaign.id, amount_cents=payment.amount_cents,
                 currency=campaign.currency, reference=session.id)
    return True


def apply_checkout_completed(event: dict[str, Any]) -> None:
    """Webhook ``checkout.session.completed``: re-read the session, credit it if paid."""
    _credit_checkout(get_gateway().retrieve_checkout_session(event["data"]["object"]["id"]))


def apply_payment_intent_succeeded(event: dict[str, Any]) -> None:
    """Webhook ``payment_intent.succeeded`` (may come before the session's event): find our open
    session for that campaign whose re-read state names this PaymentIntent, and credit it."""
    gateway = get_gateway()
    intent = gateway.retrieve_payment_intent(event["data"]["object"]["id"])
    campaign_id = (event["data"]["object"].get("metadata") or {}).get("campaign_id")
    if intent.status != "succeeded" or not str(campaign_id or "").isdigit():
        return
    open_sessions = db.session.scalars(select(CampaignPayment.checkout_session_id).where(
        CampaignPayment.campaign_id == int(campaign_id), CampaignPayment.status == "open")).all()
    for session_id in open_sessions:
        session = gateway.retrieve_checkout_session(session_id)
        if session.payment_intent_id == intent.id:
            _credit_checkout(session)
            return
