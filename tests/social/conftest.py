"""Fixtures for the social tests: the local OAuth provider and the app pointed at it."""

from __future__ import annotations

import re
from urllib.parse import parse_qs, urlsplit

import pytest
import requests

from tests.factories import PARTIAL
from tests.social.oauth_provider import LocalOAuthProvider


@pytest.fixture(scope="session")
def provider_server():
    server = LocalOAuthProvider().start()
    yield server
    server.stop()


@pytest.fixture
def provider(app, provider_server, monkeypatch):
    """The provider, reset, with the app's OAuth settings pointing at it for this test."""
    provider_server.reset()
    for key, value in provider_server.config().items():
        monkeypatch.setitem(app.config, key, value)
    return provider_server


@pytest.fixture
def worker_env(outside_services, provider):
    return {**outside_services, **provider.config()}


def csrf_from(client, path="/me/accounts") -> str:
    html = client.get(path).get_data(as_text=True)
    match = re.search(r'name="csrf_token" value="([^"]+)"', html)
    assert match, "no CSRF token on the page"
    return match.group(1)


def start_connect(client, platform: str) -> str:
    """POST Connect as htmx does; the provider's authorize URL."""
    token = csrf_from(client)
    response = client.post(f"/social/{platform}/connect", data={"csrf_token": token}, headers=PARTIAL)
    assert response.status_code == 200, response.get_data(as_text=True)[:500]
    return response.headers["HX-Redirect"]


def visit_provider(url: str) -> str:
    """The browser at the provider: the redirect back to our callback (path and query)."""
    response = requests.get(url, allow_redirects=False, timeout=5)
    assert response.status_code == 302, response.text
    location = urlsplit(response.headers["Location"])
    assert location.netloc == "localhost", location
    return f"{location.path}?{location.query}"


def connect(client, platform: str):
    """The whole dance: Connect -> provider -> callback; the callback's response."""
    callback = visit_provider(start_connect(client, platform))
    return client.get(callback)


def query_of(url: str) -> dict:
    return {k: v[0] for k, v in parse_qs(urlsplit(url).query).items()}
