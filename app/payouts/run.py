"""The payout run: one payout per eligible clipper, set-based, safe to run concurrently.

Eligible: a verified, not suspended clipper with no open hold, no open fraud flag
(``tracking.service.clippers_with_open_fraud_flag``), no open payout, a
payout method (the first rail of ``payouts.rails.RAILS`` the clipper is ready for:
Stripe when PAYMENTS_MODE is "stripe" and the Express account can receive transfers,
else manual details) and an available balance of at least
PAYOUT_MINIMUM_CENTS (the same number of minor units in every currency). A
clipper with balances in two currencies gets the lowest currency code's payout
this run and the other one next run (one open payout per clipper).

Invariants:
- the whole available balance is held: ``clipper_available -> clipper_in_flight``
  with key ``payout-<id>-hold`` in the same database transaction as the payout row;
- clippers are taken in chunks (by user id); per chunk their ledger accounts are
  locked in id order (the ledger's own lock order, so no deadlock with postings),
  then eligibility and balances are read *again* under those locks, so a
  concurrent run that got there first is seen (its payout exists, the balance is
  gone) and the amount is exactly the locked balance; the unique partial index on
  open payouts (``ON CONFLICT DO NOTHING``) is the backstop;
- each chunk commits on its own; each rail dispatches its new payouts after that
  commit (Stripe: ``settle_payouts`` in batches, job id ``payout-settle-<first>-<last>``;
  manual: nothing, support pays them);
- a scheduled run carries a unique ``schedule_key``: the same slot never runs twice.
"""

from __future__ import annotations

from flask import current_app
from sqlalchemy import case, exists, insert, literal, null, select, text

from app.accounts.models import User
from app.db import dialect_insert, on_postgresql, utcnow
from app.extensions import db
from app.ledger import reading as ledger_reading
from app.ledger import service as ledger
from app.payouts import rails
from app.payouts.models import OPEN_STATUSES, Payout, PayoutAccount, PayoutEvent, PayoutHold, PayoutRun
from app.payouts.service import payments_mode
from app.tracking import service as tracking

CHUNK_SIZE = 500


def _method(payments_mode: str):
    """SQL: the key of the first rail the clipper's payout account is ready for, else NULL."""
    whens = [(ready, literal(rail.key)) for rail in rails.RAILS
             if (ready := rail.ready(PayoutAccount, payments_mode)) is not None]
    return case(*whens, else_=None) if whens else null()


def _eligible(minimum_cents: int, payments_mode: str):
    balances = ledger_reading.available_balances_subquery("user", "clipper_available", "clipper_in_flight",
                                                          minimum_cents=minimum_cents)
    method = _method(payments_mode)
    open_hold = exists().where(PayoutHold.user_id == User.id, PayoutHold.released_at.is_(None))
    open_payout = exists().where(Payout.user_id == User.id, Payout.status.in_(OPEN_STATUSES))
    return (
        select(User.id.label("user_id"), balances.c.account_id.label("available_id"), balances.c.currency,
               balances.c.balance_cents, balances.c.paired_id.label("in_flight_id"), method.label("method"),
               PayoutAccount.stripe_account_id)
        .select_from(balances)
        .join(User, User.id == balances.c.owner_id)
        .join(PayoutAccount, PayoutAccount.user_id == User.id)
        .where(User.role == "clipper", User.verified_at.is_not(None), User.suspended_at.is_(None),
               ~open_hold, ~open_payout, method.is_not(None))
        .order_by(User.id, balances.c.currency)
    )


def _start_run(trigger: str, started_by_id: int | None, schedule_key: str | None) -> int | None:
    run_id = db.session.scalar(
        dialect_insert(db.session, PayoutRun).values(
            trigger=trigger, started_by_id=started_by_id, schedule_key=schedule_key,
            started_at=utcnow(), payouts_created=0, total_cents=0)
        .on_conflict_do_nothing().returning(PayoutRun.id)
    )
    db.session.commit()
    return run_id


def run_payouts(trigger: str = "support", started_by_id: int | None = None, schedule_key: str | None = None,
                chunk_size: int = CHUNK_SIZE) -> PayoutRun | None:
    """Create one payout per eligible clipper; None when this scheduled slot already ran."""
    run_id = _start_run(trigger, started_by_id, schedule_key)
    if run_id is None:
        return None
    minimum = current_app.config["PAYOUT_MINIMUM_CENTS"]
    query = _eligible(minimum, payments_mode())
    created = total = 0
    after_user_id = 0
    while True:
        candidates = db.session.execute(query.where(User.id > after_user_id).limit(chunk_size)).all()
        if not candidates:
            break
        after_user_id = candidates[-1].user_id
        count, cents = _pay_chunk(run_id, candidates, query)
        created, total = created + count, total + cents
    run = db.session.get(PayoutRun, run_id)
    run.payouts_created, run.total_cents, run.finished_at = created, total, utcnow()
    db.session.commit()
    return run


