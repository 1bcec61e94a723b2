"""Ledger postings per second on PostgreSQL, as ratios to a bare INSERT measured in the same run.

Run (against the throw-away PostgreSQL of the test set-up; see bench/README.md):
    export TEST_SERVICES_STATE=.test-services-bench
    scripts/test-services.sh start && . $TEST_SERVICES_STATE/env
    .venv/bin/python bench/bench_ledger.py [--seconds 3]
    scripts/test-services.sh stop

It creates (or re-creates) a database ``contentflow_bench`` on the server named by
BENCH_DATABASE_URL or TEST_DATABASE_URL, migrates it, and measures, single-threaded:
- bare INSERT: one single-row INSERT into a plain table per COMMIT (and per 100 rows);
- raw SQL posting: the same rows ``post()`` writes (1 transaction, 2 lines, 2 balance
  updates, row locks), as hand-written SQL without the ORM or the service's checks;
- ``ledger.service.post()``: 2 lines each, through the ORM, COMMIT per posting and per 100;
- ``ledger.service.post_many()``: batches of 100 such postings, set-based, COMMIT per batch,
  and the same with the ledger triggers switched off for the transaction (their cost).
Postings rotate over 50 escrows -> 500 clipper accounts, so no account is hot.
"""

from __future__ import annotations

import argparse
import itertools
import os
import sys
import time
from pathlib import Path

from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

ESCROWS, CLIPPERS = 50, 500


def fresh_database() -> str:
    base = os.environ.get("BENCH_DATABASE_URL") or os.environ.get("TEST_DATABASE_URL")
    if not base or not base.startswith("postgresql"):
        sys.exit("Set TEST_DATABASE_URL (scripts/test-services.sh start) or BENCH_DATABASE_URL to a PostgreSQL URL.")
    url = make_url(base)
    admin = create_engine(url.set(database="postgres"), isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text("DROP DATABASE IF EXISTS contentflow_bench"))
        connection.execute(text("CREATE DATABASE contentflow_bench"))
    admin.dispose()
    return url.set(database="contentflow_bench").render_as_string(hide_password=False)


