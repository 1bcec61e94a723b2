"""Factories that build real rows through the service layer."""

from __future__ import annotations

import itertools
from types import SimpleNamespace

_counter = itertools.count(1)
PASSWORD = "correct horse battery staple"
# Headers htmx 4 sends for a request that swaps part of the page.
PARTIAL = {"HX-Request": "true", "HX-Request-Type": "partial"}

# Where each role lands after signing in.
HOMES = {"clipper": "/campaigns", "brand": "/brand/campaigns", "admin": "/admin/queue", "support": "/support/payouts"}

ROLE_DEFAULTS = {
    "clipper": lambda n: {"handle": f"clipper_{n}", "country": "US"},
    "brand": lambda n: {"company_name": f"Brand {n} Inc."},
}


def make_user(role: str = "clipper", *, email: str | None = None, password: str = PASSWORD,
              display_name: str | None = None, verified: bool = True, **extra):
    from app.accounts import service
    from app.extensions import db

    n = next(_counter)
    fields = {**ROLE_DEFAULTS.get(role, lambda n: {})(n), **extra}
    user = service.create_user(
        email=email or f"{role}{n}@example.test", password=password,
        display_name=display_name or f"{role.title()} {n}", role=role, verified=verified, **fields,
    )
    db.session.commit()
    return user


def new_user(app, role="clipper", **kwargs) -> SimpleNamespace:
    """A committed user, as plain values (no ORM object outlives its app context)."""
    with app.app_context():
        user = make_user(role, **kwargs)
        return SimpleNamespace(
            id=user.id, email=user.email, role=user.role, phone=user.phone, handle=user.handle,
            display_name=user.display_name, session_token=user.session_token,
        )