def _pay_chunk(run_id: int, candidates, query) -> tuple[int, int]:
    user_ids = sorted({row.user_id for row in candidates})
    for row in candidates:
        if row.in_flight_id is None:  # normally made when the method was saved
            ledger.get_account("user", row.user_id, "clipper_in_flight", row.currency)
    account_ids = ledger_reading.lock_owner_accounts("user", user_ids, ("clipper_available", "clipper_in_flight"))
    if not account_ids:
        db.session.rollback()
        return 0, 0
    # Under the locks: what is true now (a concurrent run may have paid some of these already).
    fresh, seen = [], set(tracking.clippers_with_open_fraud_flag(user_ids))
    for row in db.session.execute(query.where(User.id.in_(user_ids))).all():
        if row.user_id not in seen and row.in_flight_id is not None:
            seen.add(row.user_id)
            fresh.append(row)
    if not fresh:
        db.session.commit()
        return 0, 0
    now = utcnow()
    inserted = _insert_payouts(run_id, fresh, now)
    if not inserted:
        db.session.commit()
        return 0, 0
    by_user = {row.user_id: row for row in fresh}
    ledger.post_many([
        ledger.Posting(f"payout-{p.id}-hold", "payout_hold",
                       [ledger.Line(by_user[p.user_id].available_id, -p.amount_cents),
                        ledger.Line(by_user[p.user_id].in_flight_id, p.amount_cents)],
                       memo=f"Payout {p.id}: held for payout", ref_type="payout", ref_id=p.id)
        for p in inserted
    ])
    _insert_created_events(run_id, inserted, now)
    for rail in rails.RAILS:
        rail_ids = [p.id for p in inserted if p.method == rail.key]
        if rail_ids:
            rail.dispatch(rail_ids)
    db.session.commit()
    return len(inserted), sum(p.amount_cents for p in inserted)


_INSERT_PAYOUTS = text("""
    INSERT INTO payouts (user_id, run_id, amount_cents, currency, method, status, stripe_account_id,
                         created_at, updated_at)
    SELECT user_id, :run_id, amount, currency, method, 'pending', stripe_account_id, :now, :now
      FROM unnest(CAST(:user_ids AS bigint[]), CAST(:amounts AS bigint[]), CAST(:currencies AS varchar[]),
                  CAST(:methods AS varchar[]), CAST(:stripe_account_ids AS varchar[]))
           AS given(user_id, amount, currency, method, stripe_account_id)
    ON CONFLICT DO NOTHING
    RETURNING id, user_id, amount_cents, method
""")

_INSERT_EVENTS = text("""
    INSERT INTO payout_events (action, payout_id, subject_user_id, to_status, detail, created_at)
    SELECT 'payout_pending', payout_id, user_id, 'pending', detail, :now
      FROM unnest(CAST(:payout_ids AS bigint[]), CAST(:user_ids AS bigint[]), CAST(:details AS varchar[]))
           AS given(payout_id, user_id, detail)
""")


def _insert_payouts(run_id: int, rows, now) -> list:
    """The chunk's payout rows in one statement (``unnest`` on PostgreSQL); a clipper whose open payout
    appeared meanwhile is skipped by the unique partial index. Returns (id, user_id, amount_cents, method)."""
    values = [(row.user_id, row.balance_cents, row.currency, row.method,
               row.stripe_account_id if rails.get(row.method).sends_to_stripe_account else None) for row in rows]
    if on_postgresql(db.session):
        user_ids, amounts, currencies, methods, destinations = (list(column) for column in zip(*values, strict=True))
        return db.session.execute(_INSERT_PAYOUTS, {
            "run_id": run_id, "now": now, "user_ids": user_ids, "amounts": amounts, "currencies": currencies,
            "methods": methods, "stripe_account_ids": destinations}).all()
    return db.session.execute(
        dialect_insert(db.session, Payout).values([
            {"user_id": user_id, "run_id": run_id, "amount_cents": amount, "currency": currency, "method": method,
             "status": "pending", "stripe_account_id": destination, "created_at": now, "updated_at": now}
            for user_id, amount, currency, method, destination in values
        ]).on_conflict_do_nothing().returning(Payout.id, Payout.user_id, Payout.amount_cents, Payout.method)
    ).all()


def _insert_created_events(run_id: int, payouts, now) -> None:
    details = [f"Payout run {run_id}: {p.method}" for p in payouts]
    if on_postgresql(db.session):
        db.session.execute(_INSERT_EVENTS, {"now": now, "payout_ids": [p.id for p in payouts],
                                            "user_ids": [p.user_id for p in payouts], "details": details})
        return
    db.session.execute(insert(PayoutEvent), [
        {"action": "payout_pending", "payout_id": p.id, "subject_user_id": p.user_id, "to_status": "pending",
         "detail": detail, "created_at": now} for p, detail in zip(payouts, details, strict=True)
    ])
