"""Campaign test helpers: complete, valid campaign values and shortcuts that build
campaigns through the real services (create -> fund -> submit -> approve), so every
row a test starts from is one the application itself could have made."""

from __future__ import annotations

from datetime import timedelta
from types import SimpleNamespace

import pytest

from app.db import utcnow
from tests.factories import make_user


def valid_values(**overrides) -> dict:
    now = utcnow()
    values = dict(
        title="Summer drop", brief="Cut three clips\nfrom the launch video.", platforms=["tiktok", "x"],
        requirements="#ad @brand", destination_url=None, currency="USD", cpm_cents=250, budget_cents=500_000,
        min_views_per_post=1000, max_payout_per_post_cents=None, max_earnings_per_clipper_cents=None,
        max_participants=None, starts_at=now - timedelta(days=1), ends_at=now + timedelta(days=30),
        hold_days=3, auto_approve_hours=48, approval_mode="manual",
    )
    values.update(overrides)
    return values


def create_draft(brand_id: int, **overrides) -> int:
    from app.campaigns import service

    return service.create_campaign(brand_id, **valid_values(**overrides)).id


def fund(campaign_id: int, admin_id: int, amount_cents: int | None = None, reference: str = "WIRE-1") -> int:
    from app.campaigns import service
    from app.payments import funding

    if amount_cents is None:
        amount_cents = service.own_campaign_for_staff(campaign_id).budget_cents
    return funding.record_offline_funding(campaign_id, amount_cents, reference, admin_id)


def create_published(brand_id: int, admin_id: int, **overrides) -> int:
    from app.campaigns import service

    campaign_id = create_draft(brand_id, **overrides)
    fund(campaign_id, admin_id)
    service.submit_campaign(campaign_id, brand_id)
    service.approve_campaign(campaign_id, admin_id)
    return campaign_id


@pytest.fixture(scope="session")
def password_hash_once():
    from app.accounts.passwords import hash_password
    from tests.factories import PASSWORD

    return hash_password(PASSWORD)


@pytest.fixture
def people(db, monkeypatch, password_hash_once):
    """Two brands, two clippers, an admin and a support agent (ids and session tokens).
    They share one argon2 hash of the factories' PASSWORD (hashing six times a test
    would cost more than the tests); signing in with it still works."""
    monkeypatch.setattr("app.accounts.service.hash_password", lambda _password: password_hash_once)
    made = {}
    for name, role in (("brand", "brand"), ("other_brand", "brand"), ("clipper", "clipper"),
                       ("other_clipper", "clipper"), ("admin", "admin"), ("support", "support")):
        user = make_user(role)
        made[name] = SimpleNamespace(id=user.id, role=role, session_token=user.session_token)
    return SimpleNamespace(**made)
