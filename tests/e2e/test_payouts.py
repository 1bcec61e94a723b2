"""On a phone (390x844): support marks a manual payout paid from the payouts screen, and the
clipper then sees it as paid on their Earnings page."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect
from sqlalchemy import select

from app.payouts.run import run_payouts
from tests.factories import manual_clipper

pytestmark = pytest.mark.e2e


def signed_in_context(browser, app, login_as, user, base_url):
    """A browser context carrying ``user``'s session cookie (staff: as if past TOTP)."""
    client = login_as(user, on=app.test_client())
    cookie = client.get_cookie("session")
    context = browser.new_context(viewport={"width": 390, "height": 844}, is_mobile=True, has_touch=True)
    context.add_cookies([{"name": "session", "value": cookie.value, "url": base_url}])
    return context


def test_support_marks_a_manual_payout_paid_and_the_clipper_sees_it(browser, app, db, live_server, login_as):
    from app.payouts.models import Payout
    from tests.factories import make_user

    clipper = manual_clipper(3_250, display_name="Pat Clipper")
    run_payouts()
    payout_id = db.session.scalar(select(Payout.id))
    staff = make_user("support")
    support = type(clipper)(role="support", session_token=staff.session_token)
    db.session.remove()
    base = live_server.url

    support_context = signed_in_context(browser, app, login_as, support, base)
    try:
        page = support_context.new_page()
        page.goto(base + "/support/payouts")
        card = page.locator(f"#manual-{payout_id}")
        expect(card).to_contain_text("$32.50 to Pat Clipper")
        expect(card).to_contain_text(f"pay-{clipper.id}@paypal.test")
        card.get_by_label("Payment reference").fill("PAYPAL-9X31")
        page.wait_for_function("window.htmx !== undefined")
        card.get_by_role("button", name="Mark paid…").click()
        # Step two, in place (htmx swapped the card): confirm the amount and the reference.
        expect(card).to_contain_text("Mark $32.50 paid with reference PAYPAL-9X31?")
        assert page.url == base + "/support/payouts"
        card.get_by_role("button", name="Yes, mark paid").click()
        expect(page.locator("#flash")).to_contain_text(f"Payout {payout_id} marked paid")
        expect(page.locator(f"#manual-{payout_id}")).to_have_count(0)
        expect(page.locator(f"#payout-{payout_id}")).to_contain_text("Paid")
    finally:
        support_context.close()

    clipper_context = signed_in_context(browser, app, login_as, clipper, base)
    try:
        page = clipper_context.new_page()
        page.goto(base + "/payouts")
        assert page.viewport_size == {"width": 390, "height": 844}
        row = page.locator(f"#payout-{payout_id}")
        expect(row).to_have_attribute("data-status", "paid")
        expect(row).to_contain_text("$32.50")
        expect(row).to_contain_text("Paid")
        expect(row).to_contain_text("PAYPAL-9X31")
        expect(page.locator("[data-balance=paid]")).to_have_text("$32.50")
        expect(page.locator("[data-balance=available]")).to_have_text("$0.00")
        # Fits the phone: nothing wider than the screen.
        assert page.evaluate("document.documentElement.scrollWidth") <= 390
    finally:
        clipper_context.close()
