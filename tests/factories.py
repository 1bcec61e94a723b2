"""Factories that build real rows through the service layer."""

from __future__ import annotations

import itertools

_counter = itertools.count(1)
PASSWORD = "correct horse battery staple"


def make_user(role: str = "clipper", *, email: str | None = None, password: str = PASSWORD,
              display_name: str | None = None, verified: bool = True):
    from app.accounts import service

    n = next(_counter)
    return service.create_user(
        email=email or f"{role}{n}@example.test", password=password,
        display_name=display_name or f"{role.title()} {n}", role=role, verified=verified,
    )
