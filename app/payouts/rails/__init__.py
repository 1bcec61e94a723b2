"""Payout rails: the one registry of ways a payout reaches a clipper (Stripe, by hand).

Invariants:
- ``RAILS`` is the only list of rails, in priority order: a clipper ready for several
  is paid through the first (Stripe before manual); its order is also the order of the
  keys in the ``payouts.method`` CHECK (``one_of("method", KEYS)``), so a new rail is
  appended, never inserted (the SQL text of the existing constraint stays the same);
- a rail module imports no payouts module (only ``app.jobs`` and SQLAlchemy): the
  payout models build their CHECK from ``KEYS`` and the run passes the ``PayoutAccount``
  model in, so there is no import circle; a rail's work happens in jobs enqueued by
  dotted path (``enqueue_after_commit``), never by importing ``payouts.jobs``;
- a payout's ``method`` is a rail key; its ledger transaction kind when paid is
  ``payout_paid_<key>`` (``PayoutRail.paid_kind``), so money sent through a rail is
  the sum of that kind minus the returns of its payouts.

Adding a rail: its module in this package (a class satisfying ``PayoutRail``), one line
in ``RAILS``, and a migration for the ``payouts.method`` CHECK.
"""

from __future__ import annotations

from typing import Any, Protocol, runtime_checkable

from app.payouts.rails.manual import ManualRail
from app.payouts.rails.stripe import StripeRail


@runtime_checkable
class PayoutRail(Protocol):
    key: str  # payouts.method; at most 10 characters (the column is String(10))
    label: str  # how the clipper sees the rail on a payout ("Stripe", "by hand")
    paid_label: str  # how support sees it on a payout's page ("Stripe", "paid by hand")
    sends_to_stripe_account: bool  # the payout row keeps the clipper's Stripe account as its destination
    settled_by_hand: bool  # support marks its payouts paid / failed (the manual screen)
    refuse_mark_paid: str  # the ConflictError message when support tries to mark one paid by hand
    refuse_mark_failed: str  # ... or failed by hand

    def ready(self, account: Any, payments_mode: str) -> Any | None:
        """SQL condition on ``account`` (the ``PayoutAccount`` model) under which a clipper can be
        paid through this rail, or None when the rail is off in this ``PAYMENTS_MODE``."""

    def dispatch(self, payout_ids: list[int]) -> None:
        """Hand payouts just created on this rail to whatever sends them, after the commit
        (Stripe: enqueue the settlement job; manual: nothing, support pays them)."""


RAILS: tuple[PayoutRail, ...] = (StripeRail(), ManualRail())

BY_KEY: dict[str, PayoutRail] = {rail.key: rail for rail in RAILS}
assert len(BY_KEY) == len(RAILS), "rail keys are unique"
assert all(isinstance(rail, PayoutRail) and len(rail.key) <= 10 for rail in RAILS), "every rail is a PayoutRail"
KEYS: tuple[str, ...] = tuple(BY_KEY)
HAND_SETTLED_KEYS: tuple[str, ...] = tuple(rail.key for rail in RAILS if rail.settled_by_hand)


def get(key: str) -> PayoutRail:
    return BY_KEY[key]


def paid_kind(key: str) -> str:
    """The ledger transaction kind of a payout paid through rail ``key``."""
    return f"payout_paid_{get(key).key}"  # get(): an unknown rail raises KeyError
