"""Sign-up in headless Chromium: the form, the code by email through the real RQ worker
and the real SMTP server, the code page, and the role's home.

A clipper signs up on a phone (390x844, conftest's default context), a brand on a
1280x800 desktop context. Every wait is on an event (a URL, a visible element, an
email arriving), never a sleep.
"""

from __future__ import annotations

import re
import subprocess
import sys
import uuid

import pytest
from playwright.sync_api import expect

from tests.e2e.test_pwa import CSP_LISTENER
from tests.factories import HOMES
from tests.outside import ROOT, worker_env

pytestmark = pytest.mark.e2e

PHONE = {"width": 390, "height": 844}
DESKTOP = {"width": 1280, "height": 800}
PASSWORD = "a long enough sign-up passphrase"


@pytest.fixture
def otp_worker(outside_services, tmp_path):
    """The real worker (worker.py) on the otp queue, running in the background for one test."""
    log = (tmp_path / "worker.log").open("w")
    process = subprocess.Popen(
        [sys.executable, "worker.py", "otp", "--name", f"e2e-signup-{uuid.uuid4().hex[:8]}"],
        cwd=ROOT, env=worker_env(outside_services), stdout=log, stderr=subprocess.STDOUT,
    )
    yield process
    process.terminate()  # SIGTERM: RQ's warm shutdown
    try:
        process.wait(timeout=15)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()
    log.close()


def watch_console(page) -> list[str]:
    errors: list[str] = []
    page.on("console", lambda message: errors.append(message.text) if message.type == "error" else None)
    page.on("pageerror", lambda error: errors.append(f"pageerror: {error}"))
    page.add_init_script(CSP_LISTENER)
    return errors


def enter_code(page, code: str) -> None:
    form = page.locator("#verify-form")
    form.get_by_label("Code").fill(code)
    form.get_by_role("button", name="Verify").click()


def test_a_clipper_signs_up_on_a_phone_and_lands_on_the_campaigns(page, live_server, mailbox, otp_worker):
    base = live_server.url
    errors = watch_console(page)
    assert page.viewport_size == PHONE

    page.goto(base + "/signup")
    page.get_by_role("link", name=re.compile("I make clips")).click()
    page.wait_for_url(base + "/signup/clipper")
    page.wait_for_function("window.htmx !== undefined")
    form = page.locator("#signup-form")
    form.get_by_label("Your name").fill("Casey Clips")
    form.get_by_label("Social handle").fill("@casey.clips")
    form.get_by_label("Country").select_option("GB")
    form.get_by_role("textbox", name="Email").fill("casey@example.com")
    form.get_by_label("Password").fill(PASSWORD)
    expect(form.get_by_role("radio", name="Email")).to_be_checked()
    form.get_by_role("button", name="Create my account").click()

    page.wait_for_url(base + "/verify")
    code = mailbox.code_for("casey@example.com")
    # The page polls the delivery state and tells where the code went.
    expect(page.locator("[data-delivery=sent]")).to_contain_text("c•••@example.com")
    enter_code(page, code)

    page.wait_for_url(base + HOMES["clipper"])
    expect(page.get_by_role("heading", level=1)).to_have_text("Campaigns")
    expect(page.locator("#flash")).to_contain_text("Your account is verified")
    assert page.evaluate("window.__cspViolations") == []
    assert errors == []


def test_a_brand_signs_up_on_a_desktop_and_lands_on_its_campaigns(browser, live_server, mailbox, otp_worker):
    base = live_server.url
    context = browser.new_context(viewport=DESKTOP)
    try:
        page = context.new_page()
        errors = watch_console(page)
        page.goto(base + "/signup")
        page.get_by_role("link", name=re.compile("I run a brand")).click()
        page.wait_for_url(base + "/signup/brand")
        page.wait_for_function("window.htmx !== undefined")
        assert page.evaluate("[window.innerWidth, window.innerHeight]") == [1280, 800]
        form = page.locator("#signup-form")
        form.get_by_label("Company").fill("Bright Co")
        form.get_by_label("Your name").fill("Bree")
        form.get_by_label("Work email").fill("bree@bright.example")
        form.get_by_label("Password").fill(PASSWORD)
        form.get_by_role("button", name="Create the brand account").click()

        page.wait_for_url(base + "/verify")
        enter_code(page, mailbox.code_for("bree@bright.example"))

        page.wait_for_url(base + HOMES["brand"])
        expect(page.get_by_role("heading", level=1)).to_have_text("Your campaigns")
        assert page.evaluate("window.__cspViolations") == []
        assert errors == []
    finally:
        context.close()


def test_a_wrong_code_shows_the_error_inline_then_the_right_one_gets_in(page, live_server, mailbox, otp_worker):
    base = live_server.url
    page.goto(base + "/signup/brand")
    page.wait_for_function("window.htmx !== undefined")
    form = page.locator("#signup-form")
    form.get_by_label("Company").fill("Bright Co")
    form.get_by_label("Your name").fill("Bree")
    form.get_by_label("Work email").fill("bree@bright.example")
    form.get_by_label("Password").fill(PASSWORD)
    form.get_by_role("button", name="Create the brand account").click()
    page.wait_for_url(base + "/verify")
    page.wait_for_function("window.htmx !== undefined")

    code = mailbox.code_for("bree@bright.example")
    wrong = f"{(int(code) + 1) % 1_000_000:06d}"
    page.evaluate("window.__samePage = true")
    with page.expect_response(lambda r: r.url == base + "/verify" and r.request.method == "POST") as answer:
        enter_code(page, wrong)

    assert answer.value.status == 422
    assert answer.value.request.headers.get("hx-request") == "true"
    error = page.locator("#verify-form .field-error")
    expect(error).to_be_visible()
    expect(error).to_have_text("That code is not right. 4 tries left.")
    expect(page.locator("#verify-form").get_by_label("Code")).to_have_attribute("aria-invalid", "true")
    assert page.evaluate("window.__samePage") is True  # swapped in place, no page load
    assert page.url == base + "/verify"

    enter_code(page, code)
    page.wait_for_url(base + HOMES["brand"])
    expect(page.get_by_role("heading", level=1)).to_have_text("Your campaigns")
