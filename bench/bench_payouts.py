"""Time of a payout run for 10,000 eligible clippers on PostgreSQL.

Run (against the throw-away PostgreSQL + Redis of the test set-up; see bench/README.md):
    export TEST_SERVICES_STATE=.test-services-bench
    scripts/test-services.sh start && . $TEST_SERVICES_STATE/env
    .venv/bin/python bench/bench_payouts.py [--clippers 10000]
    scripts/test-services.sh stop

It re-creates a database ``contentflow_bench_payouts`` on the server named by
BENCH_DATABASE_URL or TEST_DATABASE_URL, migrates it, and loads (set-based, not timed)
N clippers with PayPal details and N clippers with a Stripe Express account that can
receive transfers, each with $10.00-$59.99 available in the ledger. Then it times:
1. a run in offline mode: pays the N manual clippers (payout rows, ledger holds through
   ``post_many``, audit rows), chunks of 500;
2. the same run again: nobody is eligible any more (the cost of the scan alone);
3. a run in Stripe mode with Redis: pays the N Stripe clippers and enqueues the transfer
   jobs (batches of 25) after each chunk's commit (the jobs themselves are not run);
and checks the ledger (``check_integrity``) afterwards.
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


def fresh_database() -> str:
    base = os.environ.get("BENCH_DATABASE_URL") or os.environ.get("TEST_DATABASE_URL")
    if not base or not base.startswith("postgresql"):
        sys.exit("Set TEST_DATABASE_URL (scripts/test-services.sh start) or BENCH_DATABASE_URL to a PostgreSQL URL.")
    url = make_url(base)
    admin = create_engine(url.set(database="postgres"), isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text("DROP DATABASE IF EXISTS contentflow_bench_payouts"))
        connection.execute(text("CREATE DATABASE contentflow_bench_payouts"))
    admin.dispose()
    return url.set(database="contentflow_bench_payouts").render_as_string(hide_password=False)


def load_clippers(n: int, offset: int, stripe: bool) -> None:
    """N verified clippers with a payout method, ledger accounts and money available (set-based)."""
    from app.db import utcnow
    from app.extensions import db
    from app.ledger import service as ledger
    from app.security import seal

    now = utcnow()
    sealed = seal('{"paypal_email": "bench@paypal.test"}')
    ids = [offset + i for i in range(1, n + 1)]
    db.session.execute(text("""
        INSERT INTO users (id, email, display_name, role, handle, country, password_hash, session_token,
                           verified_at, created_at, updated_at)
        SELECT i, 'clipper' || i || '@bench.test', 'Clipper ' || i, 'clipper', 'clip' || i, 'US', 'x',
               'token-' || i, :now, :now, :now FROM unnest(CAST(:ids AS bigint[])) AS i
    """), {"ids": ids, "now": now})
    if stripe:
        db.session.execute(text("""
            INSERT INTO payout_accounts (user_id, stripe_account_id, stripe_payouts_enabled, created_at, updated_at)
            SELECT i, 'acct_bench' || i, true, :now, :now FROM unnest(CAST(:ids AS bigint[])) AS i
        """), {"ids": ids, "now": now})
    else:
        db.session.execute(text("""
            INSERT INTO payout_accounts (user_id, stripe_payouts_enabled, manual_kind, manual_details_sealed,
                                         manual_summary, created_at, updated_at)
            SELECT i, false, 'paypal', :sealed, 'PayPal b***@paypal.test', :now, :now
              FROM unnest(CAST(:ids AS bigint[])) AS i
        """), {"ids": ids, "now": now, "sealed": sealed})
    for purpose in ("clipper_available", "clipper_in_flight", "clipper_paid"):
        db.session.execute(text("""
            INSERT INTO ledger_accounts (owner_type, owner_id, purpose, currency, balance_cents, may_go_negative,
                                         created_at)
            SELECT 'user', i, :purpose, 'USD', 0, false, :now FROM unnest(CAST(:ids AS bigint[])) AS i
        """), {"ids": ids, "now": now, "purpose": purpose})
    db.session.execute(text("SELECT setval('users_id_seq', (SELECT max(id) FROM users))"))
    clearing = ledger.platform_account("offline_clearing", "USD")
    available = dict(db.session.execute(text(
        "SELECT owner_id, id FROM ledger_accounts WHERE purpose = 'clipper_available' AND owner_id = ANY(:ids)"),
        {"ids": ids}).all())
    for start in range(0, n, 1000):
        ledger.post_many([
            ledger.Posting(f"bench-fund-{i}", "test_funding",
                           [ledger.Line(clearing, -(1_000 + i % 5_000)), ledger.Line(available[i], 1_000 + i % 5_000)])
            for i in ids[start:start + 1000]
        ])
        db.session.commit()


def timed(label: str, func) -> object:
    started = time.perf_counter()
    result = func()
    elapsed = time.perf_counter() - started
    created = getattr(result, "payouts_created", 0)
    rate = f"{created / elapsed:8.0f}/s" if created else " " * 10
    print(f"{label:<44} {elapsed:7.2f} s  {created:6d} payouts {rate}")
    return result


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--clippers", type=int, default=10_000)
    args = parser.parse_args()
    os.environ.setdefault("LOG_LEVEL", "WARNING")
    url = fresh_database()
    os.environ["DATABASE_URL"] = url
    redis_url = os.environ.get("TEST_REDIS_URL") or os.environ.get("REDIS_URL")

    from flask_migrate import upgrade

    from app import create_app
    from app.extensions import db
    from app.ledger.service import check_integrity
    from app.payouts.run import run_payouts

    app = create_app({"SQLALCHEMY_DATABASE_URI": url, "REDIS_URL": redis_url, "JOBS_INLINE": not redis_url,
                      "LOG_LEVEL": "WARNING"})
    with app.app_context():
        upgrade()
        started = time.perf_counter()
        load_clippers(args.clippers, 0, stripe=False)
        load_clippers(args.clippers, args.clippers, stripe=True)
        db.session.execute(text("ANALYZE"))  # as autovacuum would after a load; without it the planner guesses
        db.session.commit()
        print(f"loaded 2 x {args.clippers} clippers in {time.perf_counter() - started:.1f} s (not timed below)\n")

        timed(f"run, offline mode, {args.clippers} manual", run_payouts)
        timed("run again, nobody eligible", run_payouts)
        if redis_url:
            app.config.update(PAYMENTS_MODE="stripe", STRIPE_SECRET_KEY="sk_test_bench")  # noqa: S106 - never called
            timed(f"run, Stripe mode, {args.clippers} + job enqueue", run_payouts)
            app.config.update(PAYMENTS_MODE="offline", STRIPE_SECRET_KEY=None)
        started = time.perf_counter()
        problems = check_integrity()
        print(f"\ncheck_integrity(): {'ok' if not problems else problems[:3]} "
              f"({time.perf_counter() - started:.2f} s)")
        db.session.remove()


if __name__ == "__main__":
    main()
