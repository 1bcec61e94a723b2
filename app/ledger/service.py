"""Ledger service: the only writer of ledger rows.

Invariants (sign convention in ``app.ledger.models``: a line adds to its account):
- ``post`` never commits: it writes inside the caller's database transaction and
  flushes, so a caller's business rows and its ledger postings commit together;
- a posting that breaks a rule raises before writing anything: fewer than two
  lines, a non-int or zero or absurd amount, an unknown account, lines that do
  not sum to zero per currency (``ValidationError``), or an account that may not
  go negative ending below zero (``InsufficientFundsError``);
- the accounts a posting touches are locked with ``SELECT ... FOR NO KEY UPDATE``
  in id order before their balances are read, so concurrent postings serialise
  per account (no overspend: the check is on the locked, current balance) and
  cannot deadlock on each other (every writer locks in the same order);
- one transaction per idempotency key: a retry (also a concurrent one) returns
  the first transaction; a retry with different lines raises ``ConflictError``.
  The key is checked after taking the locks, so a concurrent twin touching the
  same accounts has committed by then; a twin touching other accounts is caught
  by ``INSERT ... ON CONFLICT DO NOTHING`` (no savepoint needed) and re-read;
- ``balance_cents`` always equals the sum of the account's lines
  (``check_integrity`` verifies this, and everything else, from the rows).
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm.attributes import set_committed_value

from app.db import utcnow
from app.errors import ConflictError, DomainError, ValidationError
from app.extensions import db
from app.ledger.models import (
    OWNER_TYPES,
    PLATFORM_OWNER_ID,
    PURPOSES,
    LedgerAccount,
    LedgerLine,
    LedgerTransaction,
)
from app.money import CURRENCIES, MAX_MINOR_UNITS, format_money

MAX_KEY_LENGTH = 200
MAX_KIND_LENGTH = 40
MAX_MEMO_LENGTH = 500


class InsufficientFundsError(DomainError):
    """An account that may not go negative would end below zero."""

    status_code = 409
    title = "Not enough funds"

    def __init__(self, account: LedgerAccount, change_cents: int):
        self.account_id = account.id
        self.purpose = account.purpose
        self.balance_cents = account.balance_cents
        self.change_cents = change_cents
        super().__init__(
            f"Not enough funds: {format_money(-change_cents, account.currency)} needed, "
            f"{format_money(account.balance_cents, account.currency)} available "
            f"({account.purpose.replace('_', ' ')})."
        )


@dataclass(frozen=True)
class Line:
    """One leg of a posting: ``amount_cents`` is added to ``account``'s balance."""

    account: LedgerAccount | int
    amount_cents: int

    @property
    def account_id(self) -> int:
        return self.account if isinstance(self.account, int) else self.account.id


# -- accounts ---------------------------------------------------------------------------

def _dialect_insert(model):
    dialect = db.session.get_bind().dialect.name
    return (postgresql.insert if dialect == "postgresql" else sqlite.insert)(model)


def get_account(owner_type: str, owner_id: int | None, purpose: str, currency: str) -> LedgerAccount:
    """The account for this owner, purpose and currency, created on first use (race-safe)."""
    spec = PURPOSES.get(purpose)
    if spec is None:
        raise ValidationError(f"Unknown ledger purpose {purpose!r}.")
    if owner_type not in OWNER_TYPES or owner_type != spec.owner_type:
        raise ValidationError(f"A {purpose} account belongs to a {spec.owner_type}, not {owner_type!r}.")
    if currency not in CURRENCIES:
        raise ValidationError(f"Unsupported currency {currency!r}.")
    if owner_type == "platform":
        if owner_id not in (None, PLATFORM_OWNER_ID):
            raise ValidationError("Platform accounts have no owner id.")
        owner_id = PLATFORM_OWNER_ID
    elif isinstance(owner_id, bool) or not isinstance(owner_id, int) or owner_id <= 0:
        raise ValidationError(f"A {owner_type} account needs a positive owner id.")

    identity = (LedgerAccount.owner_type == owner_type, LedgerAccount.owner_id == owner_id,
                LedgerAccount.purpose == purpose, LedgerAccount.currency == currency)
    account = db.session.scalar(select(LedgerAccount).where(*identity))
    if account is None:
        db.session.execute(
            _dialect_insert(LedgerAccount)
            .values(owner_type=owner_type, owner_id=owner_id, purpose=purpose, currency=currency,
                    balance_cents=0, may_go_negative=spec.may_go_negative)
            .on_conflict_do_nothing()
        )
        account = db.session.scalar(select(LedgerAccount).where(*identity))
    return account


