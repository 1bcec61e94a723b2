"""Upload limits and link lifetimes come from the environment, with the issue's defaults,
and a value that is not a positive whole number stops the app at start-up."""

from __future__ import annotations

import pytest

from app.config import load

NAMES = ("UPLOAD_MAX_VIDEO_BYTES", "UPLOAD_MAX_IMAGE_BYTES", "UPLOAD_MAX_DOCUMENT_BYTES",
         "UPLOAD_URL_EXPIRES_SECONDS", "DOWNLOAD_URL_EXPIRES_SECONDS")


@pytest.fixture
def env(monkeypatch):
    for name in NAMES:
        monkeypatch.delenv(name, raising=False)
    return monkeypatch


def test_the_defaults_are_2_gib_for_video_20_mib_for_images_and_minutes_for_links(env):
    config = load()
    assert config["UPLOAD_MAX_VIDEO_BYTES"] == 2 * 1024**3
    assert config["UPLOAD_MAX_IMAGE_BYTES"] == 20 * 1024**2
    assert config["UPLOAD_MAX_DOCUMENT_BYTES"] == 20 * 1024**2
    assert config["UPLOAD_URL_EXPIRES_SECONDS"] == 600
    assert config["DOWNLOAD_URL_EXPIRES_SECONDS"] == 300


def test_the_environment_changes_the_limits_the_storage_enforces(env):
    from app.errors import ValidationError
    from app.storage.local import LocalStorage

    env.setenv("UPLOAD_MAX_IMAGE_BYTES", "1000")
    config = load()
    assert config["UPLOAD_MAX_IMAGE_BYTES"] == 1000
    storage = LocalStorage(config)
    with pytest.raises(ValidationError, match="at most 1000 bytes"):
        storage.check_upload_request(storage.kind("image"), "image/png", 1001)
    assert storage.check_upload_request(storage.kind("image"), "image/png", 1000) == "image/png"


@pytest.mark.parametrize("value", ["2GB", "-1", "0", "1.5"])
def test_a_bad_value_stops_the_app_with_a_clear_message(env, value):
    env.setenv("UPLOAD_MAX_VIDEO_BYTES", value)
    with pytest.raises(RuntimeError, match="UPLOAD_MAX_VIDEO_BYTES must be"):
        load()
