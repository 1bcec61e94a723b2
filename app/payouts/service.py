"""Payout rules: status changes, holds, payout methods, manual mark-paid/failed (read models: ``reading``).

Ledger scheme (sign convention of ``app.ledger.models``: a line adds to its account),
one transaction per step, keys derived from the payout id:

    created   clipper_available -X, clipper_in_flight +X   payout-<id>-hold
    paid      clipper_in_flight -X, clipper_paid +X        payout-<id>-paid
    failed    clipper_in_flight -X, clipper_available +X   payout-<id>-failed
    returned  clipper_paid -X,      clipper_available +X   payout-<id>-returned

``clipper_paid`` is the sink that mirrors money that left us for the clipper;
``stripe_clearing``/``offline_clearing`` mirror money that came *in* (their
descriptions in ``ledger.models``), so a payout does not touch them — posting it
there too would count the outflow twice. The rail is in the transaction kind
(``payout_paid_<rail>``: ``payout_paid_stripe`` / ``payout_paid_manual``, see
``payouts.rails``) and in ``payouts.method``, so
"money sent through Stripe" is the sum of ``payout_paid_stripe`` minus
``payout_returned`` of Stripe payouts.

Invariants:
- every status change goes through ``_transition``: transition table, the payout
  row locked (``SELECT ... FOR UPDATE``), the ledger posting and a ``PayoutEvent``
  in the same database transaction; ``_transition`` never commits, the public
  function that calls it commits once;
- a bad request (unknown payout, wrong status, empty reference) raises a
  ``DomainError`` before anything is written;
- manual details are sealed at rest; only support's manual screen unseals them;
- this module reads ``ledger_accounts`` for balances and eligibility but writes
  ledger rows only through ``ledger.service``.
"""

from __future__ import annotations

import json
from typing import Any

from flask import current_app
from sqlalchemy import select

from app.accounts.models import User
from app.db import dialect_insert, utcnow
from app.errors import ConflictError, NotFoundError, ValidationError
from app.extensions import db
from app.jobs import RETRY_NETWORK, enqueue_after_commit, job_id
from app.ledger import service as ledger
from app.payouts import rails
from app.payouts.models import Payout, PayoutAccount, PayoutEvent, PayoutHold
from app.security import seal, unseal

# (from, to) -> what the change means; anything else is refused.
TRANSITIONS: dict[tuple[str, str], str] = {
    ("pending", "in_flight"): "transfer started",
    ("pending", "paid"): "paid by hand",
    ("pending", "failed"): "failed before sending",
    ("in_flight", "paid"): "transfer confirmed",
    ("in_flight", "failed"): "transfer failed; money back to available",
    ("paid", "returned"): "transfer reversed; money back to available",
}
LEDGER_MOVES: dict[str, tuple[str, str]] = {  # to status -> (from purpose, to purpose)
    "paid": ("clipper_in_flight", "clipper_paid"),
    "failed": ("clipper_in_flight", "clipper_available"),
    "returned": ("clipper_paid", "clipper_available"),
}
BALANCE_PURPOSES = ("clipper_available", "clipper_in_flight", "clipper_paid")
MAX_REFERENCE = 120
MAX_REASON = 500


def payments_mode() -> str:
    return current_app.config.get("PAYMENTS_MODE", "offline")


# -- audit ------------------------------------------------------------------------------

def record_event(action: str, *, payout_id: int | None = None, subject_user_id: int | None = None,
                 actor_id: int | None = None, from_status: str | None = None, to_status: str | None = None,
                 detail: str = "") -> None:
    db.session.add(PayoutEvent(action=action, payout_id=payout_id, subject_user_id=subject_user_id,
                               actor_id=actor_id, from_status=from_status, to_status=to_status,
                               detail=detail[:500]))


# -- status changes ---------------------------------------------------------------------

def lock_payout(payout_id: int) -> Payout:
    payout = db.session.scalar(
        select(Payout).where(Payout.id == payout_id).with_for_update().execution_options(populate_existing=True)
    )
    if payout is None:
        raise NotFoundError("No such payout.")
    return payout


def _transition(payout: Payout, to: str, *, actor_id: int | None = None, detail: str = "",
                **fields: Any) -> None:
    """Move a *locked* payout to ``to``; posts its ledger move and an audit event. Does not commit."""
    if (payout.status, to) not in TRANSITIONS:
        raise ConflictError(f"Payout {payout.id} is {payout.status.replace('_', ' ')}; it cannot become "
                            f"{to.replace('_', ' ')}.")
    if to in LEDGER_MOVES:
        source, target = LEDGER_MOVES[to]
        kind = rails.paid_kind(payout.method) if to == "paid" else f"payout_{to}"
        ledger.post(
            f"payout-{payout.id}-{to}", kind,
            [ledger.Line(ledger.get_account("user", payout.user_id, source, payout.currency), -payout.amount_cents),
             ledger.Line(ledger.get_account("user", payout.user_id, target, payout.currency), payout.amount_cents)],
            memo=f"Payout {payout.id}: {TRANSITIONS[(payout.status, to)]}", ref_type="payout", ref_id=payout.id,
        )
    now = utcnow()
    timestamps = {"in_flight": "in_flight_at", "paid": "paid_at", "failed": "failed_at"}
    if to in timestamps:
        setattr(payout, timestamps[to], now)
    for name, value in fields.items():
        setattr(payout, name, value)
    record_event(f"payout_{to}", payout_id=payout.id, subject_user_id=payout.user_id, actor_id=actor_id,
                 from_status=payout.status, to_status=to, detail=detail or TRANSITIONS[(payout.status, to)])
    payout.status = to
    db.session.flush()
    if to in ("failed", "returned"):
        enqueue_after_commit("app.payouts.jobs.notify_payout_failed", payout.id,
                             id=job_id("payout-notice", payout.id, to), queue="default", retry=RETRY_NETWORK)


