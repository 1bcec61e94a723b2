"""Payout read models: balances, payout lists, support's screens, the audit trail.

Invariant: reads only — balances come from the ledger's running totals, manual
payout details are unsealed only for support's manual screen (``service.manual_details``).
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import func, select

from app.accounts.models import User
from app.errors import NotFoundError
from app.extensions import db
from app.ledger import reading as ledger_reading
from app.payouts.models import Payout, PayoutAccount, PayoutEvent
from app.payouts.rails import HAND_SETTLED_KEYS
from app.payouts.service import BALANCE_PURPOSES, manual_details


@dataclass(frozen=True)
class Balances:
    currency: str
    available_cents: int = 0
    in_flight_cents: int = 0
    paid_cents: int = 0


def balances_for(user_id: int) -> list[Balances]:
    rows = ledger_reading.balances_of("user", user_id, BALANCE_PURPOSES)
    by_currency: dict[str, dict[str, int]] = {}
    for currency, purpose, cents in rows:
        by_currency.setdefault(currency, {})[purpose.removeprefix("clipper_") + "_cents"] = cents
    if not by_currency:
        by_currency["USD"] = {}
    return [Balances(currency, **values) for currency, values in sorted(by_currency.items())]


def payouts_of(user_id: int, limit: int = 50) -> list[Payout]:
    return list(db.session.scalars(select(Payout).where(Payout.user_id == user_id)
                                   .order_by(Payout.id.desc()).limit(limit)))


def manual_payouts_to_pay(payout_id: int | None = None) -> list[dict]:
    """Pending manual payouts (or just ``payout_id``) with the clipper's unsealed details
    (support's manual screen only)."""
    query = (select(Payout, User.email, User.display_name, User.handle, PayoutAccount)
             .join(User, User.id == Payout.user_id)
             .outerjoin(PayoutAccount, PayoutAccount.user_id == Payout.user_id)
             .where(Payout.method.in_(HAND_SETTLED_KEYS), Payout.status == "pending").order_by(Payout.id))
    if payout_id is not None:
        query = query.where(Payout.id == payout_id)
    rows = db.session.execute(query).all()
    return [{"payout": p, "email": email, "name": name, "handle": handle,
             "kind": account.manual_kind if account else None,
             "details": manual_details(account) if account else {}} for p, email, name, handle, account in rows]


def recent_payouts(limit: int = 50) -> list[dict]:
    rows = db.session.execute(
        select(Payout, User.email).join(User, User.id == Payout.user_id)
        .where(~((Payout.method.in_(HAND_SETTLED_KEYS)) & (Payout.status == "pending")))
        .order_by(Payout.id.desc()).limit(limit)
    ).all()
    return [{"payout": p, "email": email} for p, email in rows]


def payout_with_clipper(payout_id: int) -> dict:
    row = db.session.execute(select(Payout, User.email, User.display_name).join(User, User.id == Payout.user_id)
                             .where(Payout.id == payout_id)).first()
    if row is None:
        raise NotFoundError("No such payout.")
    return {"payout": row[0], "email": row[1], "name": row[2]}


def status_counts() -> dict[str, int]:
    rows = db.session.execute(select(Payout.status, func.count()).group_by(Payout.status)).all()
    return dict(rows)


def audit_trail(payout_id: int) -> list[dict]:
    """The payout's events, oldest first, with who did each (None: the system or Stripe)."""
    rows = db.session.execute(
        select(PayoutEvent, User.email).outerjoin(User, User.id == PayoutEvent.actor_id)
        .where(PayoutEvent.payout_id == payout_id).order_by(PayoutEvent.id)
    ).all()
    return [{"event": event, "actor": email} for event, email in rows]
