"""Posting to the submission pages the way the browser does (the session's CSRF token in
the header htmx sends). The world these tests need is built by ``tests.factories``."""

from __future__ import annotations

import re

from tests.factories import PARTIAL

PAGE_FOR_ROLE = {"clipper": "/my/submissions", "brand": "/brand/submissions", "admin": "/admin/queue"}
_TOKEN = re.compile(r'"X-CSRFToken": "([^"]+)"')


def post(client, url: str, data: dict | None = None, *, role: str, partial: bool = True):
    """POST the way the page would: with the session's CSRF token (as htmx sends it in a header)."""
    page = client.get(PAGE_FOR_ROLE[role]).get_data(as_text=True)
    token = _TOKEN.search(page).group(1)
    headers = {"X-CSRFToken": token, **(PARTIAL if partial else {})}
    return client.post(url, data=data or {}, headers=headers)
