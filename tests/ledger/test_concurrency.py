"""The ledger under real concurrency: many threads, each with its own session and
PostgreSQL connection, released together by a barrier. No overspend, one
transaction per idempotency key, no deadlock whatever order lines are given in."""

from __future__ import annotations

from collections import Counter

from sqlalchemy import func, select

from app.errors import ConflictError
from app.extensions import db as database
from app.ledger import service as ledger
from app.ledger.models import LedgerAccount, LedgerTransaction
from app.ledger.service import InsufficientFundsError, Line
from tests.factories import fund_escrow
from tests.ledger.conftest import run_together


def test_fifty_spends_of_100_from_2000_exactly_twenty_succeed(db, wide_app):
    escrow_id = fund_escrow(1, 2_000).id
    pending_ids = [ledger.get_account("user", i + 1, "clipper_pending", "USD").id for i in range(50)]
    db.session.commit()

    def spend(i):
        return ledger.post(f"spend-{i}", "earning", [Line(escrow_id, -100), Line(pending_ids[i], 100)]).id

    results = run_together(wide_app, 50, spend)
    outcomes = Counter(type(result).__name__ for result in results)
    assert outcomes == {"int": 20, "InsufficientFundsError": 30}, outcomes
    assert all(isinstance(r, int | InsufficientFundsError) for r in results)
    assert ledger.balance(escrow_id) == 0 == ledger.recomputed_balance(escrow_id)
    assert sum(ledger.balance(account) for account in pending_ids) == 2_000
    assert ledger.check_integrity() == []


def test_twenty_concurrent_posts_with_one_key_make_one_transaction(db, wide_app):
    escrow_id = fund_escrow(1, 1_000).id
    pending_id = ledger.get_account("user", 1, "clipper_pending", "USD").id
    db.session.commit()

    def post_same(_i):
        return ledger.post("earn-once", "earning", [Line(escrow_id, -700), Line(pending_id, 700)]).id

    results = run_together(wide_app, 20, post_same)
    assert len(set(results)) == 1 and isinstance(results[0], int), results
    assert db.session.scalar(select(func.count()).where(LedgerTransaction.kind == "earning")) == 1
    assert ledger.balance(escrow_id) == 300


def test_one_key_raced_over_disjoint_accounts_wins_once_and_the_rest_conflict(db, wide_app):
    # No shared account, so no shared row lock: the unique key itself decides.
    escrows = [fund_escrow(i + 1, 1_000).id for i in range(10)]
    pendings = [ledger.get_account("user", i + 1, "clipper_pending", "USD").id for i in range(10)]
    db.session.commit()

    def post_one(i):
        return ledger.post("contested", "earning", [Line(escrows[i], -100), Line(pendings[i], 100)]).id

    results = run_together(wide_app, 10, post_one)
    winners = [r for r in results if isinstance(r, int)]
    assert len(winners) == 1, results
    assert all(isinstance(r, ConflictError) for r in results if not isinstance(r, int)), results
    assert sorted(ledger.balance(e) for e in escrows) == [900] + [1_000] * 9
    assert ledger.check_integrity() == []


def test_postings_across_two_accounts_in_opposite_orders_never_deadlock(db, wide_app):
    a = ledger.get_account("user", 1, "clipper_available", "USD")
    b = ledger.get_account("user", 2, "clipper_available", "USD")
    clearing = ledger.platform_account("stripe_clearing", "USD")
    ledger.post("seed-a", "seed", [Line(clearing, -10_000), Line(a, 10_000)])
    ledger.post("seed-b", "seed", [Line(clearing, -10_000), Line(b, 10_000)])
    db.session.commit()
    a_id, b_id = a.id, b.id

    def shuffle(i):
        for n in range(10):  # even threads list a first, odd threads list b first
            first, second = (a_id, b_id) if i % 2 == 0 else (b_id, a_id)
            ledger.post(f"move-{i}-{n}", "transfer", [Line(first, -(i + 1)), Line(second, i + 1)])
            database.session.commit()
        return "done"

    results = run_together(wide_app, 20, shuffle)
    assert results == ["done"] * 20, [r for r in results if r != "done"]
    # Each even thread moved 10*(i+1) from a to b, each odd thread the same from b to a.
    net_to_b = sum(10 * (i + 1) * (1 if i % 2 == 0 else -1) for i in range(20))
    assert (ledger.balance(a_id), ledger.balance(b_id)) == (10_000 - net_to_b, 10_000 + net_to_b)
    assert ledger.check_integrity() == []


def test_get_account_raced_by_twenty_threads_creates_one_row(db, wide_app):
    def get(_i):
        return ledger.get_account("user", 77, "clipper_available", "EUR").id

    results = run_together(wide_app, 20, get)
    assert len(set(results)) == 1 and isinstance(results[0], int), results
    assert db.session.scalar(select(func.count()).select_from(LedgerAccount)) == 1
