"""Users, made through the accounts service (``create_user``: its only call in the factories).

Invariants: every user is committed before it is returned; ``plain`` turns a user into plain
values, so no ORM object has to outlive the app context it was loaded in."""

from __future__ import annotations

import itertools
from contextlib import nullcontext
from types import SimpleNamespace

from app.accounts import service as accounts
from app.extensions import db

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


def within(app):
    """The app context a factory runs in: a fresh one of ``app``, or (``app`` None) the caller's."""
    return nullcontext() if app is None else app.app_context()


def make_user(role: str = "clipper", *, email: str | None = None, password: str = PASSWORD,
              display_name: str | None = None, verified: bool = True, **extra):
    """A committed user (the ORM object; call inside an app context)."""
    n = next(_counter)
    fields = {**ROLE_DEFAULTS.get(role, lambda n: {})(n), **extra}
    user = accounts.create_user(
        email=email or f"{role}{n}@example.test", password=password,
        display_name=display_name or f"{role.title()} {n}", role=role, verified=verified, **fields,
    )
    db.session.commit()
    return user


def plain(user) -> SimpleNamespace:
    """A user's values that tests use, detached from any session."""
    return SimpleNamespace(
        id=user.id, email=user.email, role=user.role, phone=user.phone, handle=user.handle,
        display_name=user.display_name, session_token=user.session_token,
    )


def new_user(app, role="clipper", **kwargs) -> SimpleNamespace:
    """A committed user, as plain values (no ORM object outlives its app context)."""
    with app.app_context():
        return plain(make_user(role, **kwargs))
