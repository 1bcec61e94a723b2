"""Ledger service: the only writer of ledger rows (``post``, ``post_many``, ``reverse``).

Invariants (sign convention in ``app.ledger.models``: a line adds to its account):
- nothing here commits: postings are written inside the caller's database
  transaction (and flushed), so a caller's business rows and its ledger postings
  commit together, once;
- a posting that breaks a rule raises before writing anything: fewer than two
  lines, a non-int or zero or absurd amount, an unknown account, lines that do
  not sum to zero per currency (``ValidationError``), or an account that may not
  go negative ending below zero (``InsufficientFundsError``); ``post_many`` is all
  or nothing in the same way;
- the accounts a posting touches are locked with ``SELECT ... FOR NO KEY UPDATE``
  in id order before their balances are read, so concurrent postings serialise
  per account (no overspend: the check is on the locked, current balance) and
  cannot deadlock on each other (every writer locks in the same order);
- one transaction per idempotency key: a retry (also a concurrent one) returns
  the first transaction; a retry with another kind or other lines raises
  ``ConflictError`` (memo and reference are not compared). The key is checked
  after taking the locks, so a concurrent twin touching the same accounts has
  committed by then; a twin touching other accounts is caught by
  ``INSERT ... ON CONFLICT DO NOTHING`` and re-read (no SAVEPOINT for a single
  posting; ``post_many`` wraps its one INSERT in one to stay all or nothing);
- a transaction is reversed at most once (unique ``reversal_of_id``);
- ``balance_cents`` always equals the sum of the account's lines
  (``check_integrity`` verifies this, and everything else, from the rows).
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import cache

from sqlalchemy import BigInteger, String, cast, func, literal, select, union_all
from sqlalchemy.orm import selectinload
from sqlalchemy.orm.attributes import set_committed_value

from app.db import dialect_insert, utcnow
from app.errors import ConflictError, DomainError, ValidationError
from app.extensions import db
from app.ledger.batch import add_to_balances, write_lines, write_transactions
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

    def __init__(self, account: LedgerAccount, change_cents: int, balance_cents: int):
        self.account_id = account.id
        self.purpose = account.purpose
        self.balance_cents = balance_cents
        self.change_cents = change_cents
        super().__init__(
            f"Not enough funds: {format_money(-change_cents, account.currency)} needed, "
            f"{format_money(balance_cents, account.currency)} available "
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
            dialect_insert(db.session, LedgerAccount)
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
        .options(selectinload(LedgerTransaction.lines))
    )


def _same_or_conflict(existing: LedgerTransaction, kind: str, requested: list[tuple[int, int]]):
    stored = Counter((line.account_id, line.amount_cents) for line in existing.lines)
    if existing.kind != kind or stored != Counter(requested):
        raise ConflictError(
            f"The ledger key {existing.idempotency_key!r} was already used for a different transaction."
        )
    return existing


def _validated(idempotency_key, kind, lines, memo, ref_type, ref_id) -> list[tuple[int, int]]:
    """The posting's (account_id, amount_cents) pairs, after checking everything but the accounts."""
    _check_text(idempotency_key, "idempotency key", MAX_KEY_LENGTH, required=True)
    _check_text(kind, "kind", MAX_KIND_LENGTH, required=True)
    _check_text(memo, "memo", MAX_MEMO_LENGTH, required=False)
    if ref_type is not None:
        _check_text(ref_type, "reference type", MAX_KIND_LENGTH, required=True)
    if ref_id is not None and (isinstance(ref_id, bool) or not isinstance(ref_id, int)):
        raise ValidationError("A ledger reference id is an integer.")
    return _requested_lines(lines)


def _balance_changes(requested, accounts: dict[int, LedgerAccount], balances: dict[int, int]) -> dict[int, int]:
    """Net change per account; refuses lines that do not balance per currency and any
    overdraft of an account that may not go negative, given the current ``balances``."""
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
        if change < 0 and not account.may_go_negative and balances[account_id] + change < 0:
            raise InsufficientFundsError(account, change, balances[account_id])
    return changes