def _clean_text(value: str | None, name: str, max_length: int) -> str:
    text = (value or "").strip()
    if not text:
        raise ValidationError(f"A {name} is required.", field=name)
    if len(text) > max_length:
        raise ValidationError(f"The {name} is longer than {max_length} characters.", field=name)
    return text


def mark_paid(payout_id: int, reference: str, actor_id: int) -> Payout:
    """Support paid a manual payout by hand (bank, PayPal); ``reference`` is their transfer reference."""
    reference = _clean_text(reference, "reference", MAX_REFERENCE)
    payout = lock_payout(payout_id)
    if not rails.get(payout.method).settled_by_hand:
        raise ConflictError(rails.get(payout.method).refuse_mark_paid)
    _transition(payout, "paid", actor_id=actor_id, detail=f"Marked paid, reference {reference}",
                reference=reference)
    db.session.commit()
    return payout


def mark_failed(payout_id: int, reason: str, actor_id: int) -> Payout:
    """Support could not pay a manual payout: the money goes back to the clipper's available balance."""
    reason = _clean_text(reason, "reason", MAX_REASON)
    payout = lock_payout(payout_id)
    if not rails.get(payout.method).settled_by_hand:
        raise ConflictError(rails.get(payout.method).refuse_mark_failed)
    _transition(payout, "failed", actor_id=actor_id, detail=f"Marked failed: {reason}", failure_reason=reason)
    db.session.commit()
    return payout


def send_failure_notice(payout_id: int) -> bool:
    """Email the clipper that a payout failed or came back (the money is available again)."""
    from app.money import format_money
    from app.notifications.gateways import send_email

    payout = db.session.get(Payout, payout_id)
    if payout is None or payout.status not in ("failed", "returned"):
        return False
    user = db.session.get(User, payout.user_id)
    amount = format_money(payout.amount_cents, payout.currency)
    send_email(user.email, "Your ContentFlow payout did not go through",
               f"Your payout of {amount} could not be completed ({payout.failure_reason or 'returned'}).\n"
               "The money is back in your available balance and will be included in the next payout.\n"
               "Check your payout method on the Earnings page.")
    return True


# -- holds ------------------------------------------------------------------------------

def place_hold(user_id: int, reason: str, by: int | None) -> PayoutHold:
    """Stop payouts to ``user_id`` until released (support, admin, or a fraud signal with ``by=None``)."""
    reason = _clean_text(reason, "reason", MAX_REASON)
    user = db.session.get(User, user_id)
    if user is None or user.role != "clipper":
        raise NotFoundError("No such clipper.")
    hold = PayoutHold(user_id=user_id, reason=reason, placed_by_id=by, placed_at=utcnow())
    db.session.add(hold)
    db.session.flush()
    record_event("hold_placed", subject_user_id=user_id, actor_id=by, detail=reason)
    db.session.commit()
    return hold


def release_hold(hold_id: int, by: int) -> PayoutHold:
    hold = db.session.scalar(select(PayoutHold).where(PayoutHold.id == hold_id).with_for_update())
    if hold is None:
        raise NotFoundError("No such hold.")
    if hold.released_at is not None:
        raise ConflictError("This hold was already released.")
    hold.released_at, hold.released_by_id = utcnow(), by
    record_event("hold_released", subject_user_id=hold.user_id, actor_id=by, detail=hold.reason)
    db.session.commit()
    return hold


def open_holds() -> list[dict]:
    rows = db.session.execute(
        select(PayoutHold, User.email, User.handle).join(User, User.id == PayoutHold.user_id)
        .where(PayoutHold.released_at.is_(None)).order_by(PayoutHold.placed_at)
    ).all()
    return [{"id": h.id, "user_id": h.user_id, "email": email, "handle": handle, "reason": h.reason,
             "placed_at": h.placed_at} for h, email, handle in rows]


def find_clipper(email_or_handle: str) -> User:
    value = (email_or_handle or "").strip().lower().lstrip("@")
    user = db.session.scalar(select(User).where(User.role == "clipper",
                                                (User.email == value) | (User.handle == value)))
    if user is None:
        raise NotFoundError("No clipper with that email or handle.", field="clipper")
    return user


