"""The clipper's earnings page: pending / available / owed, per campaign and per post, each line
naming the count that caused it; a clipper sees only their own; payout screens are staff-only."""

from __future__ import annotations

from datetime import timedelta

from app.db import utcnow
from app.earnings import service as earnings
from tests.factories import approved_post, build_world, make_user, verified_count


def test_the_page_explains_every_amount_by_its_count(db, client, login_as):
    campaign = build_world(cpm_cents=150)
    post = approved_post(campaign)
    snapshot = verified_count(post, 1_234)
    later = verified_count(post, 2_000)
    earnings.release_due(utcnow() + timedelta(days=3, minutes=1))
    clipper = login_as(campaign.clippers[0])
    balances = clipper.get("/payouts").get_data(as_text=True)
    assert 'data-balance="pending">$0.00' in balances
    assert 'data-balance="available">$2.70' in balances  # 300 gross - 30 fee
    assert 'href="/earnings"' in balances
    page = clipper.get("/earnings").get_data(as_text=True)
    assert 'data-earnings="pending">$0.00' in page
    assert f"Count #{snapshot}: 1,234 views verified" in page and "→ $1.67 for you" in page
    assert f"Count #{later}: 2,000 views verified" in page
    assert "Released: $2.70 now available" in page
    assert "$3.00 earned, $0.30 platform fee" in page


def test_a_clipper_sees_only_their_own_earnings(db, client, login_as):
    campaign = build_world(cpm_cents=1_000, clippers=2)
    mine, theirs = approved_post(campaign, 0), approved_post(campaign, 1)
    verified_count(mine, 1_000)
    verified_count(theirs, 7_000)
    page = login_as(campaign.clippers[0]).get("/earnings").get_data(as_text=True)
    assert f"post-earnings-{mine}" in page
    assert f"post-earnings-{theirs}" not in page
    assert "$63.00" not in page


def test_only_support_and_admin_reach_payout_screens(db, client, login_as):
    for role, allowed in (("clipper", False), ("brand", False), ("support", True), ("admin", True)):
        response = login_as(make_user(role)).get("/support/payouts")
        assert (response.status_code == 200) is allowed, role