def platform_account(purpose: str, currency: str) -> LedgerAccount:
    return get_account("platform", None, purpose, currency)


# -- posting ----------------------------------------------------------------------------

def _check_text(value, name: str, max_length: int, *, required: bool) -> None:
    if not isinstance(value, str) or (required and not value.strip()):
        raise ValidationError(f"A ledger posting needs a {name}.")
    if len(value) > max_length:
        raise ValidationError(f"The {name} is longer than {max_length} characters.")


def _requested_lines(lines: Sequence[Line]) -> list[tuple[int, int]]:
    if not isinstance(lines, list | tuple) or len(lines) < 2:
        raise ValidationError("A ledger transaction needs at least two lines.")
    requested = []
    for line in lines:
        if not isinstance(line, Line):
            raise ValidationError("Ledger lines must be Line(account, amount_cents).")
        amount, account_id = line.amount_cents, line.account_id
        if isinstance(amount, bool) or not isinstance(amount, int):
            raise ValidationError(f"Ledger amounts are integer minor units, not {type(amount).__name__}.")
        if isinstance(account_id, bool) or not isinstance(account_id, int):
            raise ValidationError("A ledger line needs a saved account.")
        if amount == 0:
            raise ValidationError("A ledger line cannot be zero.")
        if abs(amount) > MAX_MINOR_UNITS:
            raise ValidationError("A ledger line is larger than any real amount.")
        requested.append((account_id, amount))
    return requested


def _lock_accounts(account_ids: Iterable[int]) -> dict[int, LedgerAccount]:
    """Lock the accounts in id order (one order for every writer: no deadlocks)."""
    ids = sorted(set(account_ids))
    accounts = db.session.scalars(
        select(LedgerAccount).where(LedgerAccount.id.in_(ids)).order_by(LedgerAccount.id)
        .with_for_update(key_share=True)
        .execution_options(populate_existing=True)
    ).all()
    found = {account.id: account for account in accounts}
    missing = [account_id for account_id in ids if account_id not in found]
    if missing:
        raise ValidationError(f"Ledger account {missing[0]} does not exist.")
    return found


def _transaction_by_key(idempotency_key: str) -> LedgerTransaction | None:
    return db.session.scalar(
        select(LedgerTransaction).where(LedgerTransaction.idempotency_key == idempotency_key)
    )


def _same_or_conflict(existing: LedgerTransaction, kind: str, requested: list[tuple[int, int]]):
    stored = Counter((line.account_id, line.amount_cents) for line in existing.lines)
    if existing.kind != kind or stored != Counter(requested):
        raise ConflictError(
            f"The ledger key {existing.idempotency_key!r} was already used for a different transaction."
        )
    return existing


def post(idempotency_key: str, kind: str, lines: Sequence[Line], *, memo: str = "",
         ref_type: str | None = None, ref_id: int | None = None,
         reversal_of_id: int | None = None) -> LedgerTransaction:
    """Record one balanced transaction (or return the one already recorded under this key).

    Runs in the caller's database transaction and does not commit.
    """
    _check_text(idempotency_key, "idempotency key", MAX_KEY_LENGTH, required=True)
    _check_text(kind, "kind", MAX_KIND_LENGTH, required=True)
    _check_text(memo, "memo", MAX_MEMO_LENGTH, required=False)
    if ref_type is not None:
        _check_text(ref_type, "reference type", MAX_KIND_LENGTH, required=True)
    requested = _requested_lines(lines)

    accounts = _lock_accounts(account_id for account_id, _ in requested)
    existing = _transaction_by_key(idempotency_key)
    if existing is not None:
        return _same_or_conflict(existing, kind, requested)

    if reversal_of_id is not None:
        earlier = db.session.scalar(
            select(LedgerTransaction.idempotency_key).where(LedgerTransaction.reversal_of_id == reversal_of_id)
        )
        if earlier is not None:
            raise ConflictError(f"Ledger transaction {reversal_of_id} was already reversed ({earlier!r}).")

    totals: dict[str, int] = defaultdict(int)
    changes: dict[int, int] = defaultdict(int)
    for account_id, amount in requested:
        totals[accounts[account_id].currency] += amount
        changes[account_id] += amount
    unbalanced = {currency: total for currency, total in totals.items() if total}
    if unbalanced:
        currency, total = next(iter(unbalanced.items()))
        raise ValidationError(f"Ledger lines must sum to zero; {currency} is off by {total}.")
    for account_id, change in changes.items():
        account = accounts[account_id]
        if change < 0 and not account.may_go_negative and account.balance_cents + change < 0:
            raise InsufficientFundsError(account, change)

    transaction = db.session.scalar(
        _dialect_insert(LedgerTransaction)
        .values(idempotency_key=idempotency_key, kind=kind, memo=memo, ref_type=ref_type, ref_id=ref_id,
                reversal_of_id=reversal_of_id, created_at=utcnow())
        .on_conflict_do_nothing()
        .returning(LedgerTransaction)
    )
    if transaction is None:  # a concurrent twin on other accounts won the key
        existing = _transaction_by_key(idempotency_key)
        if existing is None:
            raise ConflictError("This ledger transaction was already recorded another way.")
        return _same_or_conflict(existing, kind, requested)

    new_lines = [
        LedgerLine(transaction_id=transaction.id, account_id=account_id,
                   currency=accounts[account_id].currency, amount_cents=amount)
        for account_id, amount in requested
    ]
    db.session.add_all(new_lines)
    for account_id, change in changes.items():
        accounts[account_id].balance_cents += change
    db.session.flush()
    set_committed_value(transaction, "lines", new_lines)
    return transaction