# -- payout methods ---------------------------------------------------------------------

def payout_account(user_id: int, *, lock: bool = False) -> PayoutAccount | None:
    query = select(PayoutAccount).where(PayoutAccount.user_id == user_id)
    if lock:
        query = query.with_for_update().execution_options(populate_existing=True)
    return db.session.scalar(query)


def _payout_account_for_update(user_id: int) -> PayoutAccount:
    db.session.execute(dialect_insert(db.session, PayoutAccount).values(user_id=user_id, stripe_payouts_enabled=False,
                                                            created_at=utcnow(), updated_at=utcnow())
                       .on_conflict_do_nothing())
    account = payout_account(user_id, lock=True)
    assert account is not None
    return account


def ensure_payout_ledger_accounts(user_id: int, currency: str = "USD") -> None:
    """Create the clipper's in-flight and paid accounts up front, so a payout run needs no account inserts."""
    for purpose in BALANCE_PURPOSES:
        ledger.get_account("user", user_id, purpose, currency)


def _mask_email(email: str) -> str:
    name, _, domain = email.partition("@")
    return f"{name[:1]}***@{domain}"


def save_manual_method(user_id: int, kind: str, details: dict[str, str]) -> PayoutAccount:
    """Store a PayPal email or bank details (sealed); shown in clear to support only."""
    if kind == "paypal":
        email = (details.get("paypal_email") or "").strip().lower()
        if "@" not in email:
            raise ValidationError("Enter the email address of your PayPal account.", field="paypal_email")
        clean, summary = {"paypal_email": email}, f"PayPal {_mask_email(email)}"
    elif kind == "bank":
        holder = _clean_text(details.get("account_holder"), "account holder", 120)
        number = "".join((details.get("account_number") or "").split()).upper()
        if not 6 <= len(number) <= 34 or not number.isalnum():
            raise ValidationError("Enter the IBAN or account number (6 to 34 letters and digits).",
                                  field="account_number")
        routing = "".join((details.get("routing_number") or "").split())
        clean = {"account_holder": holder, "account_number": number, "routing_number": routing}
        summary = f"Bank account ending {number[-4:]}"
    else:
        raise ValidationError("Choose PayPal or bank transfer.", field="kind")
    account = _payout_account_for_update(user_id)
    account.manual_kind, account.manual_details_sealed = kind, seal(json.dumps(clean))
    account.manual_summary = summary
    ensure_payout_ledger_accounts(user_id)
    record_event("method_saved", subject_user_id=user_id, actor_id=user_id, detail=summary)
    db.session.commit()
    return account


def manual_details(account: PayoutAccount) -> dict[str, str]:
    return json.loads(unseal(account.manual_details_sealed)) if account.manual_details_sealed else {}


def start_stripe_onboarding(user_id: int, refresh_url: str, return_url: str) -> str:
    """The Stripe-hosted onboarding URL for this clipper's Express account (created on first use)."""
    from app.payments.stripe_gateway import get_gateway

    gateway = get_gateway()  # raises PaymentsOfflineError in offline mode
    user = db.session.get(User, user_id)
    if user is None or user.role != "clipper":
        raise NotFoundError("No such clipper.")
    account = _payout_account_for_update(user_id)
    if account.stripe_account_id is None:
        # Idempotency key express-account-user-<id>: a retry gets the same account back.
        connected = gateway.create_express_account(user_id, user.email, user.country or "US")
        account.stripe_account_id = connected.id
        ensure_payout_ledger_accounts(user_id)
        record_event("stripe_account_created", subject_user_id=user_id, actor_id=user_id, detail=connected.id)
    stripe_account_id = account.stripe_account_id
    db.session.commit()
    return gateway.create_account_link(stripe_account_id, refresh_url, return_url).url


def refresh_stripe_account(user_id: int) -> PayoutAccount | None:
    """Re-read the clipper's Express account from Stripe (after onboarding returns) and store its state."""
    from app.payments.stripe_gateway import get_gateway

    account = payout_account(user_id)
    if account is None or account.stripe_account_id is None:
        return account
    connected = get_gateway().retrieve_account(account.stripe_account_id)
    store_stripe_account_state(connected)
    db.session.commit()
    return payout_account(user_id)


def store_stripe_account_state(connected) -> bool:
    """Record whether a connected account can receive transfers (as just read from Stripe). Does not commit."""
    account = db.session.scalar(select(PayoutAccount).where(PayoutAccount.stripe_account_id == connected.id)
                                .with_for_update().execution_options(populate_existing=True))
    if account is None:
        return False
    enabled = connected.can_receive_transfers
    if account.stripe_payouts_enabled != enabled:
        record_event("stripe_payouts_enabled" if enabled else "stripe_payouts_disabled",
                     subject_user_id=account.user_id, detail=connected.id)
    account.stripe_payouts_enabled, account.stripe_checked_at = enabled, utcnow()
    return True


# -- reading ----------------------------------------------------------------------------
