"""Security at the edges: hardening headers on every response, CSRF on every
POST, and redirects after sign-in that never leave the site."""

from __future__ import annotations

import json
import re
from urllib.parse import urlsplit

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import text

from app.security import safe_next
from tests.conftest import csrf_token_from
from tests.factories import PARTIAL, PASSWORD, new_user


def session_token_in_db(app, user_id: int) -> str:
    from app.extensions import db

    with app.app_context():
        return db.session.execute(
            text("SELECT session_token FROM users WHERE id = :id"), {"id": user_id}
        ).scalar_one()


def signed_in_token(client) -> str:
    """The CSRF token a signed-in page hands to its forms."""
    return csrf_token_from(client.get("/profile").get_data(as_text=True))


def csp_directives(response) -> dict[str, list[str]]:
    policy = response.headers.get("Content-Security-Policy", "")
    directives = {}
    for part in policy.split(";"):
        words = part.split()
        if words:
            directives[words[0]] = words[1:]
    return directives


def header_problems(response) -> list[str]:
    problems = []
    policy = response.headers.get("Content-Security-Policy")
    if not policy:
        return ["no Content-Security-Policy"]
    csp = csp_directives(response)
    if csp.get("script-src") != ["'self'"]:
        problems.append(f"script-src is {csp.get('script-src')}")
    if "'unsafe-inline'" in policy or "'unsafe-eval'" in policy:
        problems.append("CSP allows unsafe-inline/unsafe-eval")
    if csp.get("frame-ancestors") != ["'none'"]:
        problems.append(f"frame-ancestors is {csp.get('frame-ancestors')}")
    if response.headers.get("X-Content-Type-Options") != "nosniff":
        problems.append("no X-Content-Type-Options: nosniff")
    if not response.headers.get("Referrer-Policy"):
        problems.append("no Referrer-Policy")
    return problems


def html_problems(response) -> list[str]:
    """Markup the CSP would block: the page would silently break for the user."""
    if response.mimetype != "text/html":
        return []
    html = response.get_data(as_text=True)
    problems = []
    for tag in re.findall(r"<script\b[^>]*>", html, re.I):
        if "src=" not in tag:
            problems.append(f"inline script {tag}")
    if re.search(r"\son[a-z]+\s*=", html, re.I):
        problems.append("inline event handler attribute")
    if re.search(r"\sstyle\s*=", html, re.I) or re.search(r"<style\b", html, re.I):
        problems.append("inline style (style-src 'self' blocks it)")
    if re.search(r"href\s*=\s*[\"']\s*javascript:", html, re.I):
        problems.append("javascript: URL")
    return problems


def get_routes_without_arguments(app) -> list[str]:
    routes = []
    for rule in app.url_map.iter_rules():
        if rule.endpoint == "static" or rule.arguments or "GET" not in rule.methods:
            continue
        routes.append(rule.rule)
    return sorted(routes)


# --- Headers on every page ---------------------------------------------------------------

def test_route_list_covers_the_known_pages(app):
    routes = get_routes_without_arguments(app)
    assert {"/", "/login", "/home", "/offline", "/sw.js", "/manifest.webmanifest", "/healthz"} <= set(routes)


@pytest.mark.parametrize("signed_in", [False, True], ids=["anonymous", "signed-in"])
def test_every_get_route_sends_the_security_headers(app, client, login_as, signed_in):
    if signed_in:
        login_as(new_user(app, "clipper"))
    failures = {}
    for path in get_routes_without_arguments(app):
        response = client.get(path)
        problems = header_problems(response) + html_problems(response)
        if response.status_code >= 500:
            problems.append(f"status {response.status_code}")
        if problems:
            failures[path] = problems
    assert failures == {}


@pytest.mark.parametrize("role", ["clipper", "brand", "admin", "support"])
def test_role_home_page_has_headers_and_no_inline_code(app, client, login_as, role):
    login_as(new_user(app, role))
    response = client.get("/profile")
    assert response.status_code == 200
    assert header_problems(response) == []
    assert html_problems(response) == []


def test_error_responses_carry_the_security_headers(client, csrf_token):
    token = csrf_token()
    responses = {
        "404": client.get("/no-such-page"),
        "404 htmx": client.get("/no-such-page", headers=PARTIAL),
        "404 json": client.get("/no-such-page", headers={"Accept": "application/json"}),
        "405": client.get("/logout"),
        "400 csrf": client.post("/login", data={"email": "a@example.test", "password": "x"}),
        "413": client.post("/login", data={"csrf_token": token, "password": "a" * (1024 * 1024 + 1)}),
        "422": client.post("/login", data={"csrf_token": token, "email": "bad", "password": ""}),
    }
    for _ in range(10):
        client.post("/login", data={"csrf_token": token, "email": "x@example.test", "password": "wrong"})
    responses["429"] = client.post("/login", data={"csrf_token": token, "email": "x@example.test", "password": "x"})
    statuses = {name: r.status_code for name, r in responses.items()}
    assert statuses == {
        "404": 404, "404 htmx": 404, "404 json": 404, "405": 405, "400 csrf": 400, "413": 413, "422": 422, "429": 429,
    }
    failures = {name: header_problems(r) for name, r in responses.items() if header_problems(r)}
    assert failures == {}


