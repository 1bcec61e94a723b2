"""The manual rail: support pays by hand (PayPal, bank) from the clipper's sealed details.

Invariants: a clipper is ready once manual details are saved (``manual_kind``); a
created payout waits on support's manual screen (nothing is enqueued) until support
marks it paid (with a reference) or failed (``payouts.service.mark_paid/mark_failed``).
"""

from __future__ import annotations

from typing import Any


class ManualRail:
    key = "manual"
    label = "by hand"
    paid_label = "paid by hand"
    sends_to_stripe_account = False
    settled_by_hand = True
    refuse_mark_paid = ""
    refuse_mark_failed = ""

    def ready(self, account: Any, payments_mode: str) -> Any | None:
        return account.manual_kind.is_not(None)

    def dispatch(self, payout_ids: list[int]) -> None:
        """Nothing to send: support pays these from the manual screen."""
