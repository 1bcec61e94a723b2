"""Test harness: real PostgreSQL and Redis (started by scripts/test-services.sh),
the app built once per session on a migrated schema, every test isolated by
truncating all tables and flushing Redis afterwards (so jobs run by a real
worker process and pages served to Chromium see committed data), and a
live server for Playwright.
"""

from __future__ import annotations

import os
import re
import threading
from collections.abc import Iterator

import pytest
import redis as redis_lib
from flask.testing import FlaskClient
from sqlalchemy import create_engine, text
from werkzeug.serving import make_server

DATABASE_URL = os.environ.get("TEST_DATABASE_URL")
REDIS_URL = os.environ.get("TEST_REDIS_URL")

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--disable-background-networking",
    "--disable-component-update", "--disable-sync", "--no-first-run", "--disable-quic",
]


def pytest_configure(config):
    if not DATABASE_URL or not REDIS_URL:
        pytest.exit(
            "The tests run on real PostgreSQL and Redis: run `make test`, or start them with "
            "`scripts/test-services.sh start && . .test-services/env`.", returncode=4,
        )


def pytest_report_header(config):
    engine = create_engine(DATABASE_URL)
    with engine.connect() as conn:
        pg_version = conn.execute(text("SHOW server_version")).scalar()
    engine.dispose()
    redis_version = redis_lib.Redis.from_url(REDIS_URL).info("server")["redis_version"]
    return [
        f"database: PostgreSQL {pg_version} at {DATABASE_URL.split('@')[-1]}",
        f"redis: Redis {redis_version} at {REDIS_URL.split('//')[-1]}",
    ]


def _reset_schema(url: str) -> None:
    engine = create_engine(url, isolation_level="AUTOCOMMIT")
    with engine.connect() as conn:
        conn.execute(text("DROP SCHEMA IF EXISTS public CASCADE"))
        conn.execute(text("CREATE SCHEMA public"))
    engine.dispose()


TEST_CONFIG = {
    "TESTING": True,
    "SECRET_KEY": "test-secret-key-not-for-production",
    "SQLALCHEMY_DATABASE_URI": DATABASE_URL,
    "REDIS_URL": REDIS_URL,
    "JOBS_INLINE": False,
    "RATELIMIT_STORAGE_URI": REDIS_URL,
    "SERVER_NAME": None,
    "LOG_FORMAT": "json",
}


@pytest.fixture(scope="session")
def mailbox():
    """A real SMTP server the app (and worker processes) deliver email to."""
    from tests.outside import Mailbox

    box = Mailbox().start()
    yield box
    box.stop()


@pytest.fixture(scope="session")
def sms_gateway():
    """A local fake of Twilio's Messages API; the real twilio SDK sends to it."""
    from tests.outside import FakeTwilio

    fake = FakeTwilio().start()
    yield fake
    fake.stop()


@pytest.fixture(scope="session")
def outside_services(mailbox, sms_gateway) -> dict:
    from tests.outside import outside_config

    return outside_config(mailbox, sms_gateway)


@pytest.fixture(scope="session")
def app(outside_services):
    from flask_migrate import upgrade

    from app import create_app

    _reset_schema(DATABASE_URL)
    application = create_app({**TEST_CONFIG, **outside_services})
    with application.app_context():
        upgrade()
    return application


@pytest.fixture(scope="session")
def redis_client() -> redis_lib.Redis:
    return redis_lib.Redis.from_url(REDIS_URL)


def _truncate_all(application) -> None:
    from app.extensions import db

    with application.app_context():
        tables = [t.name for t in reversed(db.metadata.sorted_tables)]
        if tables:
            quoted = ", ".join(f'"{name}"' for name in tables)
            db.session.execute(text(f"TRUNCATE {quoted} RESTART IDENTITY CASCADE"))
            db.session.commit()
        db.session.remove()


@pytest.fixture(autouse=True)
def _isolate(request, redis_client) -> Iterator[None]:
    yield
    if "app" in request.fixturenames:
        _truncate_all(request.getfixturevalue("app"))
        request.getfixturevalue("mailbox").clear()
        request.getfixturevalue("sms_gateway").clear()
    redis_client.flushdb()


@pytest.fixture
def db(app):
    """The database, inside an app context; data is wiped after the test."""
    from app.extensions import db as database

    with app.app_context():
        yield database
        database.session.remove()


class IsolatedClient(FlaskClient):
    """Each request runs in its own app context, as in production: otherwise a test
    holding the ``db`` fixture's context would share ``g`` (and flask-login's cached
    user) across requests and clients."""

    def open(self, *args, **kwargs):
        with self.application.app_context():
            return super().open(*args, **kwargs)


@pytest.fixture
def world(app):
    """A brand, an admin, their funded live campaign and two clippers approved for it."""
    from tests.factories import build_world

    return build_world(app, clippers=2)


@pytest.fixture
def client(app):
    app.test_client_class = IsolatedClient
    return app.test_client()


@pytest.fixture
def login_as(app, client):
    """Sign ``user`` in on ``client`` the way flask-login does (cookie names the session token);
    staff sessions count as having passed TOTP unless ``mfa=False``."""

    def _login(user, on=None, mfa=True):
        target = on or client
        with target.session_transaction() as session:
            session["_user_id"] = user.session_token
            session["_fresh"] = True
            if mfa and getattr(user, "role", None) in ("admin", "support"):
                session["mfa"] = user.session_token  # as if the staff member passed TOTP
        return target

    return _login


_CSRF = re.compile(r'name="csrf_token" type="hidden" value="([^"]+)"|name="csrf_token" value="([^"]+)"')


def csrf_token_from(html: str) -> str:
    match = _CSRF.search(html)
    assert match, "no CSRF token in page"
    return match.group(1) or match.group(2)


@pytest.fixture
def csrf_token(client):
    """A valid CSRF token for ``client``'s session (read from the sign-in page)."""

    def _token(target=None) -> str:
        response = (target or client).get("/login")
        return csrf_token_from(response.get_data(as_text=True))

    return _token


class LiveServer:
    def __init__(self, application):
        self.server = make_server("127.0.0.1", 0, application, threaded=True)
        self.url = f"http://127.0.0.1:{self.server.server_port}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def start(self):
        self.thread.start()
        return self

    def stop(self):
        self.server.shutdown()


@pytest.fixture(scope="session")
def live_server(app) -> Iterator[LiveServer]:
    server = LiveServer(app).start()
    yield server
    server.stop()


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args):
    return {**browser_type_launch_args, "executable_path": CHROMIUM, "args": CHROMIUM_ARGS, "headless": True}


@pytest.fixture(scope="session")
def browser_context_args(browser_context_args):
    return {**browser_context_args, "viewport": {"width": 390, "height": 844}, "is_mobile": True, "has_touch": True}