def test_hsts_is_sent_over_https(client):
    response = client.get("/", base_url="https://localhost")
    assert response.status_code == 200
    hsts = response.headers.get("Strict-Transport-Security", "")
    max_age = re.search(r"max-age=(\d+)", hsts)
    assert max_age and int(max_age.group(1)) >= 31536000
    error = client.get("/no-such-page", base_url="https://localhost")
    assert "max-age=" in error.headers.get("Strict-Transport-Security", "")


def test_hsts_is_not_sent_over_plain_http(client):
    # Over http the header is ignored by browsers and would only mislead.
    assert "Strict-Transport-Security" not in client.get("/").headers
    assert "Strict-Transport-Security" not in client.get("/no-such-page").headers


def test_https_from_an_untrusted_forwarded_header_does_not_turn_on_hsts(client):
    # TRUSTED_PROXIES=0: a client cannot claim https with X-Forwarded-Proto.
    response = client.get("/", headers={"X-Forwarded-Proto": "https"})
    assert "Strict-Transport-Security" not in response.headers


def test_session_cookie_is_http_only_and_same_site(app, client, csrf_token):
    user = new_user(app, "clipper")
    client.post("/login", data={"csrf_token": csrf_token(), "email": user.email, "password": PASSWORD})
    cookie = client.get_cookie("session")
    assert cookie is not None
    assert cookie.http_only
    assert cookie.same_site == "Lax"


# --- CSRF ---------------------------------------------------------------------------------

def test_login_post_without_token_is_refused_and_does_not_sign_in(app, client):
    user = new_user(app, "clipper")
    response = client.post("/login", data={"email": user.email, "password": PASSWORD})
    assert response.status_code == 400
    assert "Form expired" in response.get_data(as_text=True)
    assert client.get("/profile").status_code == 302


def test_login_post_with_another_sessions_token_is_refused(app, client):
    user = new_user(app, "clipper")
    other = app.test_client()
    foreign_token = csrf_token_from(other.get("/login").get_data(as_text=True))
    client.get("/login")  # our own session exists, with its own token
    response = client.post("/login", data={"csrf_token": foreign_token, "email": user.email, "password": PASSWORD})
    assert response.status_code == 400
    assert client.get("/profile").status_code == 302


@pytest.mark.parametrize("bad_token", ["", "x", "a" * 5000, "' OR 1=1 --", "<script>alert(1)</script>"])
def test_login_post_with_a_wrong_token_is_refused(app, client, csrf_token, bad_token):
    user = new_user(app, "clipper")
    real = csrf_token()
    assert bad_token != real
    response = client.post("/login", data={"csrf_token": bad_token, "email": user.email, "password": PASSWORD})
    assert response.status_code == 400
    assert "<script>alert(1)" not in response.get_data(as_text=True)
    assert client.get("/profile").status_code == 302


def test_tampered_token_is_refused(app, client, csrf_token):
    user = new_user(app, "clipper")
    token = csrf_token()
    tampered = token[:-2] + ("AA" if not token.endswith("AA") else "BB")
    response = client.post("/login", data={"csrf_token": tampered, "email": user.email, "password": PASSWORD})
    assert response.status_code == 400


def test_logout_without_token_keeps_the_user_signed_in(app, client, login_as):
    user = new_user(app, "brand")
    login_as(user)
    response = client.post("/logout")
    assert response.status_code == 400
    home = client.get("/profile")
    assert home.status_code == 200
    assert user.display_name in home.get_data(as_text=True)
    assert session_token_in_db(app, user.id) == user.session_token


def test_logout_with_wrong_header_token_keeps_the_user_signed_in(app, client, login_as):
    user = new_user(app, "brand")
    login_as(user)
    response = client.post("/logout", headers={**PARTIAL, "X-CSRFToken": "forged"})
    assert response.status_code == 400
    assert client.get("/profile").status_code == 200
    assert session_token_in_db(app, user.id) == user.session_token


def test_htmx_logout_with_header_token_works(app, client, login_as):
    user = new_user(app, "brand")
    login_as(user)
    token = signed_in_token(client)
    response = client.post("/logout", headers={**PARTIAL, "X-CSRFToken": token})
    assert response.status_code == 200
    assert response.headers["HX-Redirect"] == "/"
    assert session_token_in_db(app, user.id) != user.session_token
    assert client.get("/profile").status_code == 302


