"""/healthz says the process is up; /readyz says it can reach PostgreSQL and Redis."""

from __future__ import annotations

import shutil
import socket
import subprocess
import time

import pytest
import redis

from app import create_app
from tests.conftest import TEST_CONFIG


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class RedisServer:
    """A redis-server of our own that the test can stop and start again."""

    def __init__(self, port: int, workdir):
        self.port, self.workdir, self.proc = port, workdir, None

    def start(self):
        self.proc = subprocess.Popen(
            [shutil.which("redis-server"), "--port", str(self.port), "--bind", "127.0.0.1",
             "--save", "", "--appendonly", "no", "--dir", str(self.workdir)],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )
        client = redis.Redis(port=self.port, socket_connect_timeout=0.2)
        for _ in range(100):
            try:
                if client.ping():
                    return
            except redis.ConnectionError:
                time.sleep(0.05)
        raise RuntimeError("redis-server did not start")

    def stop(self):
        self.proc.terminate()
        self.proc.wait(timeout=10)


@pytest.fixture
def own_redis(tmp_path):
    server = RedisServer(_free_port(), tmp_path)
    server.start()
    yield server
    if server.proc.poll() is None:
        server.stop()


def test_healthz_answers_while_the_process_is_up(client):
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.get_json() == {"status": "ok"}


def test_readyz_is_ready_with_database_and_redis(client):
    response = client.get("/readyz")
    assert response.status_code == 200
    assert response.get_json()["checks"] == {"database": "ok", "redis": "ok"}
    assert response.headers["Cache-Control"] == "no-store"


def test_readyz_is_503_while_redis_is_down_and_200_when_it_is_back(own_redis):
    app = create_app({**TEST_CONFIG, "REDIS_URL": f"redis://127.0.0.1:{own_redis.port}/0"})
    client = app.test_client()
    assert client.get("/readyz").status_code == 200

    own_redis.stop()
    started = time.monotonic()
    response = client.get("/readyz")
    assert response.status_code == 503
    assert response.get_json()["checks"]["redis"] == "unreachable"
    assert response.get_json()["checks"]["database"] == "ok"
    assert time.monotonic() - started < 3, "a dead dependency must not hang the probe"

    own_redis.start()
    response = client.get("/readyz")
    assert response.status_code == 200
    assert response.get_json()["status"] == "ready"


def test_readyz_is_503_when_the_database_is_unreachable():
    port = _free_port()  # nothing listens here
    app = create_app({**TEST_CONFIG, "SQLALCHEMY_DATABASE_URI": f"postgresql+psycopg://nobody@127.0.0.1:{port}/none"})
    response = app.test_client().get("/readyz")
    assert response.status_code == 503
    body = response.get_json()
    assert body["checks"]["database"] == "unreachable"
    assert str(port) not in response.get_data(as_text=True), "no connection details leak"
    # /healthz still answers: the process itself is fine.
    assert app.test_client().get("/healthz").status_code == 200
