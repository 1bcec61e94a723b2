"""Earnings jobs: thin wrappers that call services (safe to run twice: every release is keyed
by the earnings row's version and re-checks the row under its lock)."""

from __future__ import annotations


def release_matured_earnings() -> int:
    from app.earnings.service import release_due

    return release_due()
