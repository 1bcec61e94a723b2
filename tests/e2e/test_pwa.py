"""The PWA on a phone, in headless Chromium: clean console and CSP, installable,
service worker that controls the site and keeps the shell, offline page, htmx
fragments never cached, tabs without JavaScript, and signing in and out.

Every test runs at 390x844 (conftest's ``browser_context_args``; the persistent
context of the installability test sets the same viewport itself).
"""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from tests.conftest import CHROMIUM, CHROMIUM_ARGS
from tests.factories import make_user

pytestmark = pytest.mark.e2e

PHONE = {"width": 390, "height": 844}

# Injected over CDP before any page script, so the page's CSP does not apply to it.
CSP_LISTENER = """
window.__cspViolations = [];
document.addEventListener("securitypolicyviolation", (event) => {
  window.__cspViolations.push({
    directive: event.violatedDirective, blocked: event.blockedURI,
    source: event.sourceFile, line: event.lineNumber,
  });
}, true);
"""

SW_STATE = """async () => {
  const registration = await navigator.serviceWorker.ready;
  const controller = navigator.serviceWorker.controller;
  return {
    scope: registration.scope,
    active: registration.active && registration.active.scriptURL,
    state: registration.active && registration.active.state,
    controller: controller && controller.scriptURL,
  };
}"""

CACHE_CONTENTS = """async () => {
  const contents = {};
  for (const name of await caches.keys()) {
    const cache = await caches.open(name);
    contents[name] = (await cache.keys()).map((request) => request.url);
  }
  return contents;
}"""


def open_controlled(page, base_url: str, path: str = "/") -> None:
    """Open ``path`` and make sure the service worker is active and controls the page."""
    page.goto(base_url + path)
    page.wait_for_function("window.htmx !== undefined")
    page.evaluate("navigator.serviceWorker.ready.then(() => true)")
    page.reload()
    page.wait_for_function("navigator.serviceWorker.controller !== null")


def test_landing_has_no_console_errors_or_csp_violations(page, live_server):
    errors: list[str] = []
    page.on("console", lambda message: errors.append(message.text) if message.type == "error" else None)
    page.on("pageerror", lambda error: errors.append(f"pageerror: {error}"))
    page.add_init_script(CSP_LISTENER)

    response = page.goto(live_server.url + "/")

    assert response.status == 200
    # Zero violations only means something if the policy is really there.
    assert "script-src 'self'" in response.headers["content-security-policy"]
    page.wait_for_function("window.htmx !== undefined")
    page.evaluate("navigator.serviceWorker.ready.then(() => true)")
    expect(page.get_by_role("heading", level=1)).to_contain_text("Short-form campaigns")
    assert page.viewport_size == PHONE
    assert page.evaluate("window.__cspViolations") == []
    assert errors == []

    # The detector is not blind: an inline script is reported as a violation.
    page.evaluate("""() => {
      const script = document.createElement("script");
      script.textContent = "window.__inlineRan = true";
      document.body.append(script);
    }""")
    page.wait_for_function("window.__cspViolations.length > 0")
    assert page.evaluate("window.__inlineRan") is None


def test_installable_in_a_persistent_profile(playwright, live_server, tmp_path):
    context = playwright.chromium.launch_persistent_context(
        str(tmp_path / "profile"), executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True,
        viewport=PHONE,
    )
    try:
        page = context.pages[0] if context.pages else context.new_page()
        page.goto(live_server.url + "/")
        page.evaluate("navigator.serviceWorker.ready.then(() => true)")
        cdp = context.new_cdp_session(page)

        assert cdp.send("Page.getInstallabilityErrors") == {"installabilityErrors": []}

        manifest = cdp.send("Page.getAppManifest")
        assert manifest["errors"] == []
        assert manifest["url"] == live_server.url + "/manifest.webmanifest"
        assert '"start_url"' in manifest["data"]
    finally:
        context.close()


def test_service_worker_controls_the_site_and_precaches_the_shell(page, live_server):
    base = live_server.url
    open_controlled(page, base)

    state = page.evaluate(SW_STATE)
    assert state == {
        "scope": base + "/", "active": base + "/sw.js", "state": "activated", "controller": base + "/sw.js",
    }
    assert any(worker.url == base + "/sw.js" for worker in page.context.service_workers)

    caches = page.evaluate(CACHE_CONTENTS)
    shell = [name for name in caches if name.startswith("contentflow-shell-")]
    assert len(shell) == 1, caches
    cached = set(caches[shell[0]])
    # The exact fingerprinted URLs this page loads are the ones precached.
    htmx_url = page.eval_on_selector("script[src*='/static/vendor/htmx.min.js']", "el => el.src")
    css_url = page.eval_on_selector("link[rel=stylesheet][href*='/static/css/app.css']", "el => el.href")
    assert re.search(r"\?v=[0-9a-f]{12}$", htmx_url)
    assert {base + "/offline", htmx_url, css_url} <= cached
    offline_body = page.evaluate(f"""async () => {{
      const response = await caches.open({shell[0]!r}).then((cache) => cache.match("/offline"));
      return response ? await response.text() : null;
    }}""")
    assert offline_body is not None and "You are offline" in offline_body


