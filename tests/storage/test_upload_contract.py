"""The upload contract, the same on S3 (a real moto server, reached over HTTP like a
browser would) and on local disk (the app's own signed upload URL): a valid upload is
confirmed with its real size and type; anything oversized, empty, of the wrong type,
missing, or outside the caller's prefix is refused, and a refused object is not kept.
"""

from __future__ import annotations

import hashlib
import uuid

import pytest

from app.errors import ValidationError
from tests.storage.conftest import KIND_LIMITS

PREFIX = "campaigns/42/assets"


def upload(backend, *, kind="video", content_type="video/mp4", content=b"\x00\x00\x00\x18ftypmp42",
           filename="clip.mp4", prefix=PREFIX, **field_overrides):
    key = backend.storage.new_key(prefix, filename)
    ticket = backend.storage.presign_upload(key, kind, content_type, len(content) or 1)
    response = backend.upload(ticket, content, **field_overrides)
    return key, ticket, response


@pytest.mark.parametrize(("kind", "content_type", "filename"), [
    ("video", "video/mp4", "Launch teaser.MP4"),
    ("video", "video/quicktime", "take 2.mov"),
    ("image", "image/png", "proof.png"),
    ("image", "image/jpeg", "screenshot.jpg"),
    ("document", "application/pdf", "brief.pdf"),
])
def test_a_valid_upload_is_confirmed_with_its_real_size_type_and_etag(backend, kind, content_type, filename):
    content = uuid.uuid4().bytes * 100
    key, ticket, response = upload(backend, kind=kind, content_type=content_type, content=content, filename=filename)

    assert response.status in (201, 204), response.body[:300]
    assert ticket.key == key and ticket.max_bytes == len(content)
    stored = backend.storage.confirm_upload(key, prefix=PREFIX, kind=kind, expected_size=len(content))
    assert stored.key == key
    assert stored.size_bytes == len(content)
    assert stored.content_type == content_type
    assert stored.etag == hashlib.md5(content).hexdigest()  # noqa: S324 (S3's single-part ETag)


def test_an_object_over_the_kinds_limit_is_refused_and_deleted(backend):
    limit = KIND_LIMITS["UPLOAD_MAX_IMAGE_BYTES"]
    key = backend.storage.new_key(PREFIX, "huge.png")
    ticket = backend.storage.presign_upload(key, "image", "image/png", limit)
    response = backend.upload(ticket, b"\x89PNG" + b"x" * limit)  # 4 bytes more than the ticket allows

    if backend.name == "s3":
        assert response.status == 204, "moto ignores content-length-range: confirm must catch this"
        assert backend.storage.exists(key)
    else:
        assert response.status == 413
    with pytest.raises(ValidationError) as refused:
        backend.storage.confirm_upload(key, prefix=PREFIX, kind="image")
    assert "too large" in refused.value.message or "did not arrive" in refused.value.message
    assert not backend.storage.exists(key), "a refused upload must not be kept"


def test_an_object_larger_than_announced_is_refused_when_the_size_is_expected(backend):
    key = backend.storage.new_key(PREFIX, "clip.mp4")
    ticket = backend.storage.presign_upload(key, "video", "video/mp4", 100)
    backend.upload(ticket, b"v" * 150)

    with pytest.raises(ValidationError):
        backend.storage.confirm_upload(key, prefix=PREFIX, kind="video", expected_size=100)
    assert not backend.storage.exists(key)


def test_an_object_of_the_wrong_type_is_refused_and_deleted(backend):
    # The browser (or an attacker) changes the Content-Type field the ticket signed.
    key, _, response = upload(backend, kind="image", content_type="image/png", content=b"<script>x</script>",
                              filename="proof.png", **{"Content-Type": "text/html"})

    assert response.status == (204 if backend.name == "s3" else 403)
    with pytest.raises(ValidationError) as refused:
        backend.storage.confirm_upload(key, prefix=PREFIX, kind="image")
    assert refused.value.field == "file"
    assert not backend.storage.exists(key)


def test_a_valid_video_confirmed_as_an_image_is_refused_and_deleted(backend):
    key, _, _ = upload(backend)

    with pytest.raises(ValidationError, match="not an accepted image type"):
        backend.storage.confirm_upload(key, prefix=PREFIX, kind="image")
    assert not backend.storage.exists(key)


def test_an_empty_file_is_refused_and_not_kept(backend):
    key, _, response = upload(backend, content=b"")

    assert response.status == (204 if backend.name == "s3" else 422)
    with pytest.raises(ValidationError, match="empty|did not arrive"):
        backend.storage.confirm_upload(key, prefix=PREFIX, kind="video")
    assert not backend.storage.exists(key)


def test_a_key_outside_the_callers_prefix_is_refused_and_left_alone(backend):
    # A real upload for campaign 43; someone tries to attach it to campaign 42.
    key, _, response = upload(backend, prefix="campaigns/43/assets")
    assert response.status == 204

    for prefix in (PREFIX, "campaigns/4", "campaigns/43", "campaigns/43/assets/x"):
        with pytest.raises(ValidationError, match="does not belong here"):
            backend.storage.confirm_upload(key, prefix=prefix, kind="video")
    assert backend.storage.exists(key), "another campaign's file is not ours to delete"
    assert backend.storage.confirm_upload(key, prefix="campaigns/43/assets", kind="video").key == key


