"""The Stripe rail: a transfer to the clipper's Stripe Express account.

Invariants: only when ``PAYMENTS_MODE`` is "stripe" and the Express account can
receive transfers (``stripe_payouts_enabled`` and an account id); the payout keeps the
account id as its destination; created payouts are sent by the ``settle_payouts`` job
(``payouts.settlement``), enqueued after the commit in batches of ``SETTLE_BATCH``
with job id ``payout-settle-<first>-<last>``; Stripe, not support, says paid or failed.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import and_

from app.jobs import RETRY_NETWORK, enqueue_after_commit, job_id

SETTLE_BATCH = 25  # Stripe payouts per job: a forked job costs ~27 ms, a transfer call more


def enqueue_settlement(payout_ids: list[int]) -> None:
    """Hand Stripe payouts to the ``payouts`` queue once the current transaction commits."""
    enqueue_after_commit("app.payouts.jobs.settle_payouts", list(payout_ids),
                         id=job_id("payout-settle", payout_ids[0], payout_ids[-1]),
                         queue="payouts", retry=RETRY_NETWORK, timeout=600)


class StripeRail:
    key = "stripe"
    label = "Stripe"
    paid_label = "Stripe"
    sends_to_stripe_account = True
    settled_by_hand = False
    refuse_mark_paid = "Stripe payouts are confirmed by Stripe, not marked paid by hand."
    refuse_mark_failed = "Stripe payouts fail through Stripe; they cannot be marked failed by hand."

    def ready(self, account: Any, payments_mode: str) -> Any | None:
        if payments_mode != "stripe":
            return None
        return and_(account.stripe_payouts_enabled.is_(True), account.stripe_account_id.is_not(None))

    def dispatch(self, payout_ids: list[int]) -> None:
        ids = sorted(payout_ids)
        for start in range(0, len(ids), SETTLE_BATCH):
            enqueue_settlement(ids[start:start + SETTLE_BATCH])
