"""Campaign funding: how much a campaign holds in escrow, offline and card funding, refunds.

Invariants: "funded" is the campaign's ``campaign_escrow`` balance in the ledger,
never a counter stored here. Money enters escrow two ways, each one ledger posting
whose key makes a repeat harmless:
- ``record_offline_funding``: ``offline_clearing -> campaign_escrow``, key from the
  campaign id and the staff member's reference;
- card (Stripe Checkout): ``start_card_funding`` creates the session (amount =
  budget - funded; no brand-side fee today) and a ``CampaignPayment`` row; the
  webhook handlers (``checkout.session.completed`` and ``payment_intent.succeeded``,
  either first) re-read the session from Stripe and, if it is paid with this
  campaign id, amount and currency, post ``stripe_clearing -> campaign_escrow``
  with key ``stripe-checkout-<session id>`` and mark the payment paid — once.
Money leaves escrow back to the brand only through ``refund_unspent_escrow``: for a
completed campaign after its last hold window (``hold_days`` after completion, no
open dispute), ``campaign_escrow -> campaign_refunds``, then card payments are
refunded through Stripe newest first (``campaign_refunds -> stripe_clearing``, the
Stripe call keyed by our refund row id) and what was paid offline waits for staff
to record the transfer (``record_offline_refund``: ``campaign_refunds ->
offline_clearing``). Writers lock the campaign row first, then ledger accounts.

Reading escrow balances joins the ledger's account table read-only (the feed
needs it inside one SQL statement); writes go through ``ledger.service`` only.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import func, select

from app.audit import service as audit
from app.campaigns.models import Campaign
from app.db import utcnow
from app.errors import ConflictError, NotFoundError, ValidationError
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


# -- card funding (Stripe Checkout) ------------------------------------------------------------

def _lock_campaign(campaign_id: int) -> Campaign:
    campaign = db.session.scalar(select(Campaign).where(Campaign.id == campaign_id).with_for_update()
                                 .execution_options(populate_existing=True))
    if campaign is None:
        raise NotFoundError("There is no such campaign.")
    return campaign


def card_amount_due(campaign: Campaign) -> int:
    return max(0, (campaign.budget_cents or 0) - funded_cents(campaign.id))


def start_card_funding(campaign_id: int, brand_id: int, brand_email: str, success_url: str, cancel_url: str) -> str:
    """Open a Stripe Checkout Session for what the budget still lacks; the URL to send the brand to. Commits."""
    from app.payments.models import CampaignPayment
    from app.payments.stripe_gateway import get_gateway

    campaign = db.session.get(Campaign, campaign_id)
    if campaign is None or campaign.brand_id != brand_id:
        raise NotFoundError("There is no such campaign.")
    if campaign.status not in FUNDABLE_STATUSES:
        raise ValidationError(f"A {campaign.status.replace('_', ' ')} campaign cannot take new funding.")
    amount = card_amount_due(campaign)
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


def _credit_checkout(session) -> bool:
    """Post a paid session to escrow once; True if it moved money now. Does not commit."""
    from app.payments.models import CampaignPayment

    if session.payment_status != "paid" or session.campaign_id is None:
        return False
    payment_campaign = db.session.scalar(select(CampaignPayment.campaign_id).where(
        CampaignPayment.checkout_session_id == session.id))
    if payment_campaign is None or payment_campaign != session.campaign_id:
        raise ConflictError(f"Checkout session {session.id} is not one we opened for campaign {session.campaign_id}.")
    campaign = _lock_campaign(payment_campaign)
    payment = db.session.scalar(select(CampaignPayment).where(CampaignPayment.checkout_session_id == session.id)
                                .with_for_update().execution_options(populate_existing=True))
    if payment.status == "paid":
        return False
    if session.amount_total_cents != payment.amount_cents or session.currency.upper() != payment.currency.upper():
        raise ConflictError(f"Checkout session {session.id} was paid for another amount than we asked.")
    clearing = ledger.platform_account("stripe_clearing", campaign.currency)
    escrow = ledger.get_account("campaign", campaign.id, "campaign_escrow", campaign.currency)
    ledger.post(f"stripe-checkout-{session.id}", "stripe_funding",
                [ledger.Line(clearing, -payment.amount_cents), ledger.Line(escrow, payment.amount_cents)],
                memo=f"Card payment, Checkout Session {session.id}", ref_type="campaign", ref_id=campaign.id)
    payment.status, payment.paid_at, payment.payment_intent_id = "paid", utcnow(), session.payment_intent_id
    audit.record(None, "campaign.funding_recorded", "campaign", campaign.id, amount_cents=payment.amount_cents,
                 currency=campaign.currency, reference=session.id)
    return True


def apply_checkout_completed(event: dict[str, Any]) -> None:
    """Webhook ``checkout.session.completed``: re-read the session, credit it if paid."""
    from app.payments.stripe_gateway import get_gateway

    _credit_checkout(get_gateway().retrieve_checkout_session(event["data"]["object"]["id"]))


def apply_payment_intent_succeeded(event: dict[str, Any]) -> None:
    """Webhook ``payment_intent.succeeded`` (may come before the session's event): find our open
    session for that campaign whose re-read state names this PaymentIntent, and credit it."""
    from app.payments.models import CampaignPayment
    from app.payments.stripe_gateway import get_gateway

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


# -- refunds of unspent escrow --------------------------------------------------------------------

def _refund_due(campaign: Campaign, now: datetime) -> bool:
    from app.submissions.models import Submission
    from app.tracking import service as tracking

    if campaign.status != "completed" or campaign.updated_at + timedelta(days=campaign.hold_days) > now:
        return False
    post_ids = db.session.scalars(select(Submission.id).where(Submission.campaign_id == campaign.id)).all()
    return not tracking.submissions_with_open_dispute(post_ids)


def refund_unspent_escrow(campaign_id: int, now: datetime | None = None) -> int:
    """Give a closed campaign's unspent escrow back; the amount set aside for refund (0 if
    not due or nothing left). Card payments are refunded through Stripe at once. Commits."""
    from app.payments.models import CampaignPayment, CampaignRefund

    now = now or utcnow()
    campaign = _lock_campaign(campaign_id)
    escrow = ledger.get_account("campaign", campaign.id, "campaign_escrow", campaign.currency)
    amount = ledger.balance(escrow)
    if amount <= 0 or not _refund_due(campaign, now):
        db.session.rollback()
        return 0
    refunds = ledger.get_account("campaign", campaign.id, "campaign_refunds", campaign.currency)
    left = amount
    created = []
    for payment in db.session.scalars(select(CampaignPayment).where(
            CampaignPayment.campaign_id == campaign.id, CampaignPayment.status == "paid",
            CampaignPayment.refunded_cents < CampaignPayment.amount_cents)
            .order_by(CampaignPayment.id.desc()).with_for_update()):
        if left <= 0:
            break
        part = min(left, payment.amount_cents - payment.refunded_cents)
        payment.refunded_cents += part
        created.append(CampaignRefund(campaign_id=campaign.id, payment_id=payment.id, amount_cents=part,
                                      currency=campaign.currency, method="stripe", status="pending", created_at=now))
        left -= part
    if left > 0:
        created.append(CampaignRefund(campaign_id=campaign.id, amount_cents=left, currency=campaign.currency,
                                      method="offline", status="pending", created_at=now))
    db.session.add_all(created)
    db.session.flush()
    ledger.post(f"campaign-refund-{created[0].id}", "campaign_refund",
                [ledger.Line(escrow, -amount), ledger.Line(refunds, amount)],
                memo="Unspent budget set aside for the brand", ref_type="campaign", ref_id=campaign.id)
    audit.record(None, "campaign.refund_started", "campaign", campaign.id, amount_cents=amount)
    db.session.commit()
    for refund in created:
        if refund.method == "stripe":
            send_stripe_refund(refund.id)
    return amount


def send_stripe_refund(refund_id: int) -> str:
    """Ask Stripe to refund a pending card refund (keyed by our row id, so a retry is the same
    refund); on success move it ``campaign_refunds -> stripe_clearing``. Commits; the status."""
    from app.payments.models import CampaignPayment, CampaignRefund
    from app.payments.stripe_errors import StripeGatewayError
    from app.payments.stripe_gateway import get_gateway

    refund = db.session.get(CampaignRefund, refund_id)
    if refund is None or refund.status != "pending" or refund.method != "stripe":
        return refund.status if refund else "missing"
    intent_id = db.session.scalar(select(CampaignPayment.payment_intent_id).where(
        CampaignPayment.id == refund.payment_id))
    amount, campaign_id = refund.amount_cents, refund.campaign_id
    db.session.rollback()
    try:
        sent = get_gateway().create_refund(intent_id, amount, f"campaign-refund-{refund_id}", campaign_id=campaign_id)
    except StripeGatewayError:
        return "pending"  # the next run tries again with the same key
    campaign = _lock_campaign(campaign_id)
    refund = db.session.scalar(select(CampaignRefund).where(CampaignRefund.id == refund_id).with_for_update()
                               .execution_options(populate_existing=True))
    if refund.status == "pending":
        _settle_refund(refund, campaign, "stripe_clearing", f"Stripe refund {sent.id}")
        refund.stripe_refund_id = sent.id
    db.session.commit()
    return refund.status


def _settle_refund(refund, campaign: Campaign, clearing_purpose: str, memo: str) -> None:
    refunds = ledger.get_account("campaign", campaign.id, "campaign_refunds", campaign.currency)
    clearing = ledger.platform_account(clearing_purpose, campaign.currency)
    ledger.post(f"campaign-refund-{refund.id}-sent", "campaign_refund_sent",
                [ledger.Line(refunds, -refund.amount_cents), ledger.Line(clearing, refund.amount_cents)],
                memo=memo, ref_type="campaign", ref_id=campaign.id)
    refund.status, refund.settled_at = "succeeded", utcnow()


def record_offline_refund(refund_id: int, reference: str, admin_id: int) -> None:
    """Staff sent the brand's offline-paid money back; ``reference`` is their transfer. Commits."""
    from app.payments.models import CampaignRefund

    reference = reference.strip() if isinstance(reference, str) else ""
    if not reference or len(reference) > MAX_REFERENCE_LENGTH:
        raise ValidationError(f"Give the transfer reference (1 to {MAX_REFERENCE_LENGTH} characters).",
                              field="reference")
    campaign_id = db.session.scalar(select(CampaignRefund.campaign_id).where(CampaignRefund.id == refund_id))
    if campaign_id is None:
        raise NotFoundError("There is no such refund.")
    campaign = _lock_campaign(campaign_id)
    refund = db.session.scalar(select(CampaignRefund).where(CampaignRefund.id == refund_id).with_for_update())
    if refund.method != "offline" or refund.status != "pending":
        raise ConflictError("Only a pending offline refund can be recorded as sent.")
    _settle_refund(refund, campaign, "offline_clearing", f"Offline refund, reference {reference}")
    refund.reference = reference
    audit.record(admin_id, "campaign.refund_recorded", "campaign", campaign.id, amount_cents=refund.amount_cents,
                 reference=reference)
    db.session.commit()


