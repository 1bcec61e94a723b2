"""ledger.service.post_many: the set-based batch. Same rules as post(), all or nothing."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from app.errors import ConflictError, ValidationError
from app.ledger import service as ledger
from app.ledger.models import LedgerTransaction
from app.ledger.service import InsufficientFundsError, Line, Posting
from tests.factories import fund_escrow
from tests.ledger.conftest import ledger_row_counts, run_together


@pytest.fixture
def accounts(db):
    escrow = fund_escrow(1, 1_000)
    pending = ledger.get_account("user", 1, "clipper_pending", "USD")
    available = ledger.get_account("user", 1, "clipper_available", "USD")
    fees = ledger.platform_account("platform_fees", "USD")
    db.session.commit()
    return escrow, pending, available, fees


def test_a_batch_applies_in_order_and_returns_the_ids(db, accounts):
    escrow, pending, available, fees = accounts
    batch = [
        Posting("e-1", "earning", [Line(escrow, -600), Line(pending, 540), Line(fees, 60)], ref_type="post", ref_id=1),
        Posting("m-1", "mature", [Line(pending, -540), Line(available, 540)]),  # spends what e-1 brought
        Posting("e-2", "earning", [Line(escrow, -400), Line(pending, 400)], memo="last of the budget"),
    ]
    ids = ledger.post_many(batch)
    db.session.commit()
    stored = db.session.scalars(select(LedgerTransaction).order_by(LedgerTransaction.id)).all()[1:]
    assert ids == [tx.id for tx in stored]
    assert [(tx.idempotency_key, tx.kind, tx.ref_type, tx.ref_id, tx.memo) for tx in stored] == [
        ("e-1", "earning", "post", 1, ""), ("m-1", "mature", None, None, ""),
        ("e-2", "earning", None, None, "last of the budget")]
    assert [ledger.balance(a) for a in accounts] == [0, 400, 540, 60]
    assert ledger.check_integrity() == []


def test_retrying_a_batch_returns_the_same_ids_and_changes_nothing(db, accounts):
    escrow, pending, *_ = accounts
    batch = [Posting(f"e-{i}", "earning", [Line(escrow, -100), Line(pending, 100)]) for i in range(5)]
    first = ledger.post_many(batch[:3])
    db.session.commit()
    again = ledger.post_many(batch)  # three retries and two new ones
    db.session.commit()
    assert again[:3] == first and len(set(again)) == 5
    assert ledger.balance(escrow) == 500
    assert ledger.post_many([]) == []


@pytest.mark.parametrize("make_batch, error, message", [
    (lambda e, p: [Posting("a", "earning", [Line(e, -600), Line(p, 600)]),
                   Posting("b", "earning", [Line(e, -600), Line(p, 600)])],
     InsufficientFundsError, "\\$4.00 available"),
    (lambda e, p: [Posting("a", "earning", [Line(e, -600), Line(p, 600)]),
                   Posting("b", "earning", [Line(e, -1), Line(p, 2)])], ValidationError, "sum to zero"),
    (lambda e, p: [Posting("a", "earning", [Line(e, -1), Line(p, 1)]),
                   Posting("a", "earning", [Line(e, -1), Line(p, 1)])], ValidationError, "its own idempotency key"),
    (lambda e, p: [Posting("a", "earning", [Line(e, -1), Line(p, 1)]),
                   Posting("funded", "earning", [Line(e, -1), Line(p, 1)])], ConflictError, "already used"),
])
def test_one_bad_posting_refuses_the_whole_batch(db, accounts, make_batch, error, message):
    escrow, pending, *_ = accounts
    batch = make_batch(escrow, pending)
    if any(p.idempotency_key == "funded" for p in batch):
        funding_key = db.session.scalar(select(LedgerTransaction.idempotency_key))
        batch = [Posting(funding_key, p.kind, p.lines) if p.idempotency_key == "funded" else p for p in batch]
    before = ledger_row_counts()
    with pytest.raises(error, match=message):
        ledger.post_many(batch)
    assert ledger_row_counts() == before  # nothing written, even before a rollback
    assert ledger.balance(escrow) == 1_000


def test_concurrent_batches_never_overspend(db, wide_app):
    escrow_id = fund_escrow(1, 2_000).id
    pending_ids = [ledger.get_account("user", i + 1, "clipper_pending", "USD").id for i in range(20)]
    db.session.commit()

    def batch_of_five(i):
        return ledger.post_many([Posting(f"b{i}-{n}", "earning", [Line(escrow_id, -100), Line(pending_ids[i], 100)])
                                 for n in range(5)])

    results = run_together(wide_app, 20, batch_of_five)
    assert sum(isinstance(r, list) for r in results) == 4
    assert sum(isinstance(r, InsufficientFundsError) for r in results) == 16
    assert ledger.balance(escrow_id) == 0
    assert ledger.check_integrity() == []