def reverse(transaction: LedgerTransaction, idempotency_key: str, memo: str = "") -> LedgerTransaction:
    """Undo ``transaction`` with a new one of negated lines (at most one reversal each)."""
    return post(
        idempotency_key, "reversal",
        [Line(line.account_id, -line.amount_cents) for line in transaction.lines],
        memo=memo or f"Reverses {transaction.idempotency_key}",
        ref_type=transaction.ref_type, ref_id=transaction.ref_id, reversal_of_id=transaction.id,
    )


# -- reading ----------------------------------------------------------------------------

def _account_id(account: LedgerAccount | int) -> int:
    return account if isinstance(account, int) else account.id


def balance(account: LedgerAccount | int) -> int:
    """The account's current balance (the stored running total, read from the database)."""
    value = db.session.scalar(select(LedgerAccount.balance_cents).where(LedgerAccount.id == _account_id(account)))
    if value is None:
        raise ValidationError(f"Ledger account {_account_id(account)} does not exist.")
    return value


def recomputed_balance(account: LedgerAccount | int) -> int:
    """The account's balance summed from its lines (what ``balance`` must equal)."""
    return db.session.scalar(
        select(func.coalesce(func.sum(LedgerLine.amount_cents), 0))
        .where(LedgerLine.account_id == _account_id(account))
    )


def check_integrity() -> list[str]:
    """Every broken ledger invariant found in the rows, as sentences (empty: all good)."""
    problems = []
    unbalanced = db.session.execute(
        select(LedgerLine.transaction_id, LedgerLine.currency, func.sum(LedgerLine.amount_cents))
        .group_by(LedgerLine.transaction_id, LedgerLine.currency)
        .having(func.sum(LedgerLine.amount_cents) != 0)
    )
    problems += [f"transaction {tx} is off by {total} {currency}" for tx, currency, total in unbalanced]
    line_counts = (select(LedgerLine.transaction_id, func.count().label("n"))
                   .group_by(LedgerLine.transaction_id).subquery())
    thin = db.session.execute(
        select(LedgerTransaction.id, func.coalesce(line_counts.c.n, 0))
        .outerjoin(line_counts, line_counts.c.transaction_id == LedgerTransaction.id)
        .where(func.coalesce(line_counts.c.n, 0) < 2)
    )
    problems += [f"transaction {tx} has {n} line(s)" for tx, n in thin]
    sums = (select(LedgerLine.account_id, func.sum(LedgerLine.amount_cents).label("total"))
            .group_by(LedgerLine.account_id).subquery())
    drifted = db.session.execute(
        select(LedgerAccount.id, LedgerAccount.balance_cents, func.coalesce(sums.c.total, 0))
        .outerjoin(sums, sums.c.account_id == LedgerAccount.id)
        .where(LedgerAccount.balance_cents != func.coalesce(sums.c.total, 0))
    )
    problems += [f"account {acc} stores {stored} but its lines sum to {total}" for acc, stored, total in drifted]
    negative = db.session.execute(
        select(LedgerAccount.id, LedgerAccount.purpose, LedgerAccount.balance_cents)
        .where(LedgerAccount.balance_cents < 0, LedgerAccount.may_go_negative.is_(False))
    )
    problems += [f"account {acc} ({purpose}) is negative: {cents}" for acc, purpose, cents in negative]
    return problems
