"""ledger.service: accounts, posting, idempotency, reversal, balances and the integrity check."""

from __future__ import annotations

import pytest
from sqlalchemy import select, text

from app.errors import ConflictError, ValidationError
from app.ledger import service as ledger
from app.ledger.models import LedgerTransaction
from app.ledger.service import InsufficientFundsError, Line
from tests.factories import fund_escrow
from tests.ledger.conftest import ledger_row_counts, new_key


def test_get_account_creates_once_and_sets_may_go_negative_from_the_purpose(db):
    escrow = ledger.get_account("campaign", 7, "campaign_escrow", "USD")
    again = ledger.get_account("campaign", 7, "campaign_escrow", "USD")
    clearing = ledger.platform_account("stripe_clearing", "USD")
    euro = ledger.get_account("campaign", 7, "campaign_escrow", "EUR")
    db.session.commit()
    assert escrow.id == again.id != euro.id
    assert (escrow.may_go_negative, clearing.may_go_negative) == (False, True)
    assert clearing.owner_id == 0
    assert ledger_row_counts() == (3, 0, 0)


@pytest.mark.parametrize("args, message", [
    (("campaign", 1, "no_such_purpose", "USD"), "Unknown ledger purpose"),
    (("user", 1, "campaign_escrow", "USD"), "belongs to a campaign"),
    (("campaign", 1, "campaign_escrow", "XXX"), "Unsupported currency"),
    (("campaign", 0, "campaign_escrow", "USD"), "positive owner id"),
    (("campaign", None, "campaign_escrow", "USD"), "positive owner id"),
    (("campaign", True, "campaign_escrow", "USD"), "positive owner id"),
    (("platform", 5, "platform_fees", "USD"), "no owner id"),
])
def test_get_account_refuses_bad_identities(db, args, message):
    with pytest.raises(ValidationError, match=message):
        ledger.get_account(*args)
    assert ledger_row_counts() == (0, 0, 0)


def test_post_moves_money_and_keeps_running_totals(db):
    escrow = fund_escrow(1, 10_000)
    pending = ledger.get_account("user", 3, "clipper_pending", "USD")
    fees = ledger.platform_account("platform_fees", "USD")
    tx = ledger.post("earn-1", "earning", [Line(escrow, -1_000), Line(pending, 900), Line(fees, 100)],
                     memo="views 1,000", ref_type="submission", ref_id=42)
    db.session.commit()
    assert [(line.account_id, line.amount_cents, line.currency) for line in tx.lines] == [
        (escrow.id, -1_000, "USD"), (pending.id, 900, "USD"), (fees.id, 100, "USD")]
    assert (tx.kind, tx.ref_type, tx.ref_id, tx.memo) == ("earning", "submission", 42, "views 1,000")
    assert ledger.balance(escrow) == 9_000 == ledger.recomputed_balance(escrow)
    assert ledger.balance(pending.id) == 900 == ledger.recomputed_balance(pending.id)
    assert ledger.balance(ledger.platform_account("stripe_clearing", "USD")) == -10_000
    assert ledger.check_integrity() == []


def test_post_does_not_commit(db):
    escrow = fund_escrow(1, 500)
    pending = ledger.get_account("user", 3, "clipper_pending", "USD")
    db.session.commit()
    ledger.post(new_key(), "earning", [Line(escrow, -200), Line(pending, 200)])
    db.session.rollback()
    assert ledger.balance(escrow) == 500
    assert ledger_row_counts() == (3, 1, 2)


def _bad_postings(escrow, pending, euro):
    return [
        ([Line(escrow, -100)], ValidationError, "at least two lines"),
        ([], ValidationError, "at least two lines"),
        ("not a list", ValidationError, "at least two lines"),
        ([Line(escrow, -100), (pending.id, 100)], ValidationError, "Line\\(account, amount_cents\\)"),
        ([Line(escrow, -1.5), Line(pending, 1.5)], ValidationError, "not float"),
        ([Line(escrow, True), Line(pending, -1)], ValidationError, "not bool"),
        ([Line(escrow, 0), Line(pending, 0)], ValidationError, "cannot be zero"),
        ([Line(escrow, -100), Line(pending, 99)], ValidationError, "sum to zero; USD is off by -1"),
        ([Line(escrow, -100), Line(euro, 100)], ValidationError, "sum to zero"),
        ([Line(escrow, -10**13), Line(pending, 10**13)], ValidationError, "larger than any real amount"),
        ([Line(escrow, -100), Line(999_999, 100)], ValidationError, "account 999999 does not exist"),
        ([Line(escrow, -1_001), Line(pending, 1_001)], InsufficientFundsError, "\\$10.01 needed, \\$10.00"),
    ]


