"""Refunds of unspent escrow: a closed campaign's money goes back to the brand.

Invariants: money leaves escrow back to the brand only through ``refund_unspent_escrow``:
for a completed campaign after its last hold window (``hold_days`` after completion, no
open dispute), ``campaign_escrow -> campaign_refunds`` in the same transaction as the
``CampaignRefund`` rows (``pending``); card payments are refunded through Stripe newest
first (``campaign_refunds -> stripe_clearing``, the Stripe call keyed by our refund row
id, so a retry is the same refund) and what was paid offline waits for staff to record
the transfer (``record_offline_refund``: ``campaign_refunds -> offline_clearing``). A
refund is ``succeeded`` once, in ``_settle_refund``, with its clearing posting.
``CampaignPayment.refunded_cents`` never exceeds the amount paid (also a CHECK). Only
this module writes ``CampaignRefund`` rows. Writers lock the campaign row first
(``funding.lock_campaign``), then the payment/refund rows, then ledger accounts.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import and_, select

from app.audit import service as audit
from app.campaigns.models import Campaign
from app.db import utcnow
from app.errors import ConflictError, NotFoundError
from app.extensions import db
from app.ledger import reading as ledger_reading
from app.ledger import service as ledger
from app.payments.funding import check_reference, lock_campaign
from app.payments.models import REFUND_TRANSITIONS, CampaignPayment, CampaignRefund
from app.payments.stripe_errors import StripeGatewayError
from app.payments.stripe_gateway import get_gateway
from app.submissions.models import Submission
from app.tracking import service as tracking


def _refund_due(campaign: Campaign, now: datetime) -> bool:
    if campaign.status != "completed" or campaign.updated_at + timedelta(days=campaign.hold_days) > now:
        return False
    post_ids = db.session.scalars(select(Submission.id).where(Submission.campaign_id == campaign.id)).all()
    return not tracking.submissions_with_open_dispute(post_ids)


def refund_unspent_escrow(campaign_id: int, now: datetime | None = None) -> int:
    """Give a closed campaign's unspent escrow back; the amount set aside for refund (0 if
    not due or nothing left). Card payments are refunded through Stripe at once. Commits."""
    now = now or utcnow()
    campaign = lock_campaign(campaign_id)
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
    campaign = lock_campaign(campaign_id)
    refund = db.session.scalar(select(CampaignRefund).where(CampaignRefund.id == refund_id).with_for_update()
                               .execution_options(populate_existing=True))
    if refund.status == "pending":
        _settle_refund(refund, campaign, "stripe_clearing", f"Stripe refund {sent.id}")
        refund.stripe_refund_id = sent.id
    db.session.commit()
    return refund.status


def _settle_refund(refund: CampaignRefund, campaign: Campaign, clearing_purpose: str, memo: str) -> None:
    refunds = ledger.get_account("campaign", campaign.id, "campaign_refunds", campaign.currency)
    clearing = ledger.platform_account(clearing_purpose, campaign.currency)
    ledger.post(f"campaign-refund-{refund.id}-sent", "campaign_refund_sent",
                [ledger.Line(refunds, -refund.amount_cents), ledger.Line(clearing, refund.amount_cents)],
                memo=memo, ref_type="campaign", ref_id=campaign.id)
    mark_refund(refund, "succeeded", settled_at=utcnow())


def mark_refund(refund: CampaignRefund, to_status: str, **fields) -> None:
    """The one place a refund's status changes: the caller holds the campaign and refund row
    locks and records the campaign-level audit event. Does not commit."""
    if (refund.status, to_status) not in REFUND_TRANSITIONS:
        raise ConflictError(f"A refund that is {refund.status} cannot become {to_status}.")
    refund.status = to_status
    for name, value in fields.items():
        setattr(refund, name, value)


def record_offline_refund(refund_id: int, reference: str, admin_id: int) -> None:
    """Staff sent the brand's offline-paid money back; ``reference`` is their transfer. Commits."""
    reference = check_reference(reference, "transfer")
    campaign_id = db.session.scalar(select(CampaignRefund.campaign_id).where(CampaignRefund.id == refund_id))
    if campaign_id is None:
        raise NotFoundError("There is no such refund.")
    campaign = lock_campaign(campaign_id)
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
    now = now or utcnow()
    escrow = ledger_reading.escrow_accounts()
    candidates = db.session.execute(
        select(Campaign.id).join(escrow, and_(escrow.c.owner_id == Campaign.id, escrow.c.currency == Campaign.currency))
        .where(Campaign.status == "completed", escrow.c.balance_cents > 0).order_by(Campaign.id)).scalars().all()
    refunded = sum(1 for campaign_id in candidates if refund_unspent_escrow(campaign_id, now) > 0)
    for refund_id in db.session.scalars(select(CampaignRefund.id).where(
            CampaignRefund.status == "pending", CampaignRefund.method == "stripe")).all():
        send_stripe_refund(refund_id)
    return refunded


def refunds_of(campaign_id: int) -> list[CampaignRefund]:
    return list(db.session.scalars(select(CampaignRefund).where(CampaignRefund.campaign_id == campaign_id)
                                   .order_by(CampaignRefund.id)))
