"""Earnings: a submission's verified views become money, held, then released; clawbacks.

The rule (DESIGN rule 1): for a submission's latest verified count ``views``

    earnable_views = max(0, views - baseline_views), and 0 while below the campaign's
                     min_views_per_post
    target_gross   = floor(earnable_views * cpm_cents / 1000), capped by the per-post
                     maximum and by what the per-clipper maximum leaves after the
                     clipper's other posts in the campaign;
    an increase is further capped by the campaign's escrow balance (locked);
    fee            = floor(gross * PLATFORM_FEE_BPS / 10000), always computed on the
                     cumulative gross, so many small steps end exactly where one step
                     would; net = gross - fee.

Ledger scheme (sign convention of ``app.ledger.models``: a line adds to its account):

    accrual   campaign_escrow -g, platform_fees +f, clipper_pending +n
              key ``earnings-snapshot-<snapshot id>``
    reversal  (lower count or removal) the same backwards; the clipper's side comes
              from clipper_pending first (this post's part of it), then
              clipper_available, and what is left (already paid out) goes into
              clipper_receivable (negative: owed)
    release   clipper_pending -n, clipper_receivable +min(n, owed), clipper_available
              +the rest: a receivable is paid back at release, so "available" is
              always net of what the clipper owes and payouts (which read available
              only) never pay money that is owed.
    Keys other than accruals: ``earnings-<earning id>-v<version>``.

Invariants:
- lock order, for every writer here: the campaign row (``FOR UPDATE``) — which
  serialises all accruals of one campaign, so the escrow cap is read under lock —
  then the ``SubmissionEarning`` row, then the ledger accounts in id order (the
  ledger's own order, also taken by payout runs); callers from tracking hold the
  post's ``TrackingState`` lock before that;
- nothing here commits except the scheduled entry points (``release_due``); the
  hooks run inside the transaction that verified the count or removed the post;
- when an accrual leaves the escrow empty, a published campaign is paused (through
  ``campaigns.service.transition``) and the brand is told;
- a release happens only for money accrued at least ``hold_days`` ago, for a post
  with no open dispute whose clipper has no open fraud flag.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from flask import current_app
from sqlalchemy import func, select

from app import events
from app.campaigns import service as campaigns
from app.campaigns.models import Campaign
from app.db import dialect_insert, utcnow
from app.earnings.models import EarningEntry, SubmissionEarning
from app.extensions import db
from app.ledger import reading as ledger_reading
from app.ledger import service as ledger
from app.ledger.reading import Account
from app.notifications import service as notifications
from app.submissions import service as submissions
from app.tracking import service as tracking
from app.tracking.models import ViewSnapshot

CLIPPER_PURPOSES = ("clipper_pending", "clipper_available", "clipper_receivable")


def fee_bps() -> int:
    return int(current_app.config.get("PLATFORM_FEE_BPS", 1000))


def fee_for(gross_cents: int, bps: int) -> int:
    return gross_cents * bps // 10_000


def earnable_views(views: int, baseline_views: int, min_views_per_post: int) -> int:
    earnable = max(0, views - baseline_views)
    return earnable if earnable >= min_views_per_post else 0


def gross_for(earnable: int, cpm_cents: int) -> int:
    return earnable * cpm_cents // 1000


# -- locking ------------------------------------------------------------------------------

def _lock_campaign(campaign_id: int) -> Campaign:
    return db.session.scalar(select(Campaign).where(Campaign.id == campaign_id).with_for_update()
                             .execution_options(populate_existing=True))


def _lock_earning(submission_id: int, campaign: Campaign | None = None, clipper_id: int | None = None
                  ) -> SubmissionEarning | None:
    """The post's earnings row, locked; created (race-safe) when ``campaign`` is given."""
    if campaign is not None:
        db.session.execute(dialect_insert(db.session, SubmissionEarning).values(
            submission_id=submission_id, campaign_id=campaign.id, clipper_id=clipper_id, currency=campaign.currency,
            baseline_views=0, gross_cents=0, fee_cents=0, pending_cents=0, released_cents=0, version=0,
            updated_at=utcnow()).on_conflict_do_nothing())
    return db.session.scalar(select(SubmissionEarning).where(SubmissionEarning.submission_id == submission_id)
                             .with_for_update().execution_options(populate_existing=True))