def test_bad_postings_raise_clear_errors_and_change_nothing(db):
    escrow = fund_escrow(1, 1_000)
    pending = ledger.get_account("user", 3, "clipper_pending", "USD")
    euro = ledger.get_account("user", 3, "clipper_pending", "EUR")
    db.session.commit()
    before = ledger_row_counts()
    for lines, error, message in _bad_postings(escrow, pending, euro):
        with pytest.raises(error, match=message):
            ledger.post(new_key(), "earning", lines)
        # Nothing was written, not even to the open session: the caller could commit now.
        assert ledger_row_counts() == before
        assert ledger.balance(escrow) == 1_000 and ledger.balance(pending) == 0
    db.session.commit()
    assert ledger_row_counts() == before
    assert ledger.check_integrity() == []


@pytest.mark.parametrize("key, kind, memo, message", [
    ("", "earning", "", "idempotency key"),
    ("   ", "earning", "", "idempotency key"),
    (None, "earning", "", "idempotency key"),
    ("k" * 201, "earning", "", "longer than 200"),
    ("k", "", "", "needs a kind"),
    ("k", "x" * 41, "", "longer than 40"),
    ("k", "earning", "m" * 501, "longer than 500"),
])
def test_post_refuses_bad_keys_kinds_and_memos(db, key, kind, memo, message):
    escrow = fund_escrow(1, 1_000)
    pending = ledger.get_account("user", 3, "clipper_pending", "USD")
    with pytest.raises(ValidationError, match=message):
        ledger.post(key, kind, [Line(escrow, -1), Line(pending, 1)], memo=memo)


@pytest.mark.parametrize("ref_type, ref_id, message", [
    ("", 1, "reference type"),
    ("submission", "42", "reference id is an integer"),
    ("submission", 4.2, "reference id is an integer"),
])
def test_post_refuses_bad_references(db, ref_type, ref_id, message):
    escrow = fund_escrow(1, 1_000)
    pending = ledger.get_account("user", 3, "clipper_pending", "USD")
    with pytest.raises(ValidationError, match=message):
        ledger.post(new_key(), "earning", [Line(escrow, -1), Line(pending, 1)], ref_type=ref_type, ref_id=ref_id)


def test_insufficient_funds_error_names_the_account_and_amounts(db):
    escrow = fund_escrow(1, 250)
    available = ledger.get_account("user", 3, "clipper_available", "USD")
    with pytest.raises(InsufficientFundsError) as caught:
        ledger.post(new_key(), "earning", [Line(escrow, -300), Line(available, 300)])
    error = caught.value
    assert (error.account_id, error.purpose, error.balance_cents, error.change_cents) == (escrow.id, "campaign_escrow",
                                                                                       250, -300)
    assert error.status_code == 409
    assert error.message == "Not enough funds: $3.00 needed, $2.50 available (campaign escrow)."


def test_accounts_that_may_go_negative_do(db):
    clearing = ledger.platform_account("offline_clearing", "JPY")
    receivable = ledger.get_account("user", 3, "clipper_receivable", "JPY")
    escrow = ledger.get_account("campaign", 1, "campaign_escrow", "JPY")
    ledger.post(new_key(), "funding", [Line(clearing, -5_000), Line(escrow, 5_000)])
    ledger.post(new_key(), "clawback", [Line(receivable, -700), Line(escrow, 700)])
    db.session.commit()
    assert [ledger.balance(a) for a in (clearing, receivable, escrow)] == [-5_000, -700, 5_700]


