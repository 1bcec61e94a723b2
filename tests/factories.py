"""Factories that build real rows through the service layer."""

from __future__ import annotations

import itertools
from types import SimpleNamespace

_counter = itertools.count(1)
PASSWORD = "correct horse battery staple"
# Headers htmx 4 sends for a request that swaps part of the page.
PARTIAL = {"HX-Request": "true", "HX-Request-Type": "partial"}


def make_user(role: str = "clipper", *, email: str | None = None, password: str = PASSWORD,
              display_name: str | None = None, verified: bool = True):
    from app.accounts import service

    n = next(_counter)
    return service.create_user(
        email=email or f"{role}{n}@example.test", password=password,
        display_name=display_name or f"{role.title()} {n}", role=role, verified=verified,
    )


def new_user(app, role="clipper", **kwargs) -> SimpleNamespace:
    """A committed user, as plain values (no ORM object outlives its app context)."""
    with app.app_context():
        user = make_user(role, **kwargs)
        return SimpleNamespace(
            id=user.id, email=user.email, role=user.role,
            display_name=user.display_name, session_token=user.session_token,
        )
