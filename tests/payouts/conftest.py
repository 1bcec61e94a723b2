"""Payout test harness: a fake Stripe server for the session, the app switched to Stripe mode
against it (and back) per test, and balances. Clippers ready to be paid: ``tests.factories``
(``manual_clipper``, ``stripe_clipper``, ``fund_clipper``)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

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


def balances(user_id: int) -> dict[str, int]:
    from app.payouts.reading import balances_for

    found = balances_for(user_id)[0]
    return {"available": found.available_cents, "in_flight": found.in_flight_cents, "paid": found.paid_cents}
