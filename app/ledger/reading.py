"""The ledger's read API for other domains: balances, escrow columns for their queries, locks.

Invariants:
- the ledger package is the only code that queries ``LedgerAccount``, ``LedgerLine`` and
  ``LedgerTransaction``; other domains read balances through the functions here and
  write through ``ledger.service`` only;
- everything here reads the stored running totals (``balance_cents``), which the
  service keeps equal to the sum of each account's lines, except ``outflow_cents``,
  which sums lines;
- nothing here commits; ``lock_accounts`` and ``lock_owner_accounts`` lock in account id
  order with ``FOR NO KEY UPDATE`` (the ledger's one lock order, also taken by
  ``ledger.service.post``), so callers that lock before posting cannot deadlock with it;
- the column/subquery builders take the caller's columns as parameters, so the
  ledger needs no import of the domains that own the accounts.
"""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import and_, func, select

from app.extensions import db
from app.ledger.models import LedgerAccount, LedgerLine

# The type of the account handles ``ledger.service.get_account`` returns and ``lock_accounts``
# locks (for annotations elsewhere; other domains never query it).
Account = LedgerAccount

ESCROW = "campaign_escrow"


def _is_account(owner_type: str, owner_id, purpose: str, currency):
    return and_(LedgerAccount.owner_type == owner_type, LedgerAccount.owner_id == owner_id,
                LedgerAccount.purpose == purpose, LedgerAccount.currency == currency)


# -- campaign escrow ----------------------------------------------------------------------

def escrow_column(owner_id_column, currency_column):
    """A correlated scalar subquery: the escrow balance of the campaign whose id and currency are
    these columns (NULL without an account; wrap in ``coalesce`` where 0 is wanted)."""
    return (select(LedgerAccount.balance_cents)
            .where(_is_account("campaign", owner_id_column, ESCROW, currency_column))
            .scalar_subquery())


def escrow_accounts():
    """A FROM-able subquery of every campaign escrow account: ``owner_id`` (the campaign id),
    ``currency``, ``balance_cents``. JOIN it on the campaign's id and currency to filter on the
    balance in the same statement (the database flattens it into a plain join)."""
    return (select(LedgerAccount.owner_id, LedgerAccount.currency, LedgerAccount.balance_cents)
            .where(LedgerAccount.owner_type == "campaign", LedgerAccount.purpose == ESCROW)
            .subquery("escrow"))


def escrow_balances(campaigns: Iterable[tuple[int, str]]) -> dict[int, int]:
    """Escrow balance per campaign id, for ``(campaign id, currency)`` pairs (0 if never funded)."""
    pairs = list(campaigns)
    if not pairs:
        return {}
    balances = {campaign_id: 0 for campaign_id, _ in pairs}
    currency_of = dict(pairs)
    rows = db.session.execute(
        select(LedgerAccount.owner_id, LedgerAccount.currency, LedgerAccount.balance_cents)
        .where(LedgerAccount.owner_type == "campaign", LedgerAccount.purpose == ESCROW,
               LedgerAccount.owner_id.in_(list(balances))))
    for owner_id, currency, cents in rows:
        if currency_of.get(owner_id) == currency:
            balances[owner_id] = cents
    return balances


def escrow_balance(campaign_id: int, currency: str) -> int:
    return escrow_balances([(campaign_id, currency)])[campaign_id]


def outflow_cents(owner_type: str, owner_id: int, purpose: str, currency: str) -> int:
    """Money that ever left this account: the sum of its negative lines, as a positive number."""
    return -int(db.session.scalar(  # SUM is a Decimal on PostgreSQL
        select(func.coalesce(func.sum(LedgerLine.amount_cents), 0))
        .join(LedgerAccount, LedgerAccount.id == LedgerLine.account_id)
        .where(_is_account(owner_type, owner_id, purpose, currency), LedgerLine.amount_cents < 0)
    ))


# -- balances by owner ----------------------------------------------------------------------

def balances_of(owner_type: str, owner_id: int, purposes: Iterable[str]) -> list[tuple[str, str, int]]:
    """``(currency, purpose, balance_cents)`` of the owner's accounts with these purposes."""
    return [tuple(row) for row in db.session.execute(
        select(LedgerAccount.currency, LedgerAccount.purpose, LedgerAccount.balance_cents)
        .where(LedgerAccount.owner_type == owner_type, LedgerAccount.owner_id == owner_id,
               LedgerAccount.purpose.in_(tuple(purposes))))]


def available_balances_subquery(owner_type: str, purpose: str, paired_purpose: str, *, minimum_cents: int):
    """A FROM-able subquery, one row per ``purpose`` account of an ``owner_type`` holding at least
    ``minimum_cents``: ``owner_id``, ``account_id``, ``currency``, ``balance_cents`` and ``paired_id``
    (the same owner's ``paired_purpose`` account in that currency, or NULL). Plain joins, so the
    database flattens it into the caller's statement (still one SQL statement)."""
    account = LedgerAccount.__table__.alias(purpose)
    paired = LedgerAccount.__table__.alias(paired_purpose)
    return (
        select(account.c.owner_id, account.c.id.label("account_id"), account.c.currency,
               account.c.balance_cents, paired.c.id.label("paired_id"))
        .select_from(account)
        .outerjoin(paired, and_(paired.c.owner_type == owner_type, paired.c.owner_id == account.c.owner_id,
                                paired.c.purpose == paired_purpose, paired.c.currency == account.c.currency))
        .where(account.c.owner_type == owner_type, account.c.purpose == purpose,
               account.c.balance_cents >= minimum_cents)
        .subquery(f"{purpose}_balances")
    )


# -- locks ------------------------------------------------------------------------------------

def lock_accounts(account_ids: Iterable[int]) -> dict[int, LedgerAccount]:
    """Lock these accounts in id order (``FOR NO KEY UPDATE``, re-read); ``{id: account}``."""
    ids = sorted(set(account_ids))
    return {account.id: account for account in db.session.scalars(
        select(LedgerAccount).where(LedgerAccount.id.in_(ids)).order_by(LedgerAccount.id)
        .with_for_update(key_share=True).execution_options(populate_existing=True))}


def lock_owner_accounts(owner_type: str, owner_ids: Iterable[int], purposes: Iterable[str]) -> list[int]:
    """Lock the owners' accounts with these purposes in id order (``FOR NO KEY UPDATE``); their ids."""
    return list(db.session.scalars(
        select(LedgerAccount.id).where(LedgerAccount.owner_type == owner_type,
                                       LedgerAccount.owner_id.in_(list(owner_ids)),
                                       LedgerAccount.purpose.in_(tuple(purposes)))
        .order_by(LedgerAccount.id).with_for_update(key_share=True)
    ).all())