def test_same_key_twice_returns_the_first_transaction(db):
    escrow = fund_escrow(1, 1_000)
    pending = ledger.get_account("user", 3, "clipper_pending", "USD")
    first = ledger.post("earn-7", "earning", [Line(escrow, -600), Line(pending, 600)])
    db.session.commit()
    # The retry would overspend if it were applied again: it must return the first instead.
    retry = ledger.post("earn-7", "earning", [Line(pending.id, 600), Line(escrow.id, -600)])
    db.session.commit()
    assert retry.id == first.id
    assert ledger.balance(escrow) == 400
    assert ledger_row_counts() == (3, 2, 4)


@pytest.mark.parametrize("kind, lines", [
    ("earning", lambda escrow, pending: [Line(escrow, -500), Line(pending, 500)]),
    ("bonus", lambda escrow, pending: [Line(escrow, -600), Line(pending, 600)]),
])
def test_same_key_with_different_content_is_a_conflict(db, kind, lines):
    escrow = fund_escrow(1, 1_000)
    pending = ledger.get_account("user", 3, "clipper_pending", "USD")
    ledger.post("earn-8", "earning", [Line(escrow, -600), Line(pending, 600)])
    db.session.commit()
    with pytest.raises(ConflictError, match="already used for a different transaction"):
        ledger.post("earn-8", kind, lines(escrow, pending))
    assert ledger.balance(escrow) == 400


def test_reverse_posts_negated_lines_once(db):
    escrow = fund_escrow(1, 1_000)
    pending = ledger.get_account("user", 3, "clipper_pending", "USD")
    original = ledger.post("earn-9", "earning", [Line(escrow, -600), Line(pending, 600)], ref_type="submission",
                           ref_id=5)
    db.session.commit()
    reversal = ledger.reverse(original, "undo-earn-9")
    db.session.commit()
    assert sorted((line.account_id, line.amount_cents) for line in reversal.lines) == [
        (escrow.id, 600), (pending.id, -600)]
    assert (reversal.kind, reversal.reversal_of_id, reversal.ref_type, reversal.ref_id) == (
        "reversal", original.id, "submission", 5)
    assert ledger.balance(escrow) == 1_000 and ledger.balance(pending) == 0
    assert ledger.reverse(original, "undo-earn-9").id == reversal.id  # retry
    with pytest.raises(ConflictError, match="already reversed"):
        ledger.reverse(original, "undo-earn-9-again")
    assert ledger.check_integrity() == []


def test_reversing_money_already_spent_is_refused(db):
    escrow = fund_escrow(1, 1_000)
    funding = db.session.scalar(select(LedgerTransaction).where(LedgerTransaction.kind == "funding"))
    available = ledger.get_account("user", 3, "clipper_available", "USD")
    ledger.post(new_key(), "earning", [Line(escrow, -400), Line(available, 400)])
    db.session.commit()
    with pytest.raises(InsufficientFundsError):
        ledger.reverse(funding, "refund-funding")
    assert ledger.balance(escrow) == 600


def test_check_integrity_reports_a_drifted_running_total_and_a_negative_escrow(db):
    escrow = fund_escrow(1, 1_000)
    assert ledger.check_integrity() == []
    # Simulate a bug that wrote the running total directly (only balance_cents may change).
    db.session.execute(text("ALTER TABLE ledger_accounts DROP CONSTRAINT ck_ledger_accounts_balance_not_negative"))
    db.session.execute(text("UPDATE ledger_accounts SET balance_cents = -5 WHERE id = :id"), {"id": escrow.id})
    problems = ledger.check_integrity()
    db.session.rollback()
    assert problems == [f"account {escrow.id} stores -5 but its lines sum to 1000",
                        f"account {escrow.id} (campaign_escrow) is negative: -5"]


def test_money_filter_formats_minor_units_in_templates(app):
    with app.app_context():
        template = app.jinja_env.from_string('{{ a|money }} {{ b|money("EUR") }} {{ c|money("JPY") }}')
        assert template.render(a=123456, b=-100, c=5000) == "$1,234.56 -€1.00 ¥5,000"
