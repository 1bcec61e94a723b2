"""Ledger test helpers: idempotency keys, row counts, and a second app with a pool wide enough
for one connection per thread. Funded escrows: ``tests.factories.fund_escrow``."""

from __future__ import annotations

import itertools
import threading

import pytest

from tests.conftest import TEST_CONFIG

_keys = itertools.count(1)


def new_key(prefix: str = "test") -> str:
    return f"{prefix}-{next(_keys)}"


def ledger_row_counts() -> tuple[int, int, int]:
    from sqlalchemy import func, select

    from app.extensions import db
    from app.ledger.models import LedgerAccount, LedgerLine, LedgerTransaction

    return tuple(db.session.scalar(select(func.count()).select_from(model))
                 for model in (LedgerAccount, LedgerTransaction, LedgerLine))


@pytest.fixture(scope="module")
def wide_app(app):
    """Same database as ``app``, with a pool of 60 connections for thread tests."""
    from app import create_app
    from app.extensions import db

    application = create_app({**TEST_CONFIG, "SQLALCHEMY_ENGINE_OPTIONS": {"pool_size": 60, "max_overflow": 0}})
    yield application
    with application.app_context():
        db.engine.dispose()


def run_together(application, count: int, work) -> list:
    """Run ``work(i)`` in ``count`` threads at once, each in its own app context (own
    session, own connection), committing after it; each result is a value or the
    exception raised."""
    from app.extensions import db

    barrier = threading.Barrier(count, timeout=30)  # never hangs if a thread dies first
    results: list = [None] * count

    def runner(i: int) -> None:
        with application.app_context():
            barrier.wait()
            try:
                results[i] = work(i)
                db.session.commit()
            except Exception as error:  # the test inspects what each thread got
                db.session.rollback()
                results[i] = error
            finally:
                db.session.remove()

    threads = [threading.Thread(target=runner, args=(i,), daemon=True) for i in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert not any(thread.is_alive() for thread in threads), "a thread hung (lock wait?)"
    return results
