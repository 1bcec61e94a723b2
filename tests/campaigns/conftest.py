"""Campaign test fixtures: the people a campaign test needs. Campaigns themselves (complete
values, drafts, funding, published campaigns) come from ``tests.factories``."""

from __future__ import annotations

from types import SimpleNamespace

import pytest

from tests.factories import make_user


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