def test_offline_navigation_shows_the_offline_page(page, context, live_server):
    base = live_server.url
    open_controlled(page, base)
    failed: list[tuple[str, str | None]] = []
    page.on("requestfailed", lambda request: failed.append((request.url, request.failure)))

    context.set_offline(True)
    try:
        page.goto(base + "/login")
        expect(page.get_by_role("heading", level=1)).to_have_text("You are offline")
        page.goto(base + "/some/page")
        expect(page.get_by_role("heading", level=1)).to_have_text("You are offline")
        # The offline page's styles and scripts come from the precached shell.
        page.wait_for_function("window.htmx !== undefined")
        assert page.evaluate("getComputedStyle(document.querySelector('.offline')).textAlign") == "center"
        page.wait_for_function("document.querySelector('.offline img').complete")
        assert page.evaluate("document.querySelector('.offline img').naturalWidth") == 192
        # ERR_ABORTED is a request cancelled by the next navigation (e.g. the first offline
        # page's favicon), not a request the offline shell could not serve.
        assert [(url, why) for url, why in failed if why != "net::ERR_ABORTED"] == []
    finally:
        context.set_offline(False)

    page.goto(base + "/login")
    expect(page.get_by_role("heading", level=1)).to_have_text("Sign in")
    expect(page.locator("#login-form")).to_be_visible()


def test_htmx_fragment_swaps_and_is_never_cached(page, live_server):
    base = live_server.url
    open_controlled(page, base)
    expect(page.locator("[data-audience=clippers]")).to_be_visible()

    with page.expect_request(lambda request: "for=brands" in request.url) as request_info:
        page.get_by_role("link", name="For brands").click()
    expect(page.locator("[data-audience=brands]")).to_be_visible()
    expect(page.locator("[data-audience=clippers]")).to_have_count(0)
    expect(page.get_by_role("link", name="For brands")).to_have_attribute("aria-current", "true")

    request = request_info.value
    assert request.headers.get("hx-request") == "true"
    response = request.response()
    assert response.status == 200
    assert "<html" not in response.text()  # a fragment, not the page
    assert page.url == base + "/"  # swapped in place, no navigation
    assert page.evaluate("navigator.serviceWorker.controller !== null")

    caches = page.evaluate(CACHE_CONTENTS)
    assert any(name.startswith("contentflow-shell-") for name in caches)
    cached_brands = [url for urls in caches.values() for url in urls if "for=brands" in url]
    assert cached_brands == []


def test_audience_tabs_work_without_javascript(browser, browser_context_args, live_server):
    context = browser.new_context(**browser_context_args, java_script_enabled=False)
    try:
        page = context.new_page()
        page.goto(live_server.url + "/")
        expect(page.locator("[data-audience=clippers]")).to_be_visible()

        with page.expect_request(lambda request: "for=brands" in request.url) as request_info:
            page.get_by_role("link", name="For brands").click()

        page.wait_for_url(re.compile(r"/\?for=brands#audience$"))
        request = request_info.value
        assert request.is_navigation_request()
        assert "hx-request" not in request.headers
        expect(page.locator("[data-audience=brands]")).to_be_visible()
        expect(page.locator("[data-audience=clippers]")).to_have_count(0)
        expect(page.get_by_role("link", name="For brands")).to_have_attribute("aria-current", "true")
        expect(page.get_by_role("heading", level=1)).to_contain_text("Short-form campaigns")  # the full page
    finally:
        context.close()


def sign_in_form(page):
    return page.locator("#login-form")


def test_sign_in_and_sign_out(page, live_server, db):
    password = "a long enough test password"
    user = make_user("clipper", password=password, display_name="Clip Tester")
    base = live_server.url

    page.goto(base + "/login")
    page.wait_for_function("window.htmx !== undefined")
    form = sign_in_form(page)
    form.get_by_label("Email").fill(user.email)
    form.get_by_label("Password").fill(password)
    form.get_by_role("button", name="Sign in").click()

    page.wait_for_url(base + "/campaigns")
    expect(page.get_by_role("heading", level=1)).to_have_text("Campaigns")
    sign_out = page.get_by_role("button", name="Sign out")
    expect(sign_out).to_be_visible()

    sign_out.click()

    page.wait_for_url(base + "/")
    expect(page.locator("#flash")).to_have_text("You are signed out.")
    expect(page.get_by_role("button", name="Sign out")).to_have_count(0)
    page.goto(base + "/profile")
    expect(page).to_have_url(re.compile(r"/login\?next="))


def test_wrong_password_shows_the_error_inline(page, live_server, db):
    user = make_user("clipper", password="the right password here")
    base = live_server.url

    page.goto(base + "/login")
    page.wait_for_function("window.htmx !== undefined")
    page.evaluate("window.__samePage = true")
    form = sign_in_form(page)
    form.get_by_label("Email").fill(user.email)
    form.get_by_label("Password").fill("not the password")

    with page.expect_response(lambda response: response.url == base + "/login"
                              and response.request.method == "POST") as response_info:
        form.get_by_role("button", name="Sign in").click()

    assert response_info.value.status == 422
    assert response_info.value.request.headers.get("hx-request") == "true"
    error = page.locator("#login-form .field-error")
    expect(error).to_have_text("Email or password is not right.")
    expect(page.get_by_label("Password")).to_have_attribute("aria-invalid", "true")
    expect(page.get_by_label("Email")).to_have_value(user.email)
    assert page.evaluate("window.__samePage") is True  # no full page load
    assert page.url == base + "/login"
    expect(page.locator("#login-form")).to_have_count(1)