def measure(operations: list[tuple[str, int, object]], seconds: float, rounds: int) -> dict[str, float]:
    """Postings/s per operation. Operations take turns (``rounds`` slices of ``seconds``
    each), so a noisy neighbour on the machine slows them all alike."""
    done = dict.fromkeys((name for name, _, _ in operations), 0)
    spent = dict.fromkeys(done, 0.0)
    for n in range(rounds):
        for name, batch, one_batch in operations:
            started = time.perf_counter()
            while time.perf_counter() - started < seconds / rounds:
                one_batch(n)
                done[name] += batch
            spent[name] += time.perf_counter() - started
    return {name: done[name] / spent[name] for name in done}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--seconds", type=float, default=6.0, help="time per operation, over all rounds")
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    os.environ.setdefault("LOG_LEVEL", "WARNING")
    url = fresh_database()

    from flask_migrate import upgrade

    from app import create_app
    from app.extensions import db
    from app.ledger import service as ledger
    from app.ledger.service import Line, Posting

    app = create_app({"SQLALCHEMY_DATABASE_URI": url, "SECRET_KEY": "bench" * 8, "REDIS_URL": None})
    with app.app_context():
        upgrade()
        # Measure on connections that did not run the migration's DDL, as in production.
        db.session.remove()
        db.engine.dispose()
        db.session.execute(text("CREATE TABLE bench_baseline (id bigserial PRIMARY KEY, amount_cents bigint)"))
        clearing = ledger.platform_account("stripe_clearing", "USD")
        escrows = [ledger.get_account("campaign", i + 1, "campaign_escrow", "USD").id for i in range(ESCROWS)]
        clippers = [ledger.get_account("user", i + 1, "clipper_pending", "USD").id for i in range(CLIPPERS)]
        for i, escrow in enumerate(escrows):
            ledger.post(f"fund-{i}", "funding", [Line(clearing, -10**11), Line(escrow, 10**11)])
        db.session.commit()
        keys = itertools.count()

        def post_one(n: int) -> None:
            k = next(keys)
            ledger.post(f"bench-{k}", "earning", [Line(escrows[k % ESCROWS], -1), Line(clippers[k % CLIPPERS], 1)])

        def post_commit(n):
            post_one(n)
            db.session.commit()

        def post_100(n):
            for _ in range(100):
                post_one(n)
            db.session.commit()

        connection = db.engine.raw_connection()
        cursor = connection.cursor()

        def bare(n):
            cursor.execute("INSERT INTO bench_baseline (amount_cents) VALUES (%s)", (n,))
            connection.commit()

        def bare_100(n):
            for i in range(100):
                cursor.execute("INSERT INTO bench_baseline (amount_cents) VALUES (%s)", (i,))
            connection.commit()

        def raw_posting() -> None:
            k = next(keys)
            escrow, clipper = escrows[k % ESCROWS], clippers[k % CLIPPERS]
            cursor.execute("SELECT id FROM ledger_accounts WHERE id IN (%s, %s) ORDER BY id FOR NO KEY UPDATE",
                           (escrow, clipper))
            cursor.execute("INSERT INTO ledger_transactions (idempotency_key, kind, memo, created_at) "
                           "VALUES (%s, 'earning', '', now()) RETURNING id", (f"raw-{k}",))
            tx = cursor.fetchone()[0]
            cursor.execute("INSERT INTO ledger_lines (transaction_id, account_id, currency, amount_cents) "
                           "VALUES (%s, %s, 'USD', -1), (%s, %s, 'USD', 1)", (tx, escrow, tx, clipper))
            cursor.execute("UPDATE ledger_accounts SET balance_cents = balance_cents - 1 WHERE id = %s", (escrow,))
            cursor.execute("UPDATE ledger_accounts SET balance_cents = balance_cents + 1 WHERE id = %s", (clipper,))

        def raw_commit(n):
            raw_posting()
            connection.commit()

        def raw_100(n):
            for _ in range(100):
                raw_posting()
            connection.commit()

        def post_many_100(n, triggers_off=False):
            batch = []
            for _ in range(100):
                k = next(keys)
                batch.append(Posting(f"bench-{k}", "earning",
                                     [Line(escrows[k % ESCROWS], -1), Line(clippers[k % CLIPPERS], 1)]))
            if triggers_off:  # what the database guarantees cost (superuser only; this transaction only)
                db.session.execute(text("SET LOCAL session_replication_role = replica"))
            ledger.post_many(batch)
            db.session.commit()

        rates = measure([
            ("bare INSERT, commit each", 1, bare),
            ("bare INSERT, commit per 100", 100, bare_100),
            ("raw SQL posting, commit each", 1, raw_commit),
            ("raw SQL posting, commit per 100", 100, raw_100),
            ("ledger.post(), commit each", 1, post_commit),
            ("ledger.post(), commit per 100", 100, post_100),
            ("ledger.post_many(100), commit each", 100, post_many_100),
            ("  same, triggers off", 100, lambda n: post_many_100(n, triggers_off=True)),
        ], args.seconds, args.rounds)
        cursor.close()
        connection.close()
        started = time.perf_counter()
        problems = ledger.check_integrity()
        check_seconds = time.perf_counter() - started
        postings = db.session.scalar(text("SELECT count(*) FROM ledger_transactions"))
        db.session.remove()
        db.engine.dispose()

    assert problems == [], problems
    baseline = rates["bare INSERT, commit each"]
    print(f"{'operation':36} {'postings/s':>10} {'vs bare INSERT':>15}")
    for name, rate in rates.items():
        print(f"{name:36} {rate:10.0f} {rate / baseline:14.2f}x")
    print(f"check_integrity() over {postings} transactions afterwards: ok in {check_seconds:.2f} s")


if __name__ == "__main__":
    main()
