"""Money in place, built through the real services: ledger postings (ledger service) and
clippers ready to be paid (payouts service). Each app service is called in exactly one place
here.

Invariants: every posting balances (one account down, another up by the same cents) and is
committed; a clipper's money comes from a platform clearing account, as if earnings had
cleared."""

from __future__ import annotations

import itertools
from types import SimpleNamespace

from app.extensions import db
from app.ledger import service as ledger
from app.payouts import service as payouts
from tests.factories.users import make_user

_keys = itertools.count(1)


def account(owner_type: str, owner_id: int, purpose: str, currency: str = "USD"):
    """An owner's ledger account (created on first use)."""
    return ledger.get_account(owner_type, owner_id, purpose, currency)


def platform_account(purpose: str, currency: str = "USD"):
    return ledger.platform_account(purpose, currency)


def transfer(key: str, kind: str, source, target, cents: int) -> None:
    """Post ``cents`` from ``source`` to ``target`` (one balanced transaction) and commit."""
    ledger.post(key, kind, [ledger.Line(source, -cents), ledger.Line(target, cents)])
    db.session.commit()


def fund_escrow(campaign_id: int, amount_cents: int, currency: str = "USD"):
    """A committed campaign escrow holding ``amount_cents`` (paid in through Stripe clearing)."""
    escrow = account("campaign", campaign_id, "campaign_escrow", currency)
    transfer(f"fund-{next(_keys)}", "funding", platform_account("stripe_clearing", currency), escrow, amount_cents)
    return escrow


def fund_clipper(user_id: int, cents: int, key: str | None = None) -> None:
    """Give a clipper available money (as if earnings had cleared): offline_clearing -> clipper_available."""
    transfer(key or f"test-fund-{user_id}-{cents}", "test_funding", platform_account("offline_clearing"),
             account("user", user_id, "clipper_available"), cents)


def manual_clipper(cents: int = 2_500, **extra) -> SimpleNamespace:
    """A verified clipper with PayPal details and ``cents`` available (call inside an app context)."""
    user = make_user("clipper", **extra)
    payouts.save_manual_method(user.id, "paypal", {"paypal_email": f"pay-{user.id}@paypal.test"})
    if cents:
        fund_clipper(user.id, cents)
    return SimpleNamespace(id=user.id, email=user.email, session_token=user.session_token, role="clipper")


def stripe_clipper(fake, cents: int = 2_500) -> SimpleNamespace:
    """A clipper who finished Stripe onboarding (through the service and the fake Stripe), with money
    available."""
    user = make_user("clipper")
    payouts.start_stripe_onboarding(user.id, "https://cf.test/refresh", "https://cf.test/return")
    stripe_account_id = payouts.payout_account(user.id).stripe_account_id
    with fake.lock:
        fake.enable_payouts(stripe_account_id)
    payouts.refresh_stripe_account(user.id)
    if cents:
        fund_clipper(user.id, cents)
    return SimpleNamespace(id=user.id, email=user.email, session_token=user.session_token, role="clipper",
                           stripe_account_id=stripe_account_id)
