"""Page-or-fragment rendering for htmx 4.

Invariants: a fragment is a named block of the same template the full page
renders, so both always agree; a fragment carries the messages flashed while
making it (swapped out of band into ``#flash``) so none waits for a later
page; ``HX-*`` request headers only choose *what* to render, never who may
see it; every response varies on ``HX-Request`` and ``HX-Request-Type`` so
no cache serves a fragment for a page or vice versa.
"""

from __future__ import annotations

from flask import Response, make_response, redirect, render_template, request
from jinja2_fragments.flask import render_block

VARY_HEADERS = ("HX-Request", "HX-Request-Type")


def is_htmx() -> bool:
    return request.headers.get("HX-Request") == "true"


def is_partial() -> bool:
    """True for an htmx request that swaps part of the page (htmx 4 sends
    ``HX-Request-Type: partial``; a boosted navigation targeting body is ``full``)."""
    return is_htmx() and request.headers.get("HX-Request-Type", "partial") == "partial"


def render(template: str, block: str | None = None, status: int = 200, **context) -> Response:
    """Render ``template`` as a page, or only ``block`` of it for a partial htmx request."""
    if block and is_partial():
        body = render_block(template, block, **context)
        # Messages flashed while handling a fragment reach the page's #flash out of band.
        body += render_template("macros/_flash.html", oob=True)
    else:
        body = render_template(template, **context)
    response = make_response(body, status)
    add_vary(response)
    return response


def hx_redirect(location: str, status: int = 303) -> Response:
    """Redirect that works for plain forms (303) and htmx (HX-Redirect header)."""
    if is_htmx():
        response = make_response("", 200)
        response.headers["HX-Redirect"] = location
    else:
        response = redirect(location, code=status)
    add_vary(response)
    return response


def add_vary(response: Response) -> Response:
    for header in VARY_HEADERS:
        response.vary.add(header)
    return response