@dataclass
class _Accounts:
    escrow: Account | None
    fees: Account | None
    pending: Account
    available: Account
    receivable: Account


def _lock_accounts(earning: SubmissionEarning, *, with_campaign: bool) -> _Accounts:
    """Create (if needed) and lock the accounts this change may touch, in id order."""
    currency = earning.currency
    found = {purpose: ledger.get_account("user", earning.clipper_id, purpose, currency) for purpose in CLIPPER_PURPOSES}
    escrow = fees = None
    if with_campaign:
        escrow = ledger.get_account("campaign", earning.campaign_id, "campaign_escrow", currency)
        fees = ledger.platform_account("platform_fees", currency)
    ids = sorted(a.id for a in [*found.values(), escrow, fees] if a is not None)
    locked = ledger_reading.lock_accounts(ids)
    return _Accounts(locked[escrow.id] if escrow else None, locked[fees.id] if fees else None,
                     *(locked[found[p].id] for p in CLIPPER_PURPOSES))


def _lines(*pairs) -> list[ledger.Line]:
    return [ledger.Line(account, amount) for account, amount in pairs if amount]


# -- moving to a new gross ------------------------------------------------------------------

def _move_to(earning: SubmissionEarning, campaign: Campaign, wanted_gross: int, *, key: str, kind: str,
             snapshot_id: int | None = None, views: int | None = None, earnable: int | None = None,
             note: str = "", now: datetime | None = None) -> EarningEntry | None:
    """Post what takes the post from its current gross to ``wanted_gross`` (an increase capped by
    the escrow). The entry written, or None when nothing changes."""
    now = now or utcnow()
    accounts = _lock_accounts(earning, with_campaign=True)
    bps = fee_bps()
    gross = earning.gross_cents
    if wanted_gross > gross:
        room = accounts.escrow.balance_cents
        new_gross = gross + min(wanted_gross - gross, room)
        if new_gross < wanted_gross:
            note = (note + "; " if note else "") + "capped by the campaign's remaining budget"
    else:
        new_gross = wanted_gross
    if new_gross == gross:
        return None
    new_fee = min(fee_for(new_gross, bps), new_gross)
    gross_delta, fee_delta = new_gross - gross, new_fee - earning.fee_cents
    net_delta = gross_delta - fee_delta
    pending_delta = available_delta = receivable_delta = 0
    if net_delta >= 0:
        pending_delta = net_delta
    else:
        owed = -net_delta
        pending_delta = -min(earning.pending_cents, owed)
        owed += pending_delta
        available_delta = -min(accounts.available.balance_cents, owed)
        receivable_delta = -(owed + available_delta)
    transaction = ledger.post(
        key, "earnings_" + kind,
        _lines((accounts.escrow, -gross_delta), (accounts.fees, fee_delta), (accounts.pending, pending_delta),
               (accounts.available, available_delta), (accounts.receivable, receivable_delta)),
        memo=f"Submission {earning.submission_id}: gross {gross} -> {new_gross}", ref_type="submission",
        ref_id=earning.submission_id) if (gross_delta or fee_delta) else None
    earning.gross_cents, earning.fee_cents = new_gross, new_fee
    earning.pending_cents += pending_delta
    earning.released_cents += available_delta + receivable_delta
    earning.version += 1
    earning.updated_at = now
    if snapshot_id is not None:
        earning.last_snapshot_id = snapshot_id
    entry = EarningEntry(earning_id=earning.id, kind=kind, snapshot_id=snapshot_id, views=views,
                         earnable_views=earnable, gross_delta_cents=gross_delta, fee_delta_cents=fee_delta,
                         net_delta_cents=net_delta, pending_delta_cents=pending_delta,
                         available_delta_cents=available_delta, receivable_delta_cents=receivable_delta,
                         gross_after_cents=new_gross, note=note[:300],
                         ledger_transaction_id=transaction.id if transaction else None, created_at=now)
    db.session.add(entry)
    db.session.flush()
    if gross_delta > 0 and accounts.escrow.balance_cents == 0:
        _budget_exhausted(campaign)
    return entry


