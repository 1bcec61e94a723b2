"""Pages the structure work moved to the domain that owns them, driven in Chromium:

- a clipper on a phone (390x844) opens Earnings from the menu (now served by the earnings
  domain) and reads each amount next to the count that earned it, then follows the link to
  the balance and payouts page;
- a brand on a desktop opens a completed campaign whose unspent budget went back: the
  refunds are payments' fragment, loaded into the campaign page by htmx under the CSP.
"""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest
from playwright.sync_api import expect

from app.db import utcnow
from tests.factories import approved_post, build_world, verified_count

pytestmark = pytest.mark.e2e

PHONE = {"viewport": {"width": 390, "height": 844}, "is_mobile": True, "has_touch": True}
DESKTOP = {"viewport": {"width": 1280, "height": 800}}
SHOTS = Path(__file__).resolve().parents[2] / "test-results"


def signed_in(browser, app, login_as, user, base_url, **context_options):
    cookie = login_as(user, on=app.test_client()).get_cookie("session")
    context = browser.new_context(**context_options)
    context.add_cookies([{"name": "session", "value": cookie.value, "url": base_url}])
    return context


def test_a_clipper_opens_earnings_from_the_menu_on_a_phone(browser, app, db, live_server, login_as):
    world = build_world(cpm_cents=1_000)
    post = approved_post(world)
    snapshot = verified_count(post, 2_500)  # 2,500 views at $10 CPM: $25.00 gross, $22.50 for the clipper
    db.session.remove()
    context = signed_in(browser, app, login_as, world.clippers[0], live_server.url, **PHONE)
    try:
        page = context.new_page()
        errors: list[str] = []
        page.on("console", lambda message: message.type == "error" and errors.append(message.text))
        page.goto(live_server.url + "/campaigns")
        page.get_by_role("link", name="Earnings").first.click()
        page.wait_for_url("**/earnings")
        expect(page.get_by_role("heading", name="Earnings", exact=True)).to_be_visible()
        expect(page.locator("[data-earnings=pending]")).to_contain_text("$22.50")
        expect(page.locator(f"#post-earnings-{post}")).to_contain_text(f"Count #{snapshot}: 2,500 views verified")
        width = page.evaluate("document.documentElement.scrollWidth")
        assert width <= 390, f"the page scrolls sideways on a phone ({width}px)"
        SHOTS.mkdir(exist_ok=True)
        page.screenshot(path=str(SHOTS / "earnings-phone.png"), full_page=True)
        page.get_by_role("link", name="Your balance, payouts and payout details").click()
        page.wait_for_url("**/payouts")
        expect(page.locator("[data-balance=pending]")).to_contain_text("$22.50")
        assert errors == []
    finally:
        context.close()


def test_a_brand_sees_the_refunds_of_a_completed_campaign_load_into_its_page(
        browser, app, db, live_server, login_as):
    from app.campaigns import service as campaigns
    from app.payments import refunds

    world = build_world(hold_days=1)  # funded offline with its whole budget, nothing spent
    campaigns.complete_campaign(world.campaign_id, world.brand.id)
    assert refunds.refund_due_campaigns(utcnow() + timedelta(days=1, minutes=1)) == 1
    pending = refunds.refunds_of(world.campaign_id)
    assert [r.method for r in pending] == ["offline"]
    db.session.remove()
    context = signed_in(browser, app, login_as, world.brand, live_server.url, **DESKTOP)
    try:
        page = context.new_page()
        errors: list[str] = []
        page.on("console", lambda message: message.type == "error" and errors.append(message.text))
        page.goto(f"{live_server.url}/brand/campaigns/{world.campaign_id}")
        refund_list = page.locator("#campaign-refunds")
        expect(refund_list.locator(f"[data-refund-id='{pending[0].id}']")).to_contain_text("by bank transfer")
        expect(refund_list).to_contain_text("on its way")
        expect(refund_list.get_by_role("heading")).to_have_count(0)  # the fragment, not the whole page
        SHOTS.mkdir(exist_ok=True)
        page.screenshot(path=str(SHOTS / "campaign-refunds-desktop.png"), full_page=True)
        assert errors == []
    finally:
        context.close()