def refund_due_campaigns(now: datetime | None = None) -> int:
    """The scheduled refund: completed campaigns with escrow left; also retries pending card refunds.
    The number of campaigns refunded now. Safe to run twice."""
    from app.payments.models import CampaignRefund

    now = now or utcnow()
    candidates = db.session.execute(
        select(Campaign.id).join(LedgerAccount, (LedgerAccount.owner_type == "campaign")
                                 & (LedgerAccount.owner_id == Campaign.id)
                                 & (LedgerAccount.purpose == "campaign_escrow")
                                 & (LedgerAccount.currency == Campaign.currency))
        .where(Campaign.status == "completed", LedgerAccount.balance_cents > 0).order_by(Campaign.id)).scalars().all()
    refunded = sum(1 for campaign_id in candidates if refund_unspent_escrow(campaign_id, now) > 0)
    for refund_id in db.session.scalars(select(CampaignRefund.id).where(
            CampaignRefund.status == "pending", CampaignRefund.method == "stripe")).all():
        send_stripe_refund(refund_id)
    return refunded


def refunds_of(campaign_id: int) -> list:
    from app.payments.models import CampaignRefund

    return list(db.session.scalars(select(CampaignRefund).where(CampaignRefund.campaign_id == campaign_id)
                                   .order_by(CampaignRefund.id)))
