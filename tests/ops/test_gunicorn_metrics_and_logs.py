"""Under gunicorn with several workers: /metrics counts every worker's requests,
and every log line is JSON carrying the request id."""

from __future__ import annotations

import json
import os
import re
import socket
import subprocess
import sys
import time
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
REQUESTS = 40


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _get(url: str, headers: dict | None = None, data: bytes | None = None):
    request = urllib.request.Request(url, headers=headers or {"Connection": "close"}, data=data)
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, dict(response.headers), response.read().decode()
    except urllib.error.HTTPError as error:
        return error.code, dict(error.headers), error.read().decode()


@pytest.fixture(scope="module")
def gunicorn(tmp_path_factory):
    workdir = tmp_path_factory.mktemp("gunicorn")
    port = _free_port()
    log_path = workdir / "stderr.log"
    env = {
        **os.environ,
        "DATABASE_URL": os.environ["TEST_DATABASE_URL"],
        "REDIS_URL": os.environ["TEST_REDIS_URL"],
        "SECRET_KEY": "test-secret-key-not-for-production",
        "PROMETHEUS_MULTIPROC_DIR": str(workdir / "prom"),
        "GUNICORN_BIND": f"127.0.0.1:{port}",
        "WEB_CONCURRENCY": "2",
        "LOG_FORMAT": "json",
    }
    with open(log_path, "w") as log_file:
        proc = subprocess.Popen(
            [sys.executable, "-m", "gunicorn", "-c", "gunicorn.conf.py", "wsgi:app"],
            cwd=ROOT, env=env, stdout=log_file, stderr=subprocess.STDOUT,
        )
        base = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 60  # a deadline, not a count of tries: a loaded machine starts slowly
        while time.monotonic() < deadline:
            try:
                if _get(base + "/healthz")[0] == 200:
                    break
            except OSError:
                time.sleep(0.05)
        else:
            proc.kill()
            raise RuntimeError("gunicorn did not start: " + log_path.read_text()[-2000:])
        yield base, log_path
        proc.terminate()
        proc.wait(timeout=20)


def _metric(text: str, endpoint: str, status: str = "200") -> float:
    labels = "".join(
        rf'(?=[^}}]*{name}="{re.escape(value)}")'
        for name, value in (("endpoint", endpoint), ("method", "GET"), ("status", status))
    )
    pattern = re.compile(rf"^contentflow_http_requests_total\{{{labels}[^}}]*\}} (\S+)$", re.M)
    return sum(float(v) for v in pattern.findall(text))


def _complete_log_lines(log_path: Path, written, timeout: float = 15) -> list[str]:
    """The log's complete lines, read again until ``written(lines)`` holds (a worker may write
    its request line after the response went out) or ``timeout`` passes; no fixed sleep."""
    deadline = time.monotonic() + timeout
    while True:
        text = log_path.read_text()
        lines = [line for line in text[:text.rfind("\n") + 1].splitlines() if line.strip()]
        if written(lines) or time.monotonic() > deadline:
            return lines
        time.sleep(0.05)


def _landing_pids(log_path: Path) -> set[int]:
    return {
        json.loads(line)["pid"] for line in log_path.read_text().splitlines()
        if line.startswith("{") and '"event": "request"' in line and '"path": "/"' in line
    }


def test_metrics_sum_requests_from_every_worker(gunicorn):
    base, log_path = gunicorn
    before = _metric(_get(base + "/metrics")[2], "core.landing")
    sent = 0
    # Concurrent batches until both workers have served some (bounded: 10 batches).
    with ThreadPoolExecutor(max_workers=8) as pool:
        for _ in range(10):
            statuses = list(pool.map(lambda _: _get(base + "/")[0], range(REQUESTS)))
            assert statuses == [200] * REQUESTS
            sent += REQUESTS
            time.sleep(0.2)
            if len(_landing_pids(log_path)) >= 2:
                break
    assert len(_landing_pids(log_path)) >= 2, "requests should have been served by more than one worker"

    status, headers, body = _get(base + "/metrics")
    assert status == 200
    assert headers["Content-Type"].startswith("text/plain")
    # Each worker counts in its own file; /metrics must add them all up.
    assert _metric(body, "core.landing") - before == sent
    assert "contentflow_http_request_duration_seconds_bucket" in body


def test_every_log_line_is_json_and_request_lines_carry_the_request_id(gunicorn):
    base, log_path = gunicorn
    status, headers, _ = _get(base + "/readyz", headers={"Connection": "close", "X-Request-ID": "probe-12345678"})
    assert status == 200
    assert headers["X-Request-ID"] == "probe-12345678"

    # A hostile id is replaced, not echoed.
    status, headers, _ = _get(base + "/healthz", headers={"Connection": "close", "X-Request-ID": "bad id <script>"})
    assert re.fullmatch(r"[0-9a-f]{32}", headers["X-Request-ID"])

    # A POST without CSRF token: Flask-WTF logs through stdlib logging inside the request.
    status, headers, _ = _get(base + "/login", data=b"email=a%40b.c&password=x",
                              headers={"Connection": "close", "X-Request-ID": "csrf-probe-0001",
                                       "Content-Type": "application/x-www-form-urlencoded"})
    assert status == 400

    lines = _complete_log_lines(log_path, lambda lines: sum("csrf-probe-0001" in line for line in lines) >= 2
                            and any("probe-12345678" in line for line in lines))
    records = [json.loads(line) for line in lines]  # every line parses, or this fails
    assert any(r.get("event") == "request" and r.get("request_id") == "probe-12345678" for r in records)
    csrf_lines = [r for r in records if r.get("request_id") == "csrf-probe-0001"]
    assert {r["event"] for r in csrf_lines} >= {"request"}
    assert any("CSRF" in r["event"] for r in csrf_lines), "library log lines inside a request carry its id"
    for record in records:
        if record.get("event") == "request":
            assert re.fullmatch(r"[A-Za-z0-9._-]{8,64}", record["request_id"])
            assert {"timestamp", "level", "status", "path", "duration_ms"} <= record.keys()
