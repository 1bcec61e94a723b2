"""The installable app: manifest, icons, service worker and offline page, as a
browser fetches them."""

from __future__ import annotations

import hashlib
import json
import re
import struct
from types import SimpleNamespace

import pytest

from tests.factories import make_user

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def new_user(app, role="clipper") -> SimpleNamespace:
    with app.app_context():
        user = make_user(role, display_name="Quinn Uniquename")
        return SimpleNamespace(display_name=user.display_name, session_token=user.session_token)


def png_size(data: bytes) -> tuple[int, int]:
    """Width and height from the IHDR chunk (bytes 16..24) of a real PNG."""
    assert data[:8] == PNG_SIGNATURE, "not a PNG"
    assert data[12:16] == b"IHDR", "PNG without IHDR first"
    return struct.unpack(">II", data[16:24])


@pytest.fixture
def manifest(client):
    response = client.get("/manifest.webmanifest")
    assert response.status_code == 200
    return json.loads(response.get_data(as_text=True))


# --- Manifest ------------------------------------------------------------------------------

def test_manifest_is_served_with_the_manifest_media_type(client):
    response = client.get("/manifest.webmanifest")
    assert response.status_code == 200
    assert response.mimetype == "application/manifest+json"


def test_manifest_has_what_an_install_needs(manifest):
    assert manifest["name"] == "ContentFlow"
    assert manifest["short_name"] and len(manifest["short_name"]) <= 12  # fits under a home-screen icon
    assert manifest["id"]
    assert manifest["start_url"].startswith("/")
    assert manifest["scope"] == "/"
    assert manifest["start_url"].startswith(manifest["scope"])
    assert manifest["display"] == "standalone"
    for key in ("theme_color", "background_color"):
        assert re.fullmatch(r"#[0-9a-fA-F]{6}", manifest[key])


def test_manifest_declares_192_512_and_maskable_icons(manifest):
    icons = manifest["icons"]
    declared = {(icon["sizes"], icon.get("purpose", "any")) for icon in icons}
    assert ("192x192", "any") in declared
    assert ("512x512", "any") in declared
    assert ("512x512", "maskable") in declared
    assert all(icon["type"] == "image/png" for icon in icons)


def test_every_manifest_icon_is_a_png_of_the_declared_size(client, manifest):
    for icon in manifest["icons"]:
        response = client.get(icon["src"])
        assert response.status_code == 200, icon["src"]
        assert response.mimetype == "image/png", icon["src"]
        width, height = png_size(response.get_data())
        assert f"{width}x{height}" == icon["sizes"], icon["src"]


def test_theme_colour_in_pages_matches_the_manifest(client, manifest):
    html = client.get("/").get_data(as_text=True)
    match = re.search(r'<meta name="theme-color" content="([^"]+)"', html)
    assert match
    assert match.group(1).lower() == manifest["theme_color"].lower()


def test_pages_link_the_manifest(client):
    html = client.get("/").get_data(as_text=True)
    match = re.search(r'<link rel="manifest" href="([^"]+)"', html)
    assert match
    assert client.get(match.group(1)).status_code == 200


def test_apple_touch_icon_is_a_png_of_the_declared_size(client):
    html = client.get("/").get_data(as_text=True)
    match = re.search(r'<link rel="apple-touch-icon"(?: sizes="(\d+)x(\d+)")? href="([^"]+)"', html)
    assert match, "landing page links no apple-touch-icon"
    declared = (int(match.group(1)), int(match.group(2))) if match.group(1) else (180, 180)
    response = client.get(match.group(3))
    assert response.status_code == 200
    assert response.mimetype == "image/png"
    assert png_size(response.get_data()) == declared


def test_favicon_redirects_to_a_real_icon(client):
    response = client.get("/favicon.ico")
    assert response.status_code in (301, 302, 308)
    icon = client.get(response.headers["Location"])
    assert icon.status_code == 200
    assert png_size(icon.get_data()) == (192, 192)


# --- Service worker ---------------------------------------------------------------------------

def _shell_of(js: str) -> list[str]:
    match = re.search(r"const SHELL = (\[.*?\]);", js, re.S)
    assert match, "service worker has no SHELL list"
    return json.loads(match.group(1))


def test_service_worker_is_javascript_and_always_revalidated(client):
    response = client.get("/sw.js")
    assert response.status_code == 200
    assert response.mimetype in ("text/javascript", "application/javascript")
    assert response.headers["Cache-Control"] == "no-cache"


def test_service_worker_precaches_versioned_shell_urls_that_exist(client):
    js = client.get("/sw.js").get_data(as_text=True)
    shell = _shell_of(js)
    assert len(shell) >= 4
    assert any(url.startswith("/static/vendor/htmx") for url in shell)
    assert any(url.startswith("/static/css/app.css") for url in shell)
    for url in shell:
        version = re.search(r"\?v=([0-9a-f]{12})$", url)
        assert version, f"{url} is not versioned"
        response = client.get(url)
        assert response.status_code == 200, url
        # The version is the content hash, so a cache-first worker never serves a stale file.
        assert hashlib.sha256(response.get_data()).hexdigest()[:12] == version.group(1), url


def test_service_worker_offline_page_exists(client):
    js = client.get("/sw.js").get_data(as_text=True)
    match = re.search(r'const OFFLINE_URL = "([^"]+)";', js)
    assert match
    assert client.get(match.group(1)).status_code == 200


def test_service_worker_cache_name_is_versioned(client):
    js = client.get("/sw.js").get_data(as_text=True)
    match = re.search(r'const VERSION = "([0-9a-f]{12})";', js)
    assert match
    assert '"contentflow-shell-" + VERSION' in js


def test_pages_load_the_shell_files_the_worker_precaches(client):
    shell = _shell_of(client.get("/sw.js").get_data(as_text=True))
    html = client.get("/").get_data(as_text=True)
    for url in shell:
        if url.startswith(("/static/vendor/", "/static/css/", "/static/js/")):
            assert url in html, f"{url} precached but the page loads another version"


def test_service_worker_is_the_same_for_every_user(app, client, login_as):
    anonymous = client.get("/sw.js").get_data()
    signed_in = login_as(new_user(app), on=app.test_client()).get("/sw.js").get_data()
    assert anonymous == signed_in


# --- Offline page -------------------------------------------------------------------------------

def test_offline_page_is_public(client):
    response = client.get("/offline")
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "<html" in html
    assert "You are offline" in html


def test_offline_page_has_no_user_specific_content_when_signed_in(app, login_as):
    user = new_user(app)
    signed_in = login_as(user, on=app.test_client())
    assert user.display_name in signed_in.get("/profile").get_data(as_text=True)  # really signed in
    response = signed_in.get("/offline")
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert user.display_name not in html
    assert "csrf" not in html.lower()
    assert "Sign out" not in html
    assert "Set-Cookie" not in response.headers


def test_offline_page_is_identical_for_every_visitor(app, client, login_as):
    anonymous = client.get("/offline").get_data()
    signed_in = login_as(new_user(app), on=app.test_client()).get("/offline").get_data()
    assert anonymous == signed_in


def test_offline_page_works_without_network_dependencies(client):
    html = client.get("/offline").get_data(as_text=True)
    # Everything it references is in the precached shell (or is the page itself).
    shell = set(_shell_of(client.get("/sw.js").get_data(as_text=True)))
    for url in re.findall(r'(?:src|href)="(/static/[^"]+)"', html):
        assert url in shell, f"offline page needs {url}, which is not precached"
