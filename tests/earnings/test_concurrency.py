"""Fifty verifications at once on one nearly spent campaign: the escrow is never overspent."""

from __future__ import annotations

import threading

from sqlalchemy import func, select

from app.earnings.models import SubmissionEarning
from app.ledger import service as ledger
from tests.earnings.conftest import escrow
from tests.factories import approved_post, build_world, verified_count


def test_fifty_concurrent_verifications_never_overspend_the_escrow(app, db):
    from app.extensions import db as database
    from app.tracking import snapshots

    campaign = build_world(cpm_cents=1_000, budget_cents=10_000, clippers=3)
    verified_count(approved_post(campaign, 0), 9_000)  # 1,000 cents left
    posts = [approved_post(campaign, i % 3) for i in range(50)]
    snapshot_ids = []
    for post in posts:
        snapshot_ids.append(snapshots.record(post, 37, source="platform_api").id)  # each wants 37 cents
    database.session.commit()

    barrier = threading.Barrier(len(snapshot_ids))
    errors: list[BaseException] = []

    def verify_one(snapshot_id: int) -> None:
        with app.app_context():
            try:
                barrier.wait(timeout=30)
                snapshots.decide(snapshot_id, "verified", admin_id=None, claim=False)
                database.session.commit()
            except BaseException as error:  # noqa: BLE001 - reported below
                errors.append(error)
            finally:
                database.session.remove()

    threads = [threading.Thread(target=verify_one, args=(i,)) for i in snapshot_ids]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)

    assert errors == []
    database.session.expire_all()
    assert escrow(campaign.campaign_id) == 0
    spent = database.session.scalar(select(func.sum(SubmissionEarning.gross_cents)).where(
        SubmissionEarning.campaign_id == campaign.campaign_id))
    assert spent == 10_000  # 9,000 + exactly the 1,000 that was left: 27 posts x 37 + one post of 1
    full = database.session.scalar(select(func.count()).where(SubmissionEarning.gross_cents == 37))
    assert full == 27
    assert ledger.check_integrity() == []
