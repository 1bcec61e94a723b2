"""Every route x every kind of session: who gets in, who is sent where.

The table below classifies every endpoint of ``app.url_map``; a route added later
fails ``test_every_route_is_classified`` until someone decides who may open it.
The matrix then checks, for each endpoint (GET and, where it takes one, POST with a
valid CSRF token and an empty body) and each session:

- anonymous -> sent to /login on every protected page;
- an unverified clipper -> sent to /verify everywhere but the verification pages;
- staff who have not passed TOTP -> sent to /staff/2fa everywhere but the 2FA pages;
- a signed-in user of the wrong role -> 403 (404 for the staff 2FA pages);
- the always-open endpoints answer every session exactly as they answer anonymous.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from urllib.parse import urlsplit

import pytest

from tests.conftest import csrf_token_from
from tests.factories import HOMES, PASSWORD, new_user


@pytest.fixture(autouse=True)
def _hash_the_test_password_once(monkeypatch):
    """argon2 costs 40-60 ms a user on these two cores; the factory password gets the same real
    hash each time (other passwords are hashed as usual)."""
    from app.accounts import passwords, service

    cached = _known_hash()
    monkeypatch.setattr(service, "hash_password",
                        lambda password: cached if password == PASSWORD else passwords.hash_password(password))


@functools.cache
def _known_hash() -> str:
    from app.accounts.passwords import hash_password

    return hash_password(PASSWORD)


@dataclass(frozen=True)
class Access:
    kind: str  # open | public | any_session | signed_in | verification | staff_2fa | roles
    roles: frozenset[str] = frozenset()


OPEN = Access("open")  # no gate at all: same answer for every session
PUBLIC = Access("public")  # anonymous welcome; signed-in sessions still meet the gate
ANY_SESSION = Access("any_session")  # signed in, whatever state the account is in (sign out)
SIGNED_IN = Access("signed_in")  # any verified (and, for staff, TOTP-passed) session
VERIFICATION = Access("verification")  # signed in, verified or not
STAFF_2FA = Access("staff_2fa")  # staff only (404 for others), before TOTP too


def roles(*names: str) -> Access:
    return Access("roles", frozenset(names))


ACCESS: dict[str, Access] = {
    "static": OPEN,
    "core.landing": OPEN,
    "core.healthz": OPEN,
    "core.readyz": OPEN,
    "core.metrics": OPEN,
    "core.favicon": OPEN,
    "pwa.manifest": OPEN,
    "pwa.service_worker": OPEN,
    "pwa.offline": OPEN,
    "storage.local_upload": OPEN,  # the signed token is the only authority
    "storage.local_download": OPEN,
    "accounts.login": PUBLIC,
    "accounts.signup": PUBLIC,
    "accounts.signup_clipper": PUBLIC,
    "accounts.signup_brand": PUBLIC,
    "accounts.forgot_password": PUBLIC,
    "accounts.reset_password": PUBLIC,
    "accounts.logout": ANY_SESSION,
    "core.dashboard": SIGNED_IN,
    "profile.show": SIGNED_IN,
    "profile.change_name": SIGNED_IN,
    "profile.request_change": SIGNED_IN,
    "profile.confirm_change": SIGNED_IN,
    "profile.change_password": SIGNED_IN,
    "step_up.confirm": SIGNED_IN,
    "accounts.verify": VERIFICATION,
    "accounts.resend_code": VERIFICATION,
    "accounts.delivery_status": VERIFICATION,
    "staff_auth.two_factor": STAFF_2FA,
    "staff_auth.qr_code": STAFF_2FA,
    "campaigns.feed": PUBLIC,  # the public feed; clippers land here
    "campaigns.detail": SIGNED_IN,  # object-level rules (own / published) are tested in tests/campaigns
    "campaigns.download_asset": SIGNED_IN,
    "campaigns.apply": roles("clipper"),
    "campaigns.withdraw": roles("clipper"),
    "campaigns.my_campaigns": roles("clipper"),
    "campaigns.brand_campaigns": roles("brand"),
    "campaigns.new_campaign": roles("brand"),
    "campaigns.wizard_step": roles("brand"),
    "campaigns.brand_campaign": roles("brand"),
    "campaigns.campaign_action": roles("brand"),
    "campaigns.edit_live": roles("brand"),
    "campaigns.request_change": roles("brand"),
    "campaigns.withdraw_change": roles("brand"),
    "campaigns.decide_application": roles("brand"),
    "campaigns.asset_ticket": roles("brand"),
    "campaigns.confirm_asset": roles("brand"),
    "campaign_review.queue": roles("admin"),
    "campaign_review.review": roles("admin"),
    "campaign_review.decide": roles("admin"),
    "campaign_review.decide_change": roles("admin"),
    "notifications.index": SIGNED_IN,
    "notifications.bell": SIGNED_IN,
    "notifications.mark_read": SIGNED_IN,
    "tracking.queue": roles("admin"),
    "payouts.index": roles("support", "admin"),
    "payouts.show": roles("support", "admin"),
    "payouts.run_now": roles("support", "admin"),
    "payouts.export_manual": roles("support", "admin"),
    "payouts.mark_paid": roles("support", "admin"),
    "payouts.mark_failed": roles("support", "admin"),
    "payouts.place_hold": roles("support", "admin"),
    "payouts.release_hold": roles("support", "admin"),
    "payouts.mine": roles("clipper"),
    "earnings.mine": roles("clipper"),
    "payouts.save_method": roles("clipper"),
    "payouts.connect_stripe": roles("clipper"),
    "payouts.stripe_refresh": roles("clipper"),
    "payouts.stripe_return": roles("clipper"),
    "social.accounts": roles("clipper"),
    "social.connect": roles("clipper"),
    "social.callback": roles("clipper"),
    "social.disconnect": roles("clipper"),
    "posts.my_submissions": roles("clipper"),
    "submissions.submit": roles("clipper"),
    "posts.my_submission": roles("clipper"),
    "submissions.resubmit": roles("clipper"),
    "submissions.clip_ticket": roles("clipper"),
    "submissions.confirm_clip": roles("clipper"),
    "posts.evidence_ticket": roles("clipper", "admin"),
    "posts.confirm_evidence": roles("clipper", "admin"),
    "posts.report_views": roles("clipper"),
    "posts.brand_submissions": roles("brand"),
    "posts.campaign_submissions": roles("brand"),
    "posts.brand_submission": roles("brand"),
    "posts.review": roles("brand"),
    "posts.dispute": roles("brand"),
    "tracking.take_next": roles("admin"),
    "tracking.claim": roles("admin"),
    "tracking.enter_count": roles("admin"),
    "tracking.verify": roles("admin"),
    "tracking.evidence": roles("admin"),
    "tracking.reject": roles("admin"),
    "tracking.flag": roles("admin"),
    "tracking.remove": roles("admin"),
    "tracking.clear_signal": roles("admin"),
    "tracking.resolve_dispute": roles("admin"),
    "tracking.bulk_verify": roles("admin"),
    "payments.stripe_webhook": OPEN,  # the Stripe signature is the only authority (400 for everyone)
    "payments.fund_with_card": roles("brand"),
    "payments.campaign_refunds": roles("brand"),
    "campaign_review.record_funding": roles("admin"),
}

# URL parameters naming one object: the table's ids name nothing, so a session that passes
# the guards meets "not found" — which still means it reached the page (the guards run first).
OBJECT_PARAMETERS = {"payout_id": 1, "hold_id": 1, "campaign_id": 1, "application_id": 1, "asset_id": 1,
                     "submission_id": 1, "snapshot_id": 1, "signal_id": 1, "dispute_id": 1,
                     "request_id": 1}
# Pages about an object the fresh test user does not have (no connected account to disconnect).
MISSING_OBJECT_ENDPOINTS = {"social.disconnect"}
# Other URL parameters: a value each route accepts.
CHOICE_PARAMETERS = {"kind": "email", "step": "basics", "action": "submit", "decision": "approve",
                     "platform": "tiktok"}

# Kinds of session: (role of the user, verified, passed TOTP).
SESSIONS = {
    "anonymous": None,
    "clipper": ("clipper", True, True),
    "brand": ("brand", True, True),
    "admin": ("admin", True, True),
    "support": ("support", True, True),
    "admin-without-totp": ("admin", True, False),
    "support-without-totp": ("support", True, False),
    "unverified-clipper": ("clipper", False, True),
}

# What a response means for access.
LOGIN, TWO_FACTOR, VERIFY, FORBIDDEN, NOT_FOUND, REACHED = (
    "redirect to /login", "redirect to /staff/2fa", "redirect to /verify", "403", "404", "reached the page")


def expected(access: Access, session: str) -> str:
    if access.kind == "open":
        raise AssertionError("open endpoints are compared with the anonymous answer")
    if session == "anonymous":
        return REACHED if access.kind == "public" else LOGIN
    role, verified, totp = SESSIONS[session]
    if access.kind == "any_session":
        return REACHED
    if not verified:
        return REACHED if access.kind == "verification" else VERIFY
    if role in ("admin", "support") and not totp:
        return REACHED if access.kind == "staff_2fa" else TWO_FACTOR
    if access.kind == "staff_2fa":
        return REACHED if role in ("admin", "support") else NOT_FOUND
    if access.kind == "roles":
        return REACHED if role in access.roles else FORBIDDEN
    return REACHED


def outcome(response) -> str:
    if response.status_code == 403:
        return FORBIDDEN
    if response.status_code == 404:
        return NOT_FOUND
    assert response.status_code != 400, f"CSRF or bad request, the check proved nothing: {response.data[:300]!r}"
    location = urlsplit(response.headers.get("Location") or response.headers.get("HX-Redirect") or "").path
    return {"/login": LOGIN, "/staff/2fa": TWO_FACTOR, "/verify": VERIFY}.get(location, REACHED)


def _app_rules(app):
    return [rule for rule in app.url_map.iter_rules()]


def url_for_rule(app, rule) -> str:
    """A URL for ``rule`` with plausible values for its parameters."""
    from flask import url_for

    from app.storage import get_storage

    with app.test_request_context():
        if rule.endpoint == "static":
            return url_for("static", filename="css/app.css")
        if rule.endpoint == "storage.local_download":
            return get_storage().presign_download("clips/" + "a" * 32 + "/clip.mp4", "clip.mp4")
        if rule.endpoint == "storage.local_upload":
            return get_storage().presign_upload("clips/" + "b" * 32 + "/clip.mp4", "video", "video/mp4", 1024).url
        values = {name: value for name, value in CHOICE_PARAMETERS.items() if name in rule.arguments}
        values |= {name: value for name, value in OBJECT_PARAMETERS.items() if name in rule.arguments}
        missing = rule.arguments - set(values)
        assert not missing, f"{rule.endpoint}: give its URL parameters {missing} a plausible value here"
        return url_for(rule.endpoint, **values)


def _cases():
    from app import create_app
    from tests.conftest import TEST_CONFIG

    # Parametrising happens before fixtures exist: an app like the session's one (it opens
    # no connection until asked) gives the url_map to walk.
    application = create_app(TEST_CONFIG)
    cases = []
    for rule in sorted(_app_rules(application), key=lambda r: r.endpoint):
        for method in sorted(rule.methods & {"GET", "POST"}):
            for session in SESSIONS:
                cases.append(pytest.param(rule.endpoint, method, session, id=f"{method} {rule.rule} {session}"))
    return cases


CASES = _cases()


def test_every_route_is_classified(app):
    endpoints = {rule.endpoint for rule in _app_rules(app)}
    unclassified = endpoints - ACCESS.keys()
    assert not unclassified, f"add these endpoints to ACCESS (who may open them?): {sorted(unclassified)}"
    stale = ACCESS.keys() - endpoints
    assert not stale, f"these endpoints are gone; remove them from ACCESS: {sorted(stale)}"


def test_the_table_agrees_with_the_role_homes_and_the_menu():
    from app.navigation import NAV_ITEMS, ROLE_HOME

    for role, endpoint in ROLE_HOME.items():
        assert expected(ACCESS[endpoint], role) == REACHED, f"{role} cannot open its own home {endpoint}"
    for item in NAV_ITEMS:
        access = ACCESS[item.endpoint]
        for role in ("clipper", "brand", "admin", "support"):
            reached = expected(access, role) == REACHED
            if role in item.roles:
                assert reached, (item, role)  # the menu never links to a page the role cannot open
            elif access.kind == "roles":
                assert not reached, (item, role)  # a role page is in the menu of every role it serves


def _client_for(app, client, login_as, session: str, method: str = "POST") -> str | None:
    # The CSRF token lives in the session: take it while anonymous, then sign in on the same cookie jar.
    token = csrf_token_from(client.get("/login").get_data(as_text=True)) if method == "POST" else None
    if SESSIONS[session] is not None:
        role, verified, totp = SESSIONS[session]
        user = new_user(app, role, verified=verified)
        login_as(user, mfa=totp)
    return token


def _request(client, method: str, url: str, token: str | None):
    if method == "GET":
        return client.get(url)
    return client.post(url, data={"csrf_token": token}, headers={"X-CSRFToken": token})


@pytest.mark.parametrize(("endpoint", "method", "session"), CASES)
def test_access(app, client, login_as, endpoint, method, session):
    rule = next(r for r in _app_rules(app) if r.endpoint == endpoint)
    access = ACCESS.get(endpoint)
    assert access is not None, f"{endpoint} is not in ACCESS"
    url = url_for_rule(app, rule)
    if access.kind == "open":
        anonymous = app.test_client()
        anonymous_token = _client_for(app, anonymous, login_as, "anonymous", method)
        baseline = _request(anonymous, method, url, anonymous_token)
        token = _client_for(app, client, login_as, session, method)
        response = _request(client, method, url, token)
        assert (response.status_code, response.headers.get("Location")) == (
            baseline.status_code, baseline.headers.get("Location")), f"{session} is treated differently on {url}"
        # (An open endpoint may answer 400 to everyone: the Stripe webhook without a signature.)
        location = urlsplit(response.headers.get("Location") or response.headers.get("HX-Redirect") or "").path
        assert location not in ("/login", "/staff/2fa", "/verify")
        return
    token = _client_for(app, client, login_as, session, method)
    response = _request(client, method, url, token)
    want = expected(access, session)
    got = outcome(response)
    if got == NOT_FOUND and want == REACHED and (rule.arguments & OBJECT_PARAMETERS.keys()
                                                 or endpoint in MISSING_OBJECT_ENDPOINTS):
        got = REACHED
    assert got == want, f"{method} {url} as {session}: {response.status_code} {response.headers.get('Location')}"
    if want == LOGIN:
        assert response.headers["Location"].startswith("/login?next=")
    if got == REACHED:
        assert response.status_code < 500


@pytest.mark.parametrize("session", ["clipper", "brand", "admin", "support"])
def test_each_role_lands_on_its_own_home_and_it_opens(app, client, login_as, session):
    role = SESSIONS[session][0]
    login_as(new_user(app, role))
    response = client.get("/home")
    assert response.status_code == 302 and response.headers["Location"] == HOMES[role]
    assert client.get(HOMES[role]).status_code == 200


PARTIAL_NAV = {"HX-Request": "true", "HX-Request-Type": "partial", "HX-Source": "#nav"}


def test_hx_headers_do_not_open_a_page_of_another_role(app, client, login_as):
    login_as(new_user(app, "clipper"))
    for path in ("/brand/campaigns", "/admin/queue", "/support/payouts"):
        assert client.get(path, headers=PARTIAL_NAV).status_code == 403, path


@pytest.mark.parametrize(("session", "where"), [
    ("anonymous", "/login"), ("unverified-clipper", "/verify"), ("admin-without-totp", "/staff/2fa")])
def test_the_gate_makes_an_htmx_request_navigate_not_swap(app, client, login_as, session, where):
    _client_for(app, client, login_as, session, "GET")
    response = client.get("/profile", headers=PARTIAL_NAV)
    assert urlsplit(response.headers.get("HX-Redirect", "")).path == where
    assert response.get_data() == b""  # nothing to swap into the fragment's target