def post(idempotency_key: str, kind: str, lines: Sequence[Line], *, memo: str = "",
         ref_type: str | None = None, ref_id: int | None = None,
         reversal_of_id: int | None = None) -> LedgerTransaction:
    """Record one balanced transaction (or return the one already recorded under this key).

    Runs in the caller's database transaction and does not commit.
    """
    requested = _validated(idempotency_key, kind, lines, memo, ref_type, ref_id)
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
    changes = _balance_changes(requested, accounts, {i: a.balance_cents for i, a in accounts.items()})

    transaction = db.session.scalar(
        dialect_insert(db.session, LedgerTransaction)
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


@dataclass(frozen=True)
class Posting:
    """One transaction for ``post_many``; the fields mean what ``post``'s arguments mean."""

    idempotency_key: str
    kind: str
    lines: Sequence[Line]
    memo: str = ""
    ref_type: str | None = None
    ref_id: int | None = None


def post_many(postings: Sequence[Posting]) -> list[int]:
    """Record many transactions set-based (a few statements for the whole batch);
    the ids of the transactions, in order. All or nothing: one refused posting raises
    and nothing of the batch is written. Postings apply in order (a later one may
    spend what an earlier one brought in); a key already recorded with the same lines
    is a retry and returns the first transaction's id. Does not commit.
    """
    requested = [_validated(p.idempotency_key, p.kind, p.lines, p.memo, p.ref_type, p.ref_id) for p in postings]
    keys = [posting.idempotency_key for posting in postings]
    if len(set(keys)) != len(keys):
        raise ValidationError("Each posting in a batch needs its own idempotency key.")
    if not postings:
        return []
    accounts = _lock_accounts(account_id for lines in requested for account_id, _ in lines)
    existing = {
        transaction.idempotency_key: transaction
        for transaction in db.session.scalars(
            select(LedgerTransaction).where(LedgerTransaction.idempotency_key.in_(keys))
            .options(selectinload(LedgerTransaction.lines))
        )
    }
    balances = {account_id: account.balance_cents for account_id, account in accounts.items()}
    fresh = []  # (index, posting, lines) still to write
    for index, (posting, lines) in enumerate(zip(postings, requested, strict=True)):
        if posting.idempotency_key in existing:
            _same_or_conflict(existing[posting.idempotency_key], posting.kind, lines)
            continue
        for account_id, change in _balance_changes(lines, accounts, balances).items():
            balances[account_id] += change
        fresh.append((index, posting, lines))

    ids = [existing[key].id if key in existing else None for key in keys]
    if fresh:
        changes = {account_id: balance - accounts[account_id].balance_cents
                   for account_id, balance in balances.items() if balance != accounts[account_id].balance_cents}
        with db.session.begin_nested():  # a key taken meanwhile undoes the whole batch
            inserted = write_transactions([posting for _, posting, _ in fresh], utcnow())
            if len(inserted) != len(fresh):
                raise ConflictError("Some of these ledger keys were just used for other transactions.")
        write_lines([(inserted[posting.idempotency_key], account_id, accounts[account_id].currency, amount)
                     for _, posting, lines in fresh for account_id, amount in lines])
        add_to_balances(changes)
        for account in accounts.values():  # ORM copies now lag the table
            db.session.expire(account, ["balance_cents"])
        for index, posting, _ in fresh:
            ids[index] = inserted[posting.idempotency_key]
    return ids


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


_INTEGRITY_SENTENCES = {
    1: "transaction {subject} is off by {first} {detail}",
    2: "transaction {subject} has {first} line(s)",
    3: "account {subject} stores {first} but its lines sum to {second}",
    4: "account {subject} ({detail}) is negative: {first}",
}


@cache
def _integrity_query():
    """The four checks as one UNION ALL statement (built once: building it costs more than running it)."""
    def row(check: int, subject, detail, first, second):
        return (literal(check).label("check"), cast(subject, BigInteger).label("subject"),
                cast(detail, String).label("detail"), cast(first, BigInteger).label("first"),
                cast(second, BigInteger).label("second"))

    total = func.sum(LedgerLine.amount_cents)
    unbalanced = (select(*row(1, LedgerLine.transaction_id, LedgerLine.currency, total, 0))
                  .group_by(LedgerLine.transaction_id, LedgerLine.currency).having(total != 0))
    line_counts = (select(LedgerLine.transaction_id, func.count().label("n"))
                   .group_by(LedgerLine.transaction_id).subquery())
    n_lines = func.coalesce(line_counts.c.n, 0)
    thin = (select(*row(2, LedgerTransaction.id, "", n_lines, 0))
            .outerjoin(line_counts, line_counts.c.transaction_id == LedgerTransaction.id).where(n_lines < 2))
    sums = select(LedgerLine.account_id, total.label("total")).group_by(LedgerLine.account_id).subquery()
    summed = func.coalesce(sums.c.total, 0)
    drifted = (select(*row(3, LedgerAccount.id, "", LedgerAccount.balance_cents, summed))
               .outerjoin(sums, sums.c.account_id == LedgerAccount.id)
               .where(LedgerAccount.balance_cents != summed))
    negative = (select(*row(4, LedgerAccount.id, LedgerAccount.purpose, LedgerAccount.balance_cents, 0))
                .where(LedgerAccount.balance_cents < 0, LedgerAccount.may_go_negative.is_(False)))
    found = union_all(unbalanced, thin, drifted, negative).subquery()
    return select(found).order_by(found.c.check, found.c.subject)


def check_integrity() -> list[str]:
    """Every broken ledger invariant found in the rows, as sentences (empty: all good):
    transactions off balance per currency or with fewer than two lines, running totals
    that differ from the sums of lines, accounts below zero that may not be. One statement."""
    rows = db.session.execute(_integrity_query()).mappings()
    return [_INTEGRITY_SENTENCES[r["check"]].format(**r) for r in rows]
