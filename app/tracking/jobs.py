"""Tracking jobs: thin wrappers that take ids and call services (safe to run twice:
slots and snapshots are unique per post and slot, approvals re-check the status)."""

from __future__ import annotations


def check_views(platform: str, pairs: list[list]) -> dict:
    from app.tracking.checks import run_checks

    return run_checks(platform, [(int(sub_id), str(slot)) for sub_id, slot in pairs])


def schedule_view_checks() -> int:
    from app.tracking.schedule import schedule_due_checks

    return schedule_due_checks()


def approve_overdue_submissions() -> int:
    from app.submissions.service import approve_overdue

    return approve_overdue()
