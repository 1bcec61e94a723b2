"""Fixtures for the Stripe gateway tests: one fake Stripe server per session, emptied before each test,
and a gateway (the real stripe SDK) pointed at it with a short read timeout so "timeout" faults are quick."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from app.payments.stripe_gateway import StripeGateway, StripeSettings
from tests.fake_stripe import API_KEY, FakeStripe, FakeStripeServer

READ_TIMEOUT = 0.5  # the fake answers "timeout" faults after 1.5 s


@pytest.fixture(scope="session")
def fake_stripe_server() -> Iterator[FakeStripeServer]:
    server = FakeStripeServer().start()
    yield server
    server.stop()


@pytest.fixture
def fake_stripe(fake_stripe_server) -> FakeStripe:
    fake_stripe_server.fake.reset()
    return fake_stripe_server.fake


@pytest.fixture
def stripe_settings(fake_stripe) -> StripeSettings:
    return StripeSettings(api_key=API_KEY, api_base=fake_stripe.url, connect_timeout=1.0, read_timeout=READ_TIMEOUT)


@pytest.fixture
def gateway(stripe_settings) -> StripeGateway:
    return StripeGateway(stripe_settings)


@pytest.fixture
def payable_account(fake_stripe, gateway) -> str:
    """A clipper's Express account that finished onboarding, and a platform balance of $1,000."""
    account = gateway.create_express_account(user_id=9, email="clip@example.com", country="US")
    with fake_stripe.lock:
        fake_stripe.enable_payouts(account.id)
        fake_stripe.set_balance(100_000, "usd")
    return account.id
