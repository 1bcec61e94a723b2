"""The real thing in Chromium: the Connect button is a plain form, the CSP says
``form-action 'self'``, and the clipper still lands on the provider and back, connected."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from tests.factories import PASSWORD, make_user

pytestmark = pytest.mark.e2e


def sign_in(page, base: str, email: str) -> None:
    page.goto(base + "/login")
    form = page.locator("#login-form")
    form.get_by_label("Email").fill(email)
    form.get_by_label("Password").fill(PASSWORD)
    form.get_by_role("button", name="Sign in").click()
    page.wait_for_url(re.compile(r"/(campaigns|home)"))


@pytest.mark.parametrize("javascript", [True, False], ids=["js", "no-js"])
def test_connect_and_disconnect_in_the_browser(browser, browser_context_args, live_server, provider, db,
                                               javascript):
    user = make_user("clipper")
    # Desktop size: at 390 px the signed-in header overflows and scales the page, which
    # confuses click targeting (a layout matter outside this flow).
    context = browser.new_context(**{**browser_context_args, "viewport": {"width": 1024, "height": 900},
                                     "is_mobile": False}, java_script_enabled=javascript)
    page = context.new_page()
    violations = []
    page.on("console", lambda message: violations.append(message.text)
            if "Content Security Policy" in message.text else None)
    base = live_server.url
    sign_in(page, base, user.email)

    page.goto(base + "/me/accounts")
    page.get_by_role("button", name="Connect X").click()
    page.wait_for_url(base + "/me/accounts")
    expect(page.locator("#flash")).to_contain_text("Your X account @x_star is connected.")
    assert [p for _, name, p in provider.requests if name == "authorize"], "the browser reached the provider"

    page.get_by_role("button", name="Disconnect X").click()
    page.get_by_role("button", name="Yes, disconnect X").click()
    page.wait_for_url(base + "/me/accounts")
    expect(page.locator("#flash")).to_contain_text("X is disconnected")
    expect(page.get_by_role("button", name="Connect X")).to_be_visible()
    assert violations == []
    context.close()
