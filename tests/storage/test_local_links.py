"""The local-disk backend's own upload and download URLs: the signed token is the only
authority, so a tampered token is refused (403), an expired one is refused (410), a body
over the ticket's size is refused before it is stored (413), and nothing refused is kept."""

from __future__ import annotations

import io
import time
from types import SimpleNamespace

import pytest

PREFIX = "campaigns/7/assets"


def tamper(url: str) -> str:
    """Change the first character of the token's signature (the last base64 character
    may carry only padding bits, so flipping it can leave the signature unchanged)."""
    head, _, signature = url.rpartition(".")
    return f"{head}.{'A' if signature[0] != 'A' else 'B'}{signature[1:]}"


def tamper_payload(url: str) -> str:
    """Re-encode the payload with a different key but keep the old signature."""
    import base64
    import json
    import zlib

    head, _, signature = url.rpartition(".")
    prefix, _, payload = head.rpartition("/")
    raw = base64.urlsafe_b64decode(payload.lstrip(".") + "==")
    data = json.loads(zlib.decompress(raw) if payload.startswith(".") else raw)
    data["k"] = data["k"].replace("campaigns/7/", "campaigns/8/")
    forged = base64.urlsafe_b64encode(json.dumps(data).encode()).decode().rstrip("=")
    return f"{prefix}/{forged}.{signature}"


def test_a_tampered_upload_token_is_refused_and_nothing_is_stored(local):
    key = local.storage.new_key(PREFIX, "clip.mp4")
    ticket = local.storage.presign_upload(key, "video", "video/mp4", 5)

    response = local.post_form(tamper(ticket.url), ticket.fields, b"12345")
    forged = local.post_form(tamper_payload(ticket.url), ticket.fields, b"12345")

    assert (response.status, forged.status) == (403, 403)
    assert b"This link is not valid." in response.body
    assert not local.storage.exists(key)
    assert not local.storage.exists(key.replace("campaigns/7/", "campaigns/8/"))


def test_a_token_for_another_purpose_or_app_is_refused(local, local_app):
    from app.storage.local import LocalStorage

    key = local.storage.new_key(PREFIX, "clip.mp4")
    download_url = local.storage.presign_download(key, "clip.mp4")
    as_upload = download_url.replace("/storage/download/", "/storage/upload/")
    assert local.post_form(as_upload, {"Content-Type": "video/mp4"}, b"12345").status == 403

    foreign = LocalStorage({**local_app.config, "SECRET_KEY": "another-installation-secret"})
    foreign_ticket = foreign.presign_upload(key, "video", "video/mp4", 5)
    assert local.upload(foreign_ticket, b"12345").status == 403
    assert not local.storage.exists(key)


def test_expired_upload_and_download_links_are_refused(local, monkeypatch):
    from app.storage import local as local_backend

    stored_key = local.storage.new_key(PREFIX, "kept.mp4")
    local.upload(local.storage.presign_upload(stored_key, "video", "video/mp4", 3), b"abc")
    key = local.storage.new_key(PREFIX, "late.mp4")
    ticket = local.storage.presign_upload(key, "video", "video/mp4", 5, expires_in=60)
    download_url = local.storage.presign_download(stored_key, "kept.mp4", expires=60)
    assert local.get(download_url).status == 200

    # A minute and a second later (the backend's clock moved, not the test's: no sleep, so a
    # slow machine cannot make the "still valid" request above arrive late).
    real_time = time.time
    monkeypatch.setattr(local_backend, "time", SimpleNamespace(time=lambda: real_time() + 61))

    upload = local.upload(ticket, b"12345")
    assert upload.status == 410
    assert b"This link has expired" in upload.body
    assert not local.storage.exists(key)
    assert local.get(download_url).status == 410
    assert local.get(local.storage.presign_download(stored_key, "kept.mp4")).status == 200


def test_a_tampered_download_token_is_refused(local):
    key = local.storage.new_key(PREFIX, "clip.mp4")
    local.upload(local.storage.presign_upload(key, "video", "video/mp4", 5), b"12345")
    url = local.storage.presign_download(key, "clip.mp4")

    assert local.get(tamper(url)).status == 403
    assert local.get(tamper_payload(url)).status == 403
    assert local.get("/storage/download/not-a-token").status == 403


