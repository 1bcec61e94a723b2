"""Payout test harness: a fake Stripe server for the session, the app switched to Stripe mode
against it (and back) per test, and helpers that make eligible clippers through the services."""

from __future__ import annotations

from collections.abc import Iterator
from types import SimpleNamespace

import pytest

from tests.factories import make_user
from tests.fake_stripe import API_KEY, WEBHOOK_SECRET, FakeStripe, FakeStripeServer

PLATFORM_BALANCE = 10_000_000


@pytest.fixture(scope="session")
def payouts_stripe_server() -> Iterator[FakeStripeServer]:
    server = FakeStripeServer().start()
    yield server
    server.stop()


@pytest.fixture
def fake_stripe(payouts_stripe_server) -> FakeStripe:
    fake = payouts_stripe_server.fake
    fake.reset()
    with fake.lock:
        fake.set_balance(PLATFORM_BALANCE, "usd")
    return fake


@pytest.fixture
def stripe_mode(app, fake_stripe, monkeypatch) -> dict:
    """The app in Stripe mode against the fake; returns the same settings as worker environment."""
    settings = {"STRIPE_SECRET_KEY": API_KEY, "STRIPE_API_BASE": fake_stripe.url,
                "STRIPE_WEBHOOK_SECRET": WEBHOOK_SECRET}
    for key, value in settings.items():
        monkeypatch.setitem(app.config, key, value)
    monkeypatch.setitem(app.config, "PAYMENTS_MODE", "stripe")
    return settings


def fund(user_id: int, cents: int, key: str | None = None) -> None:
    """Give a clipper available money (as if earnings had cleared): offline_clearing -> clipper_available."""
    from app.extensions import db
    from app.ledger import service as ledger

    ledger.post(key or f"test-fund-{user_id}-{cents}", "test_funding", [
        ledger.Line(ledger.platform_account("offline_clearing", "USD"), -cents),
        ledger.Line(ledger.get_account("user", user_id, "clipper_available", "USD"), cents),
    ])
    db.session.commit()


def balances(user_id: int) -> dict[str, int]:
    from app.payouts.reading import balances_for

    found = balances_for(user_id)[0]
    return {"available": found.available_cents, "in_flight": found.in_flight_cents, "paid": found.paid_cents}


def manual_clipper(cents: int = 2_500, **extra) -> SimpleNamespace:
    """A verified clipper with PayPal details and ``cents`` available (call inside an app context)."""
    from app.payouts import service

    user = make_user("clipper", **extra)
    service.save_manual_method(user.id, "paypal", {"paypal_email": f"pay-{user.id}@paypal.test"})
    if cents:
        fund(user.id, cents)
    return SimpleNamespace(id=user.id, email=user.email, session_token=user.session_token, role="clipper")


def stripe_clipper(fake: FakeStripe, cents: int = 2_500) -> SimpleNamespace:
    """A clipper who finished Stripe onboarding (through the service and the fake), with money available."""
    from app.payouts import service

    user = make_user("clipper")
    service.start_stripe_onboarding(user.id, "https://cf.test/refresh", "https://cf.test/return")
    account = service.payout_account(user.id)
    with fake.lock:
        fake.enable_payouts(account.stripe_account_id)
    service.refresh_stripe_account(user.id)
    if cents:
        fund(user.id, cents)
    return SimpleNamespace(id=user.id, email=user.email, session_token=user.session_token, role="clipper",
                           stripe_account_id=account.stripe_account_id)
