"""Fixtures for platform client tests: one fake platform server per session, reset per test,
and client settings pointed at it with recorded (never real) sleeps."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from app.social.platforms import PlatformCredentials, PlatformSettings
from tests.platforms.fake_platforms import USER_TOKEN, YOUTUBE_KEY, FakePlatforms, FakePlatformServer


@pytest.fixture(scope="session")
def fake_platform_server() -> Iterator[FakePlatformServer]:
    server = FakePlatformServer().start()
    yield server
    server.stop()


@pytest.fixture
def fake(fake_platform_server) -> FakePlatforms:
    fake_platform_server.fake.reset()
    return fake_platform_server.fake


@pytest.fixture
def sleeps() -> list[float]:
    return []


@pytest.fixture
def settings(fake, sleeps) -> PlatformSettings:
    # jitter fixed at 0.5: the n-th backoff is exactly 0.75 * 2^(n-1) seconds.
    return PlatformSettings(api_base=fake.url, youtube_api_key=YOUTUBE_KEY, connect_timeout=1.0, read_timeout=2.0,
                            sleep=sleeps.append, jitter=lambda: 0.5)


@pytest.fixture
def user_credentials() -> PlatformCredentials:
    return PlatformCredentials(access_token=USER_TOKEN, platform_user_id="open-id-clipqueen")
