"""What the database itself refuses, whatever code writes to it (raw SQL on purpose):
unbalanced or thin transactions at COMMIT, edits and deletes of ledger rows,
a negative balance where the purpose forbids it, a line in another currency than
its account. Plus the append-only triggers and both posting paths on SQLite (embedded mode)."""

from __future__ import annotations

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.exc import DBAPIError, IntegrityError

from app.ledger import service as ledger
from app.ledger.service import InsufficientFundsError, Line, Posting
from tests.conftest import DATABASE_URL, TEST_CONFIG, _truncate_all
from tests.factories import fund_escrow
from tests.ledger.conftest import ledger_row_counts

INSERT_TX = text("INSERT INTO ledger_transactions (idempotency_key, kind, memo, created_at) "
                 "VALUES (:key, 'raw', '', now()) RETURNING id")
INSERT_LINE = text("INSERT INTO ledger_lines (transaction_id, account_id, currency, amount_cents) "
                   "VALUES (:tx, :account, :currency, :amount)")


@pytest.fixture
def raw(db):
    """A plain connection of its own (commits are real), and two USD accounts."""
    escrow = fund_escrow(1, 1_000)
    pending = ledger.get_account("user", 2, "clipper_pending", "USD")
    db.session.commit()
    engine = create_engine(DATABASE_URL)
    connection = engine.connect()
    connection.accounts = (escrow.id, pending.id)
    yield connection
    connection.close()
    engine.dispose()


def _insert(connection, key: str, amounts: list[int], currency: str = "USD") -> int:
    tx = connection.execute(INSERT_TX, {"key": key}).scalar_one()
    for account, amount in zip(connection.accounts, amounts, strict=False):
        connection.execute(INSERT_LINE, {"tx": tx, "account": account, "currency": currency, "amount": amount})
    return tx


def test_a_balanced_raw_insert_commits(raw, db):
    _insert(raw, "raw-ok", [-100, 100])
    raw.commit()
    assert ledger_row_counts() == (3, 2, 4)


@pytest.mark.parametrize("amounts, message", [
    ([-100, 99], "does not sum to zero: -1 USD off"),
    ([100], "fewer than two lines|does not sum to zero"),
    ([], "has fewer than two lines"),
])
def test_an_unbalanced_or_thin_transaction_fails_at_commit_not_before(raw, db, amounts, message):
    _insert(raw, "raw-bad", amounts)  # each statement is accepted: the check is deferred
    with pytest.raises(IntegrityError, match=message):
        raw.commit()
    raw.rollback()
    assert ledger_row_counts() == (3, 1, 2)


@pytest.mark.parametrize("statement", [
    "UPDATE ledger_lines SET amount_cents = amount_cents * 2",
    "DELETE FROM ledger_lines",
    "UPDATE ledger_transactions SET memo = 'edited'",
    "DELETE FROM ledger_transactions",
])
def test_ledger_rows_cannot_be_updated_or_deleted(raw, db, statement):
    with pytest.raises(DBAPIError, match="append-only"):
        raw.execute(text(statement))
    raw.rollback()
    assert ledger_row_counts() == (3, 1, 2)


@pytest.mark.parametrize("statement, message", [
    ("DELETE FROM ledger_accounts", "append-only: DELETE refused"),
    ("UPDATE ledger_accounts SET currency = 'EUR'", "append-only: UPDATE refused"),
    ("UPDATE ledger_accounts SET may_go_negative = true", "append-only: UPDATE refused"),
    ("UPDATE ledger_accounts SET balance_cents = -1 WHERE purpose = 'campaign_escrow'", "balance_not_negative"),
])
def test_accounts_keep_their_identity_and_no_escrow_goes_negative(raw, db, statement, message):
    with pytest.raises(DBAPIError, match=message):
        raw.execute(text(statement))
    raw.rollback()
    assert ledger.balance(raw.accounts[0]) == 1_000


def test_a_line_in_another_currency_than_its_account_is_refused(raw, db):
    with pytest.raises(IntegrityError, match="fk_ledger_lines_account_currency"):
        _insert(raw, "raw-eur", [-100, 100], currency="EUR")
    raw.rollback()


def test_truncate_still_empties_the_ledger_for_the_test_harness(app, db):
    fund_escrow(1, 1_000)
    _truncate_all(app)
    assert ledger_row_counts() == (0, 0, 0)


def test_sqlite_refuses_edits_and_deletes_too(tmp_path):
    from flask_migrate import upgrade

    from app import create_app
    from app.extensions import db

    embedded = create_app({**TEST_CONFIG, "SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path / 'ledger.db'}"})
    with embedded.app_context():
        upgrade()
        escrow = ledger.get_account("campaign", 1, "campaign_escrow", "USD")
        clearing = ledger.platform_account("offline_clearing", "USD")
        assert ledger.get_account("campaign", 1, "campaign_escrow", "USD").id == escrow.id
        ledger.post("fund-1", "funding", [Line(clearing, -500), Line(escrow, 500)])
        db.session.commit()
        assert ledger.post("fund-1", "funding", [Line(clearing, -500), Line(escrow, 500)]).id == 1
        pending = ledger.get_account("user", 1, "clipper_pending", "USD")
        batch = [Posting(f"earn-{i}", "earning", [Line(escrow, -100), Line(pending, 100)]) for i in range(3)]
        assert ledger.post_many(batch) == [2, 3, 4]
        db.session.commit()
        assert ledger.post_many(batch) == [2, 3, 4]
        with pytest.raises(InsufficientFundsError):
            ledger.post_many([Posting("too-much", "earning", [Line(escrow, -201), Line(pending, 201)])])
        for statement in ("UPDATE ledger_lines SET amount_cents = 1", "DELETE FROM ledger_lines",
                          "UPDATE ledger_transactions SET memo = 'x'", "DELETE FROM ledger_transactions",
                          "DELETE FROM ledger_accounts", "UPDATE ledger_accounts SET currency = 'EUR'"):
            with pytest.raises(DBAPIError, match="append-only|refused|only balance_cents"):
                db.session.execute(text(statement))
            db.session.rollback()
        assert [ledger.balance(escrow), ledger.balance(pending), ledger.balance(clearing)] == [200, 300, -500]
        assert ledger.check_integrity() == []
        db.session.remove()
        db.engine.dispose()
