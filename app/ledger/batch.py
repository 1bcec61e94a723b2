"""Set-based writes of ledger rows, for ``ledger.service`` only (``post_many``).

Invariants: these functions write exactly the rows they are given and check
nothing — ``ledger.service`` validates, locks the accounts and computes every
value first, and is the only caller. On PostgreSQL each function is one
statement whatever the batch size (arrays through ``unnest``); elsewhere
(SQLite, embedded mode) the same rows go through Core executemany.
"""

from __future__ import annotations

from datetime import datetime
from typing import Protocol

from sqlalchemy import bindparam, insert, text, update

from app.db import dialect_insert, on_postgresql
from app.extensions import db
from app.ledger.models import LedgerAccount, LedgerLine, LedgerTransaction


class PostingHeader(Protocol):
    idempotency_key: str
    kind: str
    memo: str
    ref_type: str | None
    ref_id: int | None


_INSERT_TRANSACTIONS = text("""
    INSERT INTO ledger_transactions (idempotency_key, kind, memo, ref_type, ref_id, created_at)
    SELECT key, kind, memo, ref_type, ref_id, :created_at
      FROM unnest(CAST(:keys AS varchar[]), CAST(:kinds AS varchar[]), CAST(:memos AS varchar[]),
                  CAST(:ref_types AS varchar[]), CAST(:ref_ids AS bigint[]))
           AS given(key, kind, memo, ref_type, ref_id)
    ON CONFLICT DO NOTHING
    RETURNING idempotency_key, id
""")

_INSERT_LINES = text("""
    INSERT INTO ledger_lines (transaction_id, account_id, currency, amount_cents)
    SELECT * FROM unnest(CAST(:transaction_ids AS bigint[]), CAST(:account_ids AS bigint[]),
                         CAST(:currencies AS varchar[]), CAST(:amounts AS bigint[]))
""")

_ADD_TO_BALANCES = text("""
    UPDATE ledger_accounts SET balance_cents = balance_cents + given.change
      FROM unnest(CAST(:account_ids AS bigint[]), CAST(:changes AS bigint[])) AS given(account_id, change)
     WHERE ledger_accounts.id = given.account_id
""")


def write_transactions(postings: list[PostingHeader], created_at: datetime) -> dict[str, int]:
    """Insert the transaction rows, skipping keys already taken; {key: id} of those inserted."""
    if on_postgresql(db.session):
        rows = db.session.execute(_INSERT_TRANSACTIONS, {
            "keys": [p.idempotency_key for p in postings], "kinds": [p.kind for p in postings],
            "memos": [p.memo for p in postings], "ref_types": [p.ref_type for p in postings],
            "ref_ids": [p.ref_id for p in postings], "created_at": created_at,
        })
        return dict(rows.all())
    table = LedgerTransaction.__table__
    inserted = {}
    for p in postings:  # SQLite: one row at a time (embedded mode has no batch load)
        row = db.session.execute(
            dialect_insert(db.session, table).values(idempotency_key=p.idempotency_key, kind=p.kind, memo=p.memo,
                                         ref_type=p.ref_type, ref_id=p.ref_id, created_at=created_at)
            .on_conflict_do_nothing().returning(table.c.idempotency_key, table.c.id)
        ).first()
        if row is not None:
            inserted[row[0]] = row[1]
    return inserted


def write_lines(lines: list[tuple[int, int, str, int]]) -> None:
    """Insert (transaction_id, account_id, currency, amount_cents) rows."""
    if on_postgresql(db.session):
        transaction_ids, account_ids, currencies, amounts = (list(column) for column in zip(*lines, strict=True))
        db.session.execute(_INSERT_LINES, {"transaction_ids": transaction_ids, "account_ids": account_ids,
                                           "currencies": currencies, "amounts": amounts})
        return
    db.session.execute(insert(LedgerLine.__table__), [
        {"transaction_id": tx, "account_id": account, "currency": currency, "amount_cents": amount}
        for tx, account, currency, amount in lines
    ])


def add_to_balances(changes: dict[int, int]) -> None:
    """balance_cents += change for each account id (the accounts are locked by the caller)."""
    if not changes:
        return
    if on_postgresql(db.session):
        db.session.execute(_ADD_TO_BALANCES, {"account_ids": list(changes), "changes": list(changes.values())})
        return
    table = LedgerAccount.__table__
    db.session.execute(
        update(table).where(table.c.id == bindparam("account_id"))
        .values(balance_cents=table.c.balance_cents + bindparam("change")),
        [{"account_id": account_id, "change": change} for account_id, change in changes.items()],
    )
