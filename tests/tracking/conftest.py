"""Tracking fixtures: the local fake platform server (the same one the platform client tests
use) with the app pointed at it, and evidence uploads. Worlds, posts and counts: ``tests.factories``."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.platforms.fake_platforms import YOUTUBE_KEY, FakePlatforms, FakePlatformServer


@pytest.fixture(scope="session")
def fake_platform_server() -> Iterator[FakePlatformServer]:
    server = FakePlatformServer().start()
    yield server
    server.stop()


@pytest.fixture
def fake(fake_platform_server, app, monkeypatch) -> FakePlatforms:
    fake_platform_server.fake.reset()
    monkeypatch.setitem(app.config, "PLATFORM_API_BASE", fake_platform_server.fake.url)
    monkeypatch.setitem(app.config, "YOUTUBE_API_KEY", YOUTUBE_KEY)
    return fake_platform_server.fake


PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 200


def upload_evidence(client, submission_id: int, role: str) -> str:
    """Upload a screenshot the way upload.js does (ticket, direct upload, confirm); its key."""
    import io
    import re

    from tests.submissions.pages import post

    ticket = post(client, f"/my/submissions/{submission_id}/evidence/ticket", {
        "filename": "count.png", "content_type": "image/png", "size_bytes": str(len(PNG))},
        role=role, partial=False).get_json()
    stored = client.post(ticket["url"], data={**ticket["fields"], "file": (io.BytesIO(PNG), "count.png",
                                                                           "image/png")},
                         content_type="multipart/form-data")
    assert stored.status_code == 204
    confirmed = post(client, f"/my/submissions/{submission_id}/evidence",
                     {"key": ticket["key"], "size_bytes": str(len(PNG))}, role=role).get_data(as_text=True)
    return re.search(r'name="evidence_key" value="([^"]+)"', confirmed).group(1)
