"""Settings come from the environment, with self-contained embedded defaults."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from app import config as settings

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def clean_env(monkeypatch):
    for setting in settings.SETTINGS:
        monkeypatch.delenv(setting.name, raising=False)
    return monkeypatch


def test_embedded_defaults_need_no_outside_service(clean_env):
    cfg = settings.load()
    assert cfg["SQLALCHEMY_DATABASE_URI"] == f"sqlite:///{ROOT / 'instance' / 'contentflow.db'}"
    assert cfg["REDIS_URL"] is None
    assert cfg["JOBS_INLINE"] is True
    assert cfg["STORAGE_BACKEND"] == "local"
    assert cfg["MAIL_TO_LOG"] is True
    assert cfg["PAYMENTS_MODE"] == "offline"
    assert cfg["RATELIMIT_STORAGE_URI"] == "memory://"
    assert len(cfg["SECRET_KEY"]) >= 32
    assert settings.load()["SECRET_KEY"] == cfg["SECRET_KEY"], "embedded key survives a restart"


def test_environment_switches_each_part_to_the_real_service(clean_env):
    clean_env.setenv("DATABASE_URL", "postgres://u:p@db:5432/cf")
    clean_env.setenv("REDIS_URL", "redis://cache:6379/1")
    clean_env.setenv("STRIPE_SECRET_KEY", "sk_test_x")
    clean_env.setenv("MAIL_SERVER", "smtp.example")
    clean_env.setenv("SESSION_COOKIE_SECURE", "1")
    cfg = settings.load()
    assert cfg["SQLALCHEMY_DATABASE_URI"] == "postgresql+psycopg://u:p@db:5432/cf"
    assert cfg["JOBS_INLINE"] is False
    assert cfg["RATELIMIT_STORAGE_URI"] == "redis://cache:6379/1"
    assert cfg["PAYMENTS_MODE"] == "stripe"
    assert cfg["MAIL_TO_LOG"] is False
    assert cfg["SESSION_COOKIE_SECURE"] is True


def test_jobs_inline_can_be_forced_either_way(clean_env):
    clean_env.setenv("REDIS_URL", "redis://cache:6379/1")
    clean_env.setenv("JOBS_INLINE", "1")
    assert settings.load()["JOBS_INLINE"] is True


def test_readme_settings_table_lists_every_variable():
    readme = (ROOT / "README.md").read_text()
    table_names = set(re.findall(r"^\| `([A-Z_0-9<>]+)` \|", readme, re.M))
    assert table_names == {s.name for s in settings.SETTINGS}


def test_every_setting_is_read_by_the_code():
    source = "\n".join(p.read_text() for p in (ROOT / "app").rglob("*.py")) + (ROOT / "gunicorn.conf.py").read_text()
    for setting in settings.SETTINGS:
        if setting.name.startswith("<PLATFORM>"):  # read by prefix: f"{prefix}_CLIENT_ID"
            assert source.count(setting.name.removeprefix("<PLATFORM>") + '"') >= 1, setting.name
            continue
        assert source.count(f'"{setting.name}"') >= 2, f"{setting.name} is documented but never read"


def test_every_platform_reads_its_oauth_client_from_the_environment_by_its_prefix(clean_env):
    from app.social.platforms.registry import REGISTRY

    for platform in REGISTRY:
        clean_env.setenv(f"{platform.oauth.settings_prefix}_CLIENT_ID", f"id-{platform.key}")
        clean_env.setenv(f"{platform.oauth.settings_prefix}_CLIENT_SECRET", f"secret-{platform.key}")
    clean_env.setenv("NEWSITE_CLIENT_ID", "id-new")  # a platform added later needs no line in config.py
    clean_env.setenv("NEWSITE_CLIENT_SECRET", "")  # empty means unset
    cfg = settings.load()
    for platform in REGISTRY:
        assert cfg[f"{platform.oauth.settings_prefix}_CLIENT_ID"] == f"id-{platform.key}"
        assert cfg[f"{platform.oauth.settings_prefix}_CLIENT_SECRET"] == f"secret-{platform.key}"
    assert cfg["NEWSITE_CLIENT_ID"] == "id-new" and "NEWSITE_CLIENT_SECRET" not in cfg