def _budget_exhausted(campaign: Campaign) -> None:

    if campaign.status != "published":
        return
    campaigns.transition(campaign.id, "paused", actor_id=None, reason="budget spent")
    notifications.notify(campaign.brand_id, "campaign_budget_exhausted", title=campaign.title,
                         url=f"/brand/campaigns/{campaign.id}")


def _target_gross(earning: SubmissionEarning, campaign: Campaign, views: int) -> tuple[int, int, str]:
    """(wanted gross, earnable views, which caps bit) for a verified count of ``views``."""
    earnable = earnable_views(views, earning.baseline_views, campaign.min_views_per_post)
    gross = gross_for(earnable, campaign.cpm_cents or 0)
    notes = []
    if earnable == 0 and views > earning.baseline_views:
        notes.append(f"below the campaign minimum of {campaign.min_views_per_post:,} views")
    if campaign.max_payout_per_post_cents is not None and gross > campaign.max_payout_per_post_cents:
        gross = campaign.max_payout_per_post_cents
        notes.append("capped by the per-post maximum")
    if campaign.max_earnings_per_clipper_cents is not None:
        others = int(db.session.scalar(select(func.coalesce(func.sum(SubmissionEarning.gross_cents), 0)).where(
            SubmissionEarning.campaign_id == campaign.id, SubmissionEarning.clipper_id == earning.clipper_id,
            SubmissionEarning.id != earning.id)))
        room = max(0, campaign.max_earnings_per_clipper_cents - others)
        if gross > room:
            # Never claw back because another post grew: keep what this post already has.
            gross = max(room, min(gross, earning.gross_cents))
            notes.append("capped by the per-clipper maximum")
    return gross, earnable, "; ".join(notes)


# -- hooks ----------------------------------------------------------------------------------

def accrue_for_snapshot(snapshot_id: int, now: datetime | None = None) -> EarningEntry | None:
    """A count was verified: bring the post's gross to what that count earns. Does not commit."""

    snapshot = db.session.get(ViewSnapshot, snapshot_id)
    submission = submissions.get(snapshot.submission_id)
    if submission.status != "approved":
        return None  # a post earns once approved; the next verified count catches up
    campaign = _lock_campaign(submission.campaign_id)
    earning = _lock_earning(submission.id, campaign, submission.clipper_id)
    wanted, earnable, note = _target_gross(earning, campaign, snapshot.views)
    kind = "accrual" if wanted >= earning.gross_cents else "reversal"
    return _move_to(earning, campaign, wanted, key=f"earnings-snapshot-{snapshot_id}", kind=kind,
                    snapshot_id=snapshot_id, views=snapshot.views, earnable=earnable, note=note, now=now)


def reverse_for_removal(submission_id: int, now: datetime | None = None) -> EarningEntry | None:
    """The post was removed: everything it earned goes back to the escrow. Does not commit."""

    submission = submissions.get(submission_id)
    campaign = _lock_campaign(submission.campaign_id)
    earning = _lock_earning(submission_id)
    if earning is None or earning.gross_cents == 0:
        return None
    return _move_to(earning, campaign, 0, key=f"earnings-{earning.id}-v{earning.version + 1}", kind="removal",
                    note="post removed", now=now)


def on_snapshot_verified(event: events.SnapshotVerified) -> None:
    """Event handler: a verified count becomes money in the transaction that verified it."""
    accrue_for_snapshot(event.snapshot_id)


