"""In-process request cost of the shell pages, as ratios to a bare Flask route.

Run:  .venv/bin/python bench/bench_pages.py [--seconds 2]
Uses the embedded defaults (SQLite under a temp dir) unless DATABASE_URL is set.
Prints requests/s per endpoint and its cost relative to a bare `return "ok"` Flask
route measured in the same run (ratios are what to compare between runs: the
machines are noisy).
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))


def measure(client, path: str, seconds: float, headers: dict | None = None) -> float:
    deadline = time.perf_counter() + seconds
    count = 0
    while time.perf_counter() < deadline:
        response = client.get(path, headers=headers or {})
        assert response.status_code == 200, (path, response.status_code)
        count += 1
    return count / seconds


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--seconds", type=float, default=2.0)
    args = parser.parse_args()

    tmp = tempfile.mkdtemp()
    os.environ.setdefault("DATABASE_URL", f"sqlite:///{tmp}/bench.db")
    os.environ.setdefault("LOG_LEVEL", "WARNING")
    from flask import Flask
    from flask_migrate import upgrade

    from app import create_app

    app = create_app()
    with app.app_context():
        upgrade()
    bare = Flask("bare")
    bare.add_url_rule("/", "index", lambda: "ok")

    bare_rps = measure(bare.test_client(), "/", args.seconds)
    client = app.test_client()
    rows = [
        ("bare Flask route", bare_rps),
        ("/healthz", measure(client, "/healthz", args.seconds)),
        ("/ (landing, full page)", measure(client, "/", args.seconds)),
        ("/ (htmx fragment)", measure(client, "/", args.seconds,
                                      {"HX-Request": "true", "HX-Request-Type": "partial"})),
        ("/readyz (DB check)", measure(client, "/readyz", args.seconds)),
        ("/sw.js", measure(client, "/sw.js", args.seconds)),
    ]
    print(f"{'endpoint':28s} {'req/s':>9s} {'cost vs bare':>13s}")
    for name, rps in rows:
        print(f"{name:28s} {rps:9.0f} {bare_rps / rps:12.1f}x")


if __name__ == "__main__":
    main()
