"""Property: any sequence of postings, accepted or refused, keeps the ledger sound.

A plain-Python model of the balances predicts which postings the service must
accept (no account that may not go negative ends below zero; lines balance per
currency); after every step the database must agree with the model and pass
``check_integrity`` (each transaction sums to zero per currency, running totals
equal the sums of lines, nothing negative that may not be), and the balances of
each currency must add up to zero. A refused posting changes nothing.
"""

from __future__ import annotations

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select, text

from app.errors import ValidationError
from app.extensions import db as database
from app.ledger import service as ledger
from app.ledger.models import LedgerAccount, LedgerTransaction
from app.ledger.service import InsufficientFundsError, Line

# (owner_type, owner_id, purpose, currency); indices 0-4 are USD, 5-6 EUR.
ACCOUNTS = [
    ("platform", None, "stripe_clearing", "USD"),
    ("campaign", 1, "campaign_escrow", "USD"),
    ("campaign", 2, "campaign_escrow", "USD"),
    ("user", 1, "clipper_available", "USD"),
    ("user", 1, "clipper_receivable", "USD"),
    ("platform", None, "offline_clearing", "EUR"),
    ("campaign", 1, "campaign_escrow", "EUR"),
]
USD, EUR = range(5), range(5, 7)

amount = st.integers(min_value=1, max_value=5_000)
transfer = st.tuples(st.just("transfer"), st.sampled_from(USD), st.sampled_from(USD), amount)
split = st.tuples(st.just("split"), st.sampled_from(USD), st.sampled_from(USD), st.integers(2, 5_000))
euro = st.tuples(st.just("transfer"), st.sampled_from(EUR), st.sampled_from(EUR), amount)
unbalanced = st.tuples(st.just("unbalanced"), st.sampled_from(USD), st.sampled_from(EUR), amount)
retry = st.tuples(st.just("retry"), st.integers(0, 50), st.just(0), st.just(0))  # repeat an earlier key
step = st.one_of(transfer, transfer, split, euro, unbalanced, retry)


def _lines_for(kind, source, target, cents, ids):
    if kind == "split":  # three lines: one source, the target and the receivable share it
        return [Line(ids[source], -cents), Line(ids[target], cents // 2), Line(ids[4], cents - cents // 2)]
    return [Line(ids[source], -cents), Line(ids[target], cents)]


def _fresh_accounts() -> tuple[list[int], list[bool]]:
    """The ``ACCOUNTS``, empty: created once, then reset for each example (TRUNCATE fires
    no row trigger, and balance_cents is the one account column that may change; CASCADE
    empties the tables that point at ledger transactions, unused here)."""
    database.session.execute(text("TRUNCATE ledger_lines, ledger_transactions CASCADE"))
    database.session.execute(text("UPDATE ledger_accounts SET balance_cents = 0"))
    accounts = database.session.scalars(select(LedgerAccount).order_by(LedgerAccount.id)).all()
    if not accounts:
        accounts = [ledger.get_account(*spec) for spec in ACCOUNTS]
    pairs = [(account.id, account.may_go_negative) for account in accounts]
    database.session.commit()
    return [i for i, _ in pairs], [m for _, m in pairs]


def _database_state(ids):
    balances = dict(database.session.execute(select(LedgerAccount.id, LedgerAccount.balance_cents)).all())
    count = database.session.scalar(select(func.count()).select_from(LedgerTransaction))
    return [balances[i] for i in ids], count


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(steps=st.lists(step, min_size=1, max_size=10))
def test_any_sequence_of_postings_keeps_the_ledger_sound(db, steps):
    ids, may_go_negative = _fresh_accounts()
    expected = [0] * len(ACCOUNTS)
    posted: list[tuple[str, list[Line], int]] = []  # key, lines, transaction id

    for n, (kind, source, target, cents) in enumerate(steps):
        if kind == "retry":
            if not posted:
                continue
            key, lines, first_id = posted[source % len(posted)]
            assert ledger.post(key, "step", lines).id == first_id
            database.session.commit()
        else:
            lines = _lines_for(kind, source, target, cents, ids)
            proposed = list(expected)
            for line in lines:
                proposed[ids.index(line.account)] += line.amount_cents
            overdrawn = any(b < 0 and not may_go_negative[i] for i, b in enumerate(proposed))
            try:
                transaction = ledger.post(f"step-{n}", "step", lines)
            except InsufficientFundsError:
                assert overdrawn and kind != "unbalanced", (kind, lines, expected)
                # Refused: nothing written, checked before any rollback (the caller could commit).
                assert _database_state(ids) == (expected, len(posted))
                database.session.rollback()
            except ValidationError:
                assert kind == "unbalanced"
                assert _database_state(ids) == (expected, len(posted))
                database.session.rollback()
            else:
                assert kind != "unbalanced" and not overdrawn, (kind, lines, expected)
                database.session.commit()
                expected = proposed
                posted.append((f"step-{n}", lines, transaction.id))

        assert _database_state(ids) == (expected, len(posted))
        assert ledger.check_integrity() == []
        assert sum(expected[i] for i in USD) == 0 and sum(expected[i] for i in EUR) == 0