def test_a_download_of_a_deleted_object_is_not_found(local):
    key = local.storage.new_key(PREFIX, "clip.mp4")
    local.upload(local.storage.presign_upload(key, "video", "video/mp4", 5), b"12345")
    url = local.storage.presign_download(key, "clip.mp4")
    local.storage.delete(key)

    assert local.get(url).status == 404


def test_a_download_is_never_sniffed_or_cached(local):
    key = local.storage.new_key(PREFIX, "page.png")
    local.upload(local.storage.presign_upload(key, "image", "image/png", 27), b"<html><script>x</script>...")

    response = local.get(local.storage.presign_download(key, "<b>page</b>.html"))

    assert response.status == 200
    assert response.headers["Content-Type"] == "image/png"
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["Cache-Control"] == "private, no-store"
    assert response.headers["Content-Disposition"].startswith('attachment; filename="b-page-b.html"')
    assert "<" not in response.headers["Content-Disposition"].split(";")[1]


def test_a_body_over_the_ticket_size_is_refused_before_it_is_read(local):
    key = local.storage.new_key(PREFIX, "clip.mp4")
    ticket = local.storage.presign_upload(key, "video", "video/mp4", 1000)

    # Far beyond the ticket: refused on Content-Length alone (the route's own body limit).
    big = local.post_form(ticket.url, ticket.fields, b"v" * (200 * 1024))
    # Within the form-overhead allowance but over the ticket: refused while streaming.
    slightly = local.post_form(ticket.url, ticket.fields, b"v" * 1001)

    assert (big.status, slightly.status) == (413, 413)
    assert not local.storage.exists(key)
    assert list(local.storage.tmp_root.iterdir()) == [], "no temporary file left behind"


def test_the_upload_route_accepts_more_than_the_apps_global_body_limit(local_app, tmp_path):
    from tests.storage.conftest import make_app

    app = make_app(STORAGE_BACKEND="local", UPLOAD_DIR=str(tmp_path), UPLOAD_MAX_VIDEO_BYTES=3 * 1024 * 1024)
    content = b"m" * (2 * 1024 * 1024)  # twice MAX_CONTENT_LENGTH (1 MiB)
    assert app.config["MAX_CONTENT_LENGTH"] < len(content)
    with app.test_request_context("/"):
        from app.storage import get_storage

        storage = get_storage()
        key = storage.new_key(PREFIX, "big.mp4")
        ticket = storage.presign_upload(key, "video", "video/mp4", len(content))
        response = app.test_client().post(ticket.url, data={**ticket.fields, "file": (io.BytesIO(content), "big.mp4")})
        assert response.status_code == 204
        assert storage.confirm_upload(key, prefix=PREFIX, kind="video").size_bytes == len(content)
        # Everywhere else the global limit still holds.
        assert app.test_client().post("/login", data={"x": "y" * len(content)}).status_code == 413


def test_an_upload_without_a_file_part_is_refused(local):
    key = local.storage.new_key(PREFIX, "clip.mp4")
    ticket = local.storage.presign_upload(key, "video", "video/mp4", 5)

    response = local.client.post(ticket.url, data=ticket.fields)

    assert response.status_code == 422
    assert b"No file was sent." in response.get_data()
    assert not local.storage.exists(key)


def test_the_upload_route_needs_no_csrf_token_but_a_get_is_not_allowed(local):
    key = local.storage.new_key(PREFIX, "clip.mp4")
    ticket = local.storage.presign_upload(key, "video", "video/mp4", 5)

    assert local.client.get(ticket.url).status_code == 405
    assert local.upload(ticket, b"12345").status == 204  # the test app enforces CSRF elsewhere


@pytest.mark.parametrize("path", ["/storage/upload/x", "/storage/download/x"])
def test_the_local_routes_do_not_exist_when_storage_is_s3(s3_app, path):
    client = s3_app.test_client()
    response = client.post(path) if "upload" in path else client.get(path)
    assert response.status_code == 404


def test_files_land_under_the_upload_dir_and_nowhere_else(local, local_app):
    from pathlib import Path

    key = local.storage.new_key(PREFIX, "../../escape.mp4")
    local.upload(local.storage.presign_upload(key, "video", "video/mp4", 5), b"12345")

    root = Path(local_app.config["UPLOAD_DIR"]).resolve()
    stored = local.storage.object_path(key)
    assert stored.is_relative_to(root / "objects") and stored.read_bytes() == b"12345"
    assert stored.name == "escape.mp4"
