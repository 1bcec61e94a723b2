"""Property test: random fund / verify / lower / remove / release / payout / fail / close-and-refund
operations,
all through the real services on PostgreSQL; after every step the money adds up.

Checked after each step:
- the ledger's own integrity (every transaction sums to zero, no escrow / available /
  pending balance below zero, running totals equal the sums of lines);
- paid + owed to clippers (pending, available, in flight, receivable) + fees + refunds +
  what is still in escrow = everything funded (the test's own count of what it funded);
- the earnings rows agree with the ledger: the sum of gross earned is what left the escrows,
  the sum of fees is the platform's fee account, each clipper's pending balance is the sum
  of their rows' pending parts, and each row's totals equal the sum of its entries.
"""

from __future__ import annotations

import os
from datetime import timedelta

import pytest
from hypothesis import HealthCheck, Phase, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, precondition, rule, run_state_machine_as_test
from sqlalchemy import func, select

from app.db import utcnow
from app.earnings.models import EarningEntry, SubmissionEarning
from app.extensions import db
from app.ledger import service as ledger
from app.ledger.models import LedgerAccount
from app.payouts.models import Payout
from tests.factories import approved_post, build_world, make_user

CLIPPERS = 3


class EarningsMachine(RuleBasedStateMachine):
    world: dict = {}

    def __init__(self):
        super().__init__()
        w = self.world
        self.campaign = build_world(cpm_cents=150, budget_cents=2_000, max_payout_per_post_cents=1_500,
                                      max_earnings_per_clipper_cents=1_800, hold_days=2, brand=w["brand"],
                                      admin=w["admin"], clipper_users=w["clippers"])
        self.funded = 2_000
        self.posts: list[int] = []
        self.views: dict[int, int] = {}
        self.removed: set[int] = set()
        self.refunded = 0
        self.clock = 0  # days ahead of now the release job believes it is

    # -- operations ----------------------------------------------------------------------

    @precondition(lambda self: self.status() in ("published", "paused"))
    @rule(amount=st.integers(1, 3_000))
    def fund(self, amount):
        from app.payments import funding

        reference = f"ref-{len(self.world['refs'])}"
        funding.record_offline_funding(self.campaign.campaign_id, amount, reference, self.world["admin"].id)
        self.world["refs"].append(amount)
        self.funded += amount
        if self.status() == "paused":  # spent, now topped up: the brand resumes it
            from app.campaigns import service

            service.resume_campaign(self.campaign.campaign_id, self.world["brand"].id)

    @precondition(lambda self: len(self.posts) < 12 and self.status() == "published")
    @rule(clipper=st.integers(0, CLIPPERS - 1))
    def new_post(self, clipper):
        post = approved_post(self.campaign, clipper)
        self.posts.append(post)
        self.views[post] = 0

    @precondition(lambda self: self.live_posts())
    @rule(data=st.data(), more=st.integers(0, 20_000))
    def verify(self, data, more):
        from app.tracking import snapshots

        post = data.draw(st.sampled_from(self.live_posts()))
        snapshot = snapshots.record(post, self.views[post] + more, source="platform_api")
        db.session.commit()
        snapshots.decide(snapshot.id, "verified", admin_id=None, claim=False)
        db.session.commit()
        self.views[post] += more

    @precondition(lambda self: any(self.views[p] for p in self.live_posts()))
    @rule(data=st.data(), fraction=st.floats(0, 0.99))
    def lower(self, data, fraction):
        from app.tracking import claims, disputes

        post = data.draw(st.sampled_from([p for p in self.live_posts() if self.views[p]]))
        views = int(self.views[post] * fraction)
        dispute = disputes.open_dispute(post, self.world["brand"].id, "Recount please.")
        claims.take_claim(post, self.world["admin"].id)
        disputes.resolve(dispute.id, self.world["admin"].id, "adjusted", "recounted", views=views)
        self.views[post] = views

    @precondition(lambda self: self.live_posts())
    @rule(data=st.data())
    def remove(self, data):
        from app.tracking import claims
        from app.tracking import service as tracking

        post = data.draw(st.sampled_from(self.live_posts()))
        claims.take_claim(post, self.world["admin"].id)
        tracking.remove_submission(post, self.world["admin"].id, "policy")
        self.removed.add(post)

    @rule(days=st.integers(0, 3))
    def release(self, days):
        from app.earnings import service as earnings

        self.clock += days
        earnings.release_due(utcnow() + timedelta(days=self.clock))

    @rule()
    def payout_run(self):
        from app.payouts import run

        run.run_payouts("support", self.world["support"].id)

    @rule(paid=st.booleans())
    def settle_payout(self, paid):
        from app.payouts import service

        payout_id = db.session.scalar(select(Payout.id).where(Payout.status == "pending").limit(1))
        if payout_id is None:
            return
        if paid:
            service.mark_paid(payout_id, "PP-1", self.world["support"].id)
        else:
            service.mark_failed(payout_id, "bounced", self.world["support"].id)

    @precondition(lambda self: self.status() in ("published", "paused"))
    @rule()
    def close_and_refund(self):
        from app.campaigns import service
        from app.payments import refunds
        from app.payments.models import CampaignRefund

        service.complete_campaign(self.campaign.campaign_id, self.world["brand"].id)
        refunds.refund_due_campaigns(utcnow() + timedelta(days=30))
        for refund in db.session.scalars(select(CampaignRefund).where(CampaignRefund.status == "pending")).all():
            refunds.record_offline_refund(refund.id, f"RET-{refund.id}", self.world["admin"].id)
            self.refunded += refund.amount_cents

    def status(self) -> str:
        from app.campaigns.models import Campaign

        return db.session.scalar(select(Campaign.status).where(Campaign.id == self.campaign.campaign_id))

    def live_posts(self) -> list[int]:
        return [p for p in self.posts if p not in self.removed]

    # -- what must hold ------------------------------------------------------------------

    @invariant()
    def money_adds_up(self):
        db.session.expire_all()
        assert ledger.check_integrity() == []
        by_purpose = dict(db.session.execute(
            select(LedgerAccount.purpose, func.sum(LedgerAccount.balance_cents)).group_by(LedgerAccount.purpose)).all())
        total = sum(int(by_purpose.get(p, 0)) for p in (
            "campaign_escrow", "platform_fees", "campaign_refunds", "clipper_pending", "clipper_available",
            "clipper_in_flight", "clipper_paid", "clipper_receivable"))
        assert total == self.world["funded_before"] + self.funded - self.refunded
        assert -int(by_purpose.get("offline_clearing", 0)) == total
        gross, fee = db.session.execute(select(func.coalesce(func.sum(SubmissionEarning.gross_cents), 0),
                                               func.coalesce(func.sum(SubmissionEarning.fee_cents), 0))).one()
        assert fee == int(by_purpose.get("platform_fees", 0))
        assert gross == total - int(by_purpose.get("campaign_escrow", 0)) - int(by_purpose.get("campaign_refunds", 0))
        pending = dict(db.session.execute(
            select(SubmissionEarning.clipper_id, func.sum(SubmissionEarning.pending_cents))
            .group_by(SubmissionEarning.clipper_id)).all())
        for clipper in self.world["clippers"]:
            account = ledger.get_account("user", clipper.id, "clipper_pending", "USD")
            assert account.balance_cents == int(pending.get(clipper.id, 0))
        drift = db.session.execute(
            select(SubmissionEarning.id)
            .join(EarningEntry, EarningEntry.earning_id == SubmissionEarning.id)
            .group_by(SubmissionEarning.id, SubmissionEarning.gross_cents, SubmissionEarning.fee_cents,
                      SubmissionEarning.pending_cents)
            .having((func.sum(EarningEntry.gross_delta_cents) != SubmissionEarning.gross_cents)
                    | (func.sum(EarningEntry.fee_delta_cents) != SubmissionEarning.fee_cents)
                    | (func.sum(EarningEntry.pending_delta_cents) != SubmissionEarning.pending_cents))).all()
        assert drift == []

    def teardown(self):
        self.world["funded_before"] += self.funded - self.refunded
        db.session.rollback()

    @invariant()
    def count_the_operation(self):
        # Invariants run after every step: this counts the operations the run really made.
        self.world["operations"] += 1


def test_random_operations_keep_the_money_consistent(db):
    from app.payouts import service

    clippers = [make_user("clipper") for _ in range(CLIPPERS)]
    for clipper in clippers:
        service.save_manual_method(clipper.id, "paypal", {"paypal_email": f"pay-{clipper.id}@paypal.test"})
    EarningsMachine.world = {"brand": make_user("brand"), "admin": make_user("admin"), "support": make_user("support"),
                             "clippers": clippers, "refs": [], "funded_before": 0, "operations": 0}
    run_state_machine_as_test(EarningsMachine, settings=settings(
        max_examples=int(os.environ.get("EARNINGS_PROPERTY_EXAMPLES", "80")), stateful_step_count=40,
        deadline=None, database=None,
        phases=(Phase.explicit, Phase.reuse, Phase.generate),  # shrinking a DB-backed run takes minutes
        suppress_health_check=list(HealthCheck)))
    if "EARNINGS_PROPERTY_EXAMPLES" not in os.environ:
        assert EarningsMachine.world["operations"] >= 2000, EarningsMachine.world["operations"]


pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")
