"""Payments jobs: thin wrappers that call services (safe to run twice: refunds are keyed by
our refund rows and re-checked under the campaign's lock)."""

from __future__ import annotations


def refund_closed_campaigns() -> int:
    from app.payments.refunds import refund_due_campaigns

    return refund_due_campaigns()