def test_htmx_login_with_header_token_works(app, client, csrf_token):
    user = new_user(app, "clipper")
    token = csrf_token()
    response = client.post(
        "/login", data={"email": user.email, "password": PASSWORD}, headers={**PARTIAL, "X-CSRFToken": token}
    )
    assert response.status_code == 200
    assert response.headers["HX-Redirect"] == "/campaigns"
    assert client.get("/profile").status_code == 200


def test_signed_in_pages_give_htmx_a_working_token_through_inherited_headers(app, client, login_as):
    user = new_user(app, "clipper")
    login_as(user)
    html = client.get("/profile").get_data(as_text=True)
    match = re.search(r"<body[^>]*hx-headers:inherited='([^']*)'", html)
    assert match, "body does not pass the CSRF header to htmx"
    headers = json.loads(match.group(1))
    response = client.post("/logout", headers={**PARTIAL, **headers})
    assert response.headers.get("HX-Redirect") == "/"
    assert session_token_in_db(app, user.id) != user.session_token


# --- Safe redirects -------------------------------------------------------------------------

HOSTILE_TARGETS = [
    "//evil.example",
    "///evil.example",
    "////evil.example",
    "/\\evil.example",
    "\\\\evil.example",
    "\\/evil.example",
    "https://evil.example",
    "https://evil.example/home",
    "http:evil.example",
    "http:/evil.example",
    "javascript:alert(1)",
    "JaVaScRiPt:alert(1)",
    "data:text/html,<script>alert(1)</script>",
    "/%0d%0aSet-Cookie:x",
    "/%0D%0ALocation:%20https://evil.example",
    "/\r\nSet-Cookie:x",
    "/\x00",
    "/home\x00.evil.example",
    " //evil.example",
    "\t//evil.example",
    "/\t/evil.example",
    "/\n/evil.example",
    "home",
    "evil.example",
    "@evil.example",
    "/" + "a" * 5000,
    "//" + "evil.example/" * 1000,
    None,
    "",
]


@pytest.mark.parametrize("target", HOSTILE_TARGETS, ids=lambda t: repr(t)[:40])
def test_safe_next_falls_back_for_hostile_targets(target):
    assert safe_next(target, "/fallback") == "/fallback"


@pytest.mark.parametrize("target", [12, b"/home", ["/home"]], ids=["int", "bytes", "list"])
def test_safe_next_falls_back_for_non_strings(target):
    assert safe_next(target, "/fallback") == "/fallback"


@pytest.mark.parametrize("target", ["/home", "/home?x=1#y", "/a/b", "/", "/campaigns?platform=tiktok&page=2"])
def test_safe_next_keeps_local_paths(target):
    assert safe_next(target, "/fallback") == target


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    st.one_of(
        st.text(),
        st.text(alphabet=st.sampled_from(list("/\\:.@%?#evilhtps \t\r\n\x00ab0d")), max_size=40),
        st.builds(lambda a, b: a + b, st.sampled_from(["/", "//", "/\\", "\\", "http:", "https://", " /"]), st.text()),
    )
)
def test_safe_next_never_returns_another_origin(target):
    fallback = "/fallback"
    result = safe_next(target, fallback)
    if result == fallback:
        return
    parts = urlsplit(result.replace("\\", "/"))
    assert parts.scheme == ""
    assert parts.netloc == ""
    assert result.startswith("/")
    assert not result.startswith("//")
    assert not re.search(r"[\x00-\x1f\x7f]", result)


def test_sign_in_page_drops_a_hostile_next(client):
    html = client.get("/login", query_string={"next": "//evil.example"}).get_data(as_text=True)
    assert "evil.example" not in html


def test_sign_in_page_keeps_a_local_next(client):
    html = client.get("/login", query_string={"next": "/home?tab=2"}).get_data(as_text=True)
    assert re.search(r'name="next"[^>]*value="/home\?tab=2"|value="/home\?tab=2"[^>]*name="next"', html)


@pytest.mark.parametrize(
    ("next_target", "expected"),
    [
        ("//evil.example", "/campaigns"),
        ("https://evil.example/home", "/campaigns"),
        ("/\\evil.example", "/campaigns"),
        ("/%0d%0aSet-Cookie:x", "/campaigns"),
        ("/home", "/home"),
        ("/home?tab=payouts", "/home?tab=payouts"),
    ],
)
def test_login_redirects_only_to_local_next(app, client, csrf_token, next_target, expected):
    user = new_user(app, "clipper")
    response = client.post(
        "/login", data={"csrf_token": csrf_token(), "email": user.email, "password": PASSWORD, "next": next_target}
    )
    assert response.status_code == 303
    assert response.headers["Location"] == expected


def test_htmx_login_redirects_only_to_local_next(app, client, csrf_token):
    user = new_user(app, "clipper")
    response = client.post(
        "/login",
        data={"csrf_token": csrf_token(), "email": user.email, "password": PASSWORD, "next": "//evil.example"},
        headers=PARTIAL,
    )
    assert response.headers["HX-Redirect"] == "/campaigns"
    assert "Location" not in response.headers
