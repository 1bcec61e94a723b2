"""The clipper feed with 100,000 campaigns on PostgreSQL, as ratios to a bare Flask route.

Run (uses the throw-away PostgreSQL of the test set-up; creates and re-creates its own
database ``contentflow_bench_feed`` on that server, nothing else is touched)::

    export TEST_SERVICES_STATE=.test-services-bench
    scripts/test-services.sh start && . $TEST_SERVICES_STATE/env
    .venv/bin/python bench/bench_feed.py            # --seconds 2 --rounds 3 --count 100000
    scripts/test-services.sh stop

In-process (Flask test client, no network), ``LOG_LEVEL=WARNING``, anonymous requests (the
feed is public). Seeds with ``tests/factories/feed.py`` (one INSERT ... SELECT over
generate_series, plus the escrow accounts). Each case is measured ``--rounds`` times,
taking turns with the bare route so a noisy neighbour slows them alike; the best round
of each counts.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

PARTIAL = {"HX-Request": "true", "HX-Request-Type": "partial"}


def fresh_database() -> str:
    base = os.environ.get("BENCH_DATABASE_URL") or os.environ.get("TEST_DATABASE_URL")
    if not base or not base.startswith("postgresql"):
        sys.exit("Set TEST_DATABASE_URL (scripts/test-services.sh start) or BENCH_DATABASE_URL to a PostgreSQL URL.")
    url = make_url(base)
    engine = create_engine(url, isolation_level="AUTOCOMMIT")
    with engine.connect() as connection:
        connection.execute(text("DROP DATABASE IF EXISTS contentflow_bench_feed"))
        connection.execute(text("CREATE DATABASE contentflow_bench_feed"))
    engine.dispose()
    return url.set(database="contentflow_bench_feed").render_as_string(hide_password=False)


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
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--count", type=int, default=100_000)
    args = parser.parse_args()

    os.environ["DATABASE_URL"] = fresh_database()
    os.environ.setdefault("LOG_LEVEL", "WARNING")
    os.environ.pop("REDIS_URL", None)
    from flask import Flask
    from flask_migrate import upgrade

    from app import create_app
    from app.accounts import service as accounts
    from app.campaigns import browse
    from app.db import utcnow
    from app.extensions import db
    from tests.factories.feed import seed_campaigns

    app = create_app({"RATELIMIT_ENABLED": False})
    with app.app_context():
        upgrade()
        brand = accounts.create_user(email="bench-brand@example.test", password=os.urandom(12).hex(),
                                     display_name="Bench", role="brand", verified=True, company_name="Bench Co")
        db.session.commit()
        started = time.perf_counter()
        with db.engine.begin() as connection:
            seed_campaigns(connection, brand.id, args.count, utcnow())
        seeded_in = time.perf_counter() - started
        middle = browse.feed_page(browse.FeedFilters(), limit=100)
        deep_cursor = middle.next_cursor
        for _ in range(args.count // 200):  # walk ~half way down for a deep cursor
            page = browse.feed_page(browse.FeedFilters(), deep_cursor, limit=100)
            if not page.next_cursor:
                break
            deep_cursor = page.next_cursor
        db.session.remove()

    bare = Flask("bare")
    bare.add_url_rule("/", "index", lambda: "ok")
    bare_client, client = bare.test_client(), app.test_client()
    cases = [
        ("/campaigns (first page, full page)", "/campaigns", None),
        ("/campaigns (results fragment)", "/campaigns", PARTIAL),
        ("load more, half way down (fragment)", f"/campaigns?cursor={deep_cursor}", PARTIAL),
        ("platform + min CPM, by CPM", "/campaigns?platform=tiktok&min_cpm=5&sort=cpm", PARTIAL),
        ("text search 'summer'", "/campaigns?q=summer", PARTIAL),
    ]
    best = {name: 0.0 for name, _, _ in cases}
    best_bare = 0.0
    for _ in range(args.rounds):
        best_bare = max(best_bare, measure(bare_client, "/", args.seconds))
        for name, path, headers in cases:
            best[name] = max(best[name], measure(client, path, args.seconds, headers))

    print(f"seeded {args.count:,} campaigns in {seeded_in:.1f} s")
    print(f"{'endpoint':<40} {'req/s':>7}  {'cost vs bare':>12}")
    print(f"{'bare Flask route':<40} {best_bare:>7.0f}  {1.0:>11.1f}x")
    for name, _, _ in cases:
        print(f"{name:<40} {best[name]:>7.0f}  {best_bare / best[name]:>11.1f}x")


if __name__ == "__main__":
    main()