def on_submission_removed(event: events.SubmissionRemoved) -> None:
    """Event handler: a removed post gives back what it earned, in the removing transaction."""
    reverse_for_removal(event.submission_id)


# -- release ------------------------------------------------------------------------------

def _matured_net(earning_id: int, cutoff: datetime) -> int:
    """Net earned by entries past the hold, minus every reversal however recent (a clawback
    counts at once, so it can never let younger money out early)."""
    return int(db.session.scalar(select(func.coalesce(func.sum(EarningEntry.net_delta_cents), 0)).where(
        EarningEntry.earning_id == earning_id, EarningEntry.kind != "release",
        (EarningEntry.created_at <= cutoff) | (EarningEntry.net_delta_cents < 0))))


def release_earning(earning_id: int, now: datetime | None = None) -> EarningEntry | None:
    """Move this post's matured pending money to available (paying any receivable first).
    Does not commit; the caller checked disputes and fraud flags."""
    now = now or utcnow()
    hold_days = db.session.scalar(select(Campaign.hold_days).join(
        SubmissionEarning, SubmissionEarning.campaign_id == Campaign.id).where(SubmissionEarning.id == earning_id))
    earning = db.session.scalar(select(SubmissionEarning).where(SubmissionEarning.id == earning_id)
                                .with_for_update().execution_options(populate_existing=True))
    if earning is None or earning.pending_cents <= 0:
        return None
    matured = _matured_net(earning.id, now - timedelta(days=hold_days))
    amount = min(earning.pending_cents, matured - earning.released_cents)
    if amount <= 0:
        return None
    accounts = _lock_accounts(earning, with_campaign=False)
    repay = min(amount, -accounts.receivable.balance_cents)
    earning.version += 1
    transaction = ledger.post(
        f"earnings-{earning.id}-v{earning.version}", "earnings_release",
        _lines((accounts.pending, -amount), (accounts.receivable, repay), (accounts.available, amount - repay)),
        memo=f"Submission {earning.submission_id}: released after the hold", ref_type="submission",
        ref_id=earning.submission_id)
    earning.pending_cents -= amount
    earning.released_cents += amount
    earning.updated_at = now
    entry = EarningEntry(earning_id=earning.id, kind="release", pending_delta_cents=-amount,
                         available_delta_cents=amount - repay, receivable_delta_cents=repay,
                         gross_after_cents=earning.gross_cents,
                         note="hold window over" + (f"; {repay} cents paid back what was owed" if repay else ""),
                         ledger_transaction_id=transaction.id, created_at=now)
    db.session.add(entry)
    db.session.flush()
    return entry


def releasable_earning_ids(after_id: int = 0, limit: int = 500) -> tuple[list[int], int | None]:
    """One page (by id, after ``after_id``) of posts with pending money: those with no open
    dispute whose clipper has no open fraud flag, and the last id seen (None: no more)."""

    rows = db.session.execute(
        select(SubmissionEarning.id, SubmissionEarning.submission_id, SubmissionEarning.clipper_id)
        .where(SubmissionEarning.pending_cents > 0, SubmissionEarning.id > after_id)
        .order_by(SubmissionEarning.id).limit(limit)).all()
    if not rows:
        return [], None
    disputed = tracking.submissions_with_open_dispute([r.submission_id for r in rows])
    flagged = tracking.clippers_with_open_fraud_flag({r.clipper_id for r in rows})
    return [r.id for r in rows if r.submission_id not in disputed and r.clipper_id not in flagged], rows[-1].id


def release_due(now: datetime | None = None) -> int:
    """The scheduled release: each eligible post in its own short transaction (the hold is
    checked per entry in ``release_earning``). Commits; the number of posts that released
    money. Safe to run twice (keys come from the rows)."""
    released, after_id = 0, 0
    while after_id is not None:
        earning_ids, after_id = releasable_earning_ids(after_id)
        for earning_id in earning_ids:
            if release_earning(earning_id, now) is not None:
                released += 1
            db.session.commit()
    return released