HEX = "0123456789abcdef0123456789abcdef"
TRAVERSAL_KEYS = [
    f"{PREFIX}/../../43/assets/{HEX}/clip.mp4",
    f"{PREFIX}/{HEX}/../../../../etc/passwd",
    f"{PREFIX}/{HEX}/..",
    f"/{PREFIX}/{HEX}/clip.mp4",
    f"{PREFIX}\\{HEX}\\clip.mp4",
    f"{PREFIX}/{HEX}/..\\..\\clip.mp4",
    f"{PREFIX}/%2e%2e/{HEX}/clip.mp4",
    f"{PREFIX}/{HEX}/%2e%2e%2fclip.mp4",
    f"{PREFIX}/{HEX}/.htaccess",
    f"{PREFIX}/{HEX}/clip.mp4\x00.png",
    f"{PREFIX}/{HEX}/clip\n.mp4",
    f"{PREFIX}/{HEX}/clïp.mp4",
    f"{PREFIX}/{HEX.upper()}/clip.mp4",
    f"{PREFIX}/{HEX}/sub/clip.mp4",
    f"{PREFIX}//{HEX}/clip.mp4",
    f"{PREFIX}/{HEX}/",
    f"{PREFIX}/{HEX}",
    f"{PREFIX}/{HEX}/{'a' * 101}",
    "",
    None,
    42,
]


@pytest.mark.parametrize("key", TRAVERSAL_KEYS, ids=range(len(TRAVERSAL_KEYS)))
def test_traversal_and_malformed_keys_are_refused_everywhere(backend, key):
    with pytest.raises(ValidationError):
        backend.storage.confirm_upload(key, prefix=PREFIX, kind="video")
    with pytest.raises(ValidationError):
        backend.storage.presign_upload(key, "video", "video/mp4", 10)
    with pytest.raises(ValidationError):
        backend.storage.presign_download(key, "clip.mp4")
    with pytest.raises(ValidationError):
        backend.storage.delete(key)


def test_a_missing_object_is_refused(backend):
    key = backend.storage.new_key(PREFIX, "never-sent.mp4")
    backend.storage.presign_upload(key, "video", "video/mp4", 10)

    with pytest.raises(ValidationError, match="did not arrive"):
        backend.storage.confirm_upload(key, prefix=PREFIX, kind="video")


@pytest.mark.parametrize(("kind", "content_type", "size", "message"), [
    ("video", "video/mp4", 0, "empty"),
    ("video", "video/mp4", -1, "empty"),
    ("video", "video/mp4", KIND_LIMITS["UPLOAD_MAX_VIDEO_BYTES"] + 1, "too large"),
    ("image", "image/png", KIND_LIMITS["UPLOAD_MAX_IMAGE_BYTES"] + 1, "too large"),
    ("video", "video/mp4", True, "not a number"),
    ("video", "video/mp4", "10", "not a number"),
    ("video", "video/mp4", None, "not a number"),
    ("video", "video/mp4", 1.5, "not a number"),
    ("video", "text/html", 10, "not accepted"),
    ("video", "image/png", 10, "not accepted"),
    ("image", "image/svg+xml", 10, "not accepted"),
    ("image", "", 10, "not accepted"),
    ("image", None, 10, "not accepted"),
    ("executable", "application/x-msdownload", 10, "cannot be uploaded"),
])
def test_a_ticket_is_refused_for_a_bad_declaration(backend, kind, content_type, size, message):
    key = backend.storage.new_key(PREFIX, "clip.mp4")
    with pytest.raises(ValidationError, match=message):
        backend.storage.presign_upload(key, kind, content_type, size)


def test_content_type_parameters_and_case_are_normalised(backend):
    key = backend.storage.new_key(PREFIX, "clip.mp4")
    ticket = backend.storage.presign_upload(key, "video", "Video/MP4; codecs=avc1", 5)
    assert ticket.fields["Content-Type"] == "video/mp4"
    assert backend.upload(ticket, b"12345").status == 204
    assert backend.storage.confirm_upload(key, prefix=PREFIX, kind="video").content_type == "video/mp4"


@pytest.mark.parametrize("filename", ["Mon clip été.mp4", "plain.mp4", 'say "hi"\r\n.mp4', "🎬🎬.mp4", None])
def test_a_download_link_answers_with_the_file_as_an_attachment(backend, filename):
    content = b"\x00\x00\x00\x18ftypmp42 payload"
    key, _, _ = upload(backend, content=content)

    response = backend.get(backend.storage.presign_download(key, filename))

    assert response.status == 200
    assert response.body == content
    assert response.headers["Content-Type"] == "video/mp4"
    disposition = response.headers["Content-Disposition"]
    assert disposition.startswith('attachment; filename="')
    assert "\r" not in disposition and "\n" not in disposition
    if filename == "Mon clip été.mp4":
        assert "filename*=UTF-8''Mon%20clip%20%C3%A9t%C3%A9.mp4" in disposition


def test_deleting_removes_the_object(backend):
    key, _, _ = upload(backend)
    assert backend.storage.exists(key)
    backend.storage.delete(key)
    assert not backend.storage.exists(key)
    backend.storage.delete(key)  # deleting twice is harmless
