"""Double-entry journal: accounts, transactions, lines.

Sign convention — "a line adds to its account's balance":
- an account's balance is the plain sum of its lines (``balance_cents`` is that
  sum kept as a running total, updated under a row lock in the same database
  transaction as the lines);
- a positive line puts money *into* the account, a negative one takes it out;
  every transaction's lines sum to zero per currency, so money only moves;
- accounts that mirror the outside world go negative by what came in from it:
  ``stripe_clearing`` / ``offline_clearing`` hold minus the brand money received;
  ``clipper_receivable`` is <= 0 and its magnitude is what a clipper owes after a
  clawback that hit money already paid out;
- every other account holds money and may never go below zero (``PURPOSES``:
  ``may_go_negative`` is False), checked in ``ledger.service`` under
  ``SELECT ... FOR NO KEY UPDATE`` and by a CHECK constraint as a backstop.

Invariants (enforced by the database on PostgreSQL, see migration 0003_ledger):
- ``ledger_lines`` and ``ledger_transactions`` are append-only (UPDATE/DELETE
  refused by triggers; also on SQLite); corrections are reversing transactions;
- each transaction's lines sum to zero per currency and it has >= 2 lines
  (deferred constraint triggers, checked at COMMIT; on SQLite only in code);
- a line's currency is its account's currency (composite foreign key);
- one account per (owner_type, owner_id, purpose, currency); platform accounts
  have ``owner_id = 0`` (not NULL, so the unique key and ON CONFLICT just work);
- only ``app.ledger.service`` writes these rows (``post``, ``post_many``, ``reverse``;
  ``post_many`` through ``app.ledger.batch``).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import (
    BigInteger,
    Boolean,
    CheckConstraint,
    ForeignKey,
    ForeignKeyConstraint,
    Index,
    String,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.db import BigIntPK, IdMixin, UTCDateTime, utcnow
from app.extensions import db

OWNER_TYPES = ("platform", "campaign", "user")
PLATFORM_OWNER_ID = 0


@dataclass(frozen=True)
class Purpose:
    owner_type: str
    may_go_negative: bool
    description: str


PURPOSES: dict[str, Purpose] = {
    "stripe_clearing": Purpose("platform", True, "Money through Stripe; minus what came in from outside."),
    "offline_clearing": Purpose("platform", True, "Money recorded by staff (bank transfer, cheque)."),
    "platform_fees": Purpose("platform", False, "The platform's cut of earnings."),
    "campaign_escrow": Purpose("campaign", False, "A campaign's funded budget not yet earned."),
    "campaign_refunds": Purpose("campaign", False, "Unspent budget owed back to the brand."),
    "clipper_pending": Purpose("user", False, "Earnings inside the hold window."),
    "clipper_available": Purpose("user", False, "Earnings a clipper may withdraw."),
    "clipper_in_flight": Purpose("user", False, "Payouts sent but not yet confirmed."),
    "clipper_paid": Purpose("user", False, "Everything paid out to the clipper so far."),
    "clipper_receivable": Purpose("user", True, "Owed by the clipper after a clawback (balance <= 0)."),
}


class LedgerAccount(IdMixin, db.Model):
    __tablename__ = "ledger_accounts"
    __table_args__ = (
        UniqueConstraint("owner_type", "owner_id", "purpose", "currency"),
        # Target of ledger_lines' composite foreign key (line currency = account currency).
        UniqueConstraint("id", "currency"),
        CheckConstraint("owner_type IN ('platform', 'campaign', 'user')", name="owner_type_valid"),
        CheckConstraint("(owner_type = 'platform') = (owner_id = 0) AND owner_id >= 0", name="owner_id_valid"),
        CheckConstraint("may_go_negative OR balance_cents >= 0", name="balance_not_negative"),
        CheckConstraint("length(currency) = 3", name="currency_code"),
    )

    owner_type: Mapped[str] = mapped_column(String(16), nullable=False)
    owner_id: Mapped[int] = mapped_column(BigInteger, nullable=False)
    purpose: Mapped[str] = mapped_column(String(40), nullable=False)
    currency: Mapped[str] = mapped_column(String(3), nullable=False)
    balance_cents: Mapped[int] = mapped_column(BigInteger, nullable=False, default=0)
    may_go_negative: Mapped[bool] = mapped_column(Boolean, nullable=False, default=False)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False, default=utcnow)

    def __repr__(self) -> str:
        return (f"<LedgerAccount {self.id} {self.owner_type}:{self.owner_id} {self.purpose} "
                f"{self.balance_cents} {self.currency}>")


class LedgerTransaction(IdMixin, db.Model):
    __tablename__ = "ledger_transactions"
    __table_args__ = (
        Index("ix_ledger_transactions_ref", "ref_type", "ref_id"),
        CheckConstraint("length(idempotency_key) > 0", name="idempotency_key_present"),
    )

    idempotency_key: Mapped[str] = mapped_column(String(200), nullable=False, unique=True)
    kind: Mapped[str] = mapped_column(String(40), nullable=False)
    memo: Mapped[str] = mapped_column(String(500), nullable=False, default="")
    # Why this happened, e.g. ("submission", 42) or ("payout", 7); free to later domains.
    ref_type: Mapped[str | None] = mapped_column(String(40), nullable=True)
    ref_id: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    # Set on a reversing transaction; unique, so a transaction is reversed at most once.
    reversal_of_id: Mapped[int | None] = mapped_column(
        BigIntPK, ForeignKey("ledger_transactions.id"), nullable=True, unique=True
    )
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False, default=utcnow)

    # Loaded on demand (or with selectinload): post() sets them itself, so that a
    # fresh INSERT ... RETURNING does not pay a SELECT for lines it just wrote.
    lines: Mapped[list[LedgerLine]] = relationship(back_populates="transaction", order_by="LedgerLine.id")

    def __repr__(self) -> str:
        return f"<LedgerTransaction {self.id} {self.kind} {self.idempotency_key!r}>"


class LedgerLine(IdMixin, db.Model):
    __tablename__ = "ledger_lines"
    __table_args__ = (
        ForeignKeyConstraint(
            ["account_id", "currency"], ["ledger_accounts.id", "ledger_accounts.currency"],
            name="fk_ledger_lines_account_currency",
        ),
        CheckConstraint("amount_cents <> 0", name="amount_not_zero"),
    )

    transaction_id: Mapped[int] = mapped_column(
        BigIntPK, ForeignKey("ledger_transactions.id"), nullable=False, index=True
    )
    account_id: Mapped[int] = mapped_column(BigIntPK, nullable=False, index=True)
    currency: Mapped[str] = mapped_column(String(3), nullable=False)
    amount_cents: Mapped[int] = mapped_column(BigInteger, nullable=False)

    transaction: Mapped[LedgerTransaction] = relationship(back_populates="lines")

    def __repr__(self) -> str:
        return f"<LedgerLine tx={self.transaction_id} account={self.account_id} {self.amount_cents} {self.currency}>"
