"""Every error reaches the user as a page they can act on.

A normal request gets the full page (layout, title, message); an htmx partial
request gets only the error article (so htmx swaps it in place) with the same
status; a JSON client gets a JSON body. Domain errors map to 4xx with their
own user-facing message; an unexpected exception is a 500 that reveals nothing.
"""

from __future__ import annotations

import itertools
import re

import pytest
from flask import Blueprint, abort, request
from markupsafe import escape

from app.errors import ConflictError, DomainError, NotFoundError, PermissionDeniedError, ValidationError
from app.security import role_required
from tests.conftest import TEST_CONFIG, csrf_token_from
from tests.factories import make_user

PARTIAL = {"HX-Request": "true", "HX-Request-Type": "partial"}
JSON = {"Accept": "application/json"}

SECRET_IN_EXCEPTION = "postgres://admin:hunter2@db.internal/contentflow"


def title_of(html: str) -> str:
    match = re.search(r"<title>(.*?)</title>", html, re.S)
    assert match, "page has no <title>"
    return match.group(1).strip()


def assert_full_error_page(response, status: int, title: str, message: str) -> None:
    html = response.get_data(as_text=True)
    assert response.status_code == status
    assert response.mimetype == "text/html"
    assert "<html" in html
    assert title in title_of(html)
    assert 'id="error"' in html
    assert f"Error {status}" in html
    assert str(escape(message)) in html
    # The layout is there: a way back home and the site navigation.
    assert 'aria-label="Main"' in html


def assert_error_fragment(response, status: int, message: str) -> None:
    html = response.get_data(as_text=True)
    assert response.status_code == status
    assert "<html" not in html
    assert "<title" not in html
    assert 'aria-label="Main"' not in html
    assert html.lstrip().startswith('<article class="error-panel" id="error"')
    assert f"Error {status}" in html
    assert str(escape(message)) in html


def token_for(client) -> str:
    return csrf_token_from(client.get("/login").get_data(as_text=True))


# --- 400: the CSRF token is missing -------------------------------------------------

CSRF_MESSAGE = "This form has expired or was not sent from our site."


def test_post_without_csrf_token_gets_the_400_page(client):
    response = client.post("/login", data={"email": "a@example.test", "password": "whatever-it-is"})
    assert_full_error_page(response, 400, "Form expired", CSRF_MESSAGE)


def test_htmx_post_without_csrf_token_gets_the_400_fragment(client):
    response = client.post(
        "/login", data={"email": "a@example.test", "password": "whatever-it-is"}, headers=PARTIAL
    )
    assert_error_fragment(response, 400, CSRF_MESSAGE)


def test_garbage_csrf_token_gets_the_400_page(client):
    response = client.post(
        "/login", data={"csrf_token": "not-a-token", "email": "a@example.test", "password": "x1"}
    )
    assert_full_error_page(response, 400, "Form expired", CSRF_MESSAGE)


# --- 404 ----------------------------------------------------------------------------

def test_unknown_page_gets_the_404_page(client):
    response = client.get("/no-such-page")
    assert_full_error_page(response, 404, "Page not found", "There is nothing here.")


def test_unknown_page_for_htmx_gets_the_404_fragment(client):
    assert_error_fragment(client.get("/no-such-page", headers=PARTIAL), 404, "There is nothing here.")


def test_boosted_navigation_to_unknown_page_gets_the_full_404_page(client):
    response = client.get("/no-such-page", headers={"HX-Request": "true", "HX-Request-Type": "full"})
    assert_full_error_page(response, 404, "Page not found", "There is nothing here.")


def test_hostile_path_is_not_reflected_in_the_404_page(client):
    response = client.get("/<script>alert(1)</script>")
    assert response.status_code == 404
    assert "<script>alert(1)" not in response.get_data(as_text=True)


# --- 405 ----------------------------------------------------------------------------

def test_get_on_a_post_only_route_gets_405_with_allow_header(client):
    response = client.get("/logout")
    assert_full_error_page(response, 405, "Not allowed here", "That action is not available on this page.")
    allowed = {method.strip() for method in response.headers["Allow"].split(",")}
    assert "POST" in allowed
    assert "GET" not in allowed


def test_htmx_get_on_a_post_only_route_gets_405_fragment_with_allow_header(client):
    response = client.get("/logout", headers=PARTIAL)
    assert_error_fragment(response, 405, "That action is not available on this page.")
    assert "POST" in response.headers["Allow"]


def test_put_on_the_sign_in_page_gets_405_listing_get_and_post(client):
    response = client.put("/login", data={"email": "a@example.test"})
    assert response.status_code == 405
    allowed = {method.strip() for method in response.headers["Allow"].split(",")}
    assert {"GET", "POST"} <= allowed
    assert "PUT" not in allowed


# --- 413 ----------------------------------------------------------------------------

OVER_ONE_MIB = "a" * (1024 * 1024 + 1)


def test_body_over_one_mib_gets_the_413_page(app, client):
    assert app.config["MAX_CONTENT_LENGTH"] == 1024 * 1024
    response = client.post(
        "/login", data={"csrf_token": token_for(client), "email": "a@example.test", "password": OVER_ONE_MIB}
    )
    assert_full_error_page(response, 413, "Too large", "What you sent is too large.")


def test_htmx_body_over_one_mib_gets_the_413_fragment(client):
    token = token_for(client)
    response = client.post(
        "/login", data={"csrf_token": token, "email": "a@example.test", "password": OVER_ONE_MIB}, headers=PARTIAL
    )
    assert_error_fragment(response, 413, "What you sent is too large.")


def test_body_just_under_the_limit_is_not_rejected_as_too_large(client):
    token = token_for(client)
    response = client.post(
        "/login", data={"csrf_token": token, "email": "a@example.test", "password": "a" * (512 * 1024)}
    )
    # Too long for the password field, but that is a form error, not a 413.
    assert response.status_code == 422


# --- 422: the sign-in form is invalid ---------------------------------------------------

def test_invalid_sign_in_form_gets_the_full_page_with_field_errors(client):
    token = token_for(client)
    response = client.post("/login", data={"csrf_token": token, "email": "not-an-email", "password": ""})
    html = response.get_data(as_text=True)
    assert response.status_code == 422
    assert "<html" in html
    assert "Sign in" in title_of(html)
    assert "Enter a valid email address." in html
    assert 'id="password-error"' in html
    assert 'aria-invalid="true"' in html


def test_invalid_sign_in_form_for_htmx_gets_only_the_form_fragment(client):
    # Validation errors answer with the form fragment (design rule 5), not the error article:
    # the user fixes the fields in place.
    token = token_for(client)
    response = client.post(
        "/login", data={"csrf_token": token, "email": "not-an-email", "password": ""}, headers=PARTIAL
    )
    html = response.get_data(as_text=True)
    assert response.status_code == 422
    assert "<html" not in html
    assert html.lstrip().startswith('<form id="login-form"')
    assert "Enter a valid email address." in html
    assert 'id="password-error"' in html


# --- 429: too many failed sign-ins --------------------------------------------------

_emails = itertools.count()


def _fail_sign_in(client, token, headers=None, remote_addr="127.0.0.1", email=None):
    # A new email each time: this exercises the per-IP limit, not the per-account one.
    email = email or f"nobody{next(_emails)}@example.test"
    return client.post(
        "/login", data={"csrf_token": token, "email": email, "password": "wrong-password"},
        headers=headers or {}, environ_base={"REMOTE_ADDR": remote_addr},
    )


def test_eleventh_failed_sign_in_gets_the_429_page(app, client):
    token = token_for(client)
    for _ in range(10):
        assert _fail_sign_in(client, token).status_code == 422
    response = _fail_sign_in(client, token)
    assert_full_error_page(response, 429, "Too many requests", "Too many attempts.")
    html = response.get_data(as_text=True)
    assert "Wait a bit and try again." in html
    assert "10 per 15 minute" in html
    assert int(response.headers["Retry-After"]) > 0


def test_rate_limited_client_cannot_sign_in_even_with_the_right_password(app, client):
    with app.app_context():
        email = make_user("clipper").email
    token = token_for(client)
    for _ in range(10):
        _fail_sign_in(client, token)
    response = client.post(
        "/login", data={"csrf_token": token, "email": email, "password": "correct horse battery staple"}
    )
    assert response.status_code == 429
    assert client.get("/profile").status_code == 302  # still anonymous


def test_htmx_sign_in_over_the_limit_gets_the_429_fragment(client):
    token = token_for(client)
    for _ in range(10):
        _fail_sign_in(client, token, headers=PARTIAL)
    response = _fail_sign_in(client, token, headers=PARTIAL)
    assert_error_fragment(response, 429, "Too many attempts.")


def test_rate_limit_is_per_client_address(client):
    token = token_for(client)
    for _ in range(11):
        _fail_sign_in(client, token, remote_addr="10.0.0.1")
    assert _fail_sign_in(client, token, remote_addr="10.0.0.1").status_code == 429
    assert _fail_sign_in(client, token, remote_addr="10.0.0.2").status_code == 422


def test_json_client_gets_a_json_429(client):
    token = token_for(client)
    for _ in range(10):
        _fail_sign_in(client, token)
    response = _fail_sign_in(client, token, headers=JSON)
    assert response.status_code == 429
    assert response.get_json()["error"]["status"] == 429


# --- JSON clients ----------------------------------------------------------------------

def test_json_client_gets_a_json_404(client):
    response = client.get("/no-such-page", headers=JSON)
    assert response.status_code == 404
    assert response.mimetype == "application/json"
    body = response.get_json()
    assert body["error"]["status"] == 404
    assert body["error"]["title"] == "Page not found"
    assert "nothing here" in body["error"]["message"]


def test_json_client_gets_a_json_405(client):
    response = client.get("/logout", headers=JSON)
    assert response.status_code == 405
    assert response.get_json()["error"]["status"] == 405
    assert "POST" in response.headers["Allow"]


def test_htmx_request_accepting_json_still_gets_html(client):
    response = client.get("/no-such-page", headers={**PARTIAL, "Accept": "application/json"})
    assert response.mimetype == "text/html"
    assert_error_fragment(response, 404, "There is nothing here.")


# --- Domain errors, 403 and 500: a separate app with routes that fail on purpose ------------

boom = Blueprint("boom", __name__, url_prefix="/boom")

DOMAIN_CASES = {
    # path: (exception, status, title, user-facing message)
    "validation": (ValidationError, 422, "Please check your input", "The budget must be at least $10.00."),
    "permission": (PermissionDeniedError, 403, "Not allowed", "Only the campaign's brand can edit it."),
    "not-found": (NotFoundError, 404, "Not found", "That campaign does not exist any more."),
    "conflict": (ConflictError, 409, "Conflict", "This payout was already marked paid."),
    "domain": (DomainError, 400, "That did not work", "The campaign has already ended."),
}


def _make_raiser(exc_type, message):
    def view():
        raise exc_type(message)

    return view


for _name, (_exc, _status, _title, _message) in DOMAIN_CASES.items():
    boom.add_url_rule(f"/{_name}", f"raise_{_name}", _make_raiser(_exc, _message), methods=["GET", "POST"])


@boom.route("/crash")
def crash():
    raise RuntimeError(f"could not connect to {SECRET_IN_EXCEPTION}")


@boom.route("/echo")
def echo():
    # A message may quote what the user typed; it must never become markup.
    raise ConflictError(f'The name "{request.args.get("name", "")}" is taken.')


@boom.route("/forbidden")
def forbidden():
    abort(403)


@boom.route("/clippers-only")
@role_required("clipper")
def clippers_only():
    return "clipper page"


@pytest.fixture(scope="module")
def failing_app(app):
    """Built like the real app (same settings), plus routes that raise."""
    from app import create_app

    application = create_app(dict(TEST_CONFIG))
    application.register_blueprint(boom)
    yield application
    with application.app_context():
        from app.extensions import db

        db.engine.dispose()


@pytest.fixture
def failing_client(failing_app):
    return failing_app.test_client()


@pytest.mark.parametrize("name", list(DOMAIN_CASES))
def test_domain_error_renders_its_status_and_message_as_a_page(failing_client, name):
    _exc, status, title, message = DOMAIN_CASES[name]
    response = failing_client.get(f"/boom/{name}")
    assert_full_error_page(response, status, title, message)


@pytest.mark.parametrize("name", list(DOMAIN_CASES))
def test_domain_error_renders_only_the_fragment_for_htmx(failing_client, name):
    _exc, status, _title, message = DOMAIN_CASES[name]
    assert_error_fragment(failing_client.get(f"/boom/{name}", headers=PARTIAL), status, message)


@pytest.mark.parametrize("name", list(DOMAIN_CASES))
def test_domain_error_is_json_for_json_clients(failing_client, name):
    _exc, status, title, message = DOMAIN_CASES[name]
    response = failing_client.get(f"/boom/{name}", headers=JSON)
    assert response.status_code == status
    assert response.get_json() == {"error": {"status": status, "title": title, "message": message}}


def test_domain_error_message_quoting_user_input_is_escaped(failing_client):
    response = failing_client.get("/boom/echo", query_string={"name": "<img src=x onerror=alert(1)>"})
    html = response.get_data(as_text=True)
    assert response.status_code == 409
    assert "<img src=x" not in html
    assert "&lt;img src=x onerror=alert(1)&gt;" in html


def test_abort_403_gets_the_403_page_and_fragment(failing_client):
    message = "Your account cannot open this page."
    assert_full_error_page(failing_client.get("/boom/forbidden"), 403, "Not allowed", message)
    assert_error_fragment(
        failing_client.get("/boom/forbidden", headers=PARTIAL), 403, "Your account cannot open this page."
    )


def test_role_guard_answers_403_to_the_wrong_role_even_with_htmx_headers(app, failing_app, failing_client):
    with app.app_context():
        brand_token = make_user("brand").session_token
        clipper_token = make_user("clipper").session_token
    with failing_client.session_transaction() as session:
        session["_user_id"] = brand_token
    assert_full_error_page(failing_client.get("/boom/clippers-only"), 403, "Not allowed", "Your account cannot")
    assert failing_client.get("/boom/clippers-only", headers=PARTIAL).status_code == 403

    clipper_client = failing_app.test_client()
    with clipper_client.session_transaction() as session:
        session["_user_id"] = clipper_token
    response = clipper_client.get("/boom/clippers-only")
    assert response.status_code == 200
    assert response.get_data(as_text=True) == "clipper page"


def test_role_guard_sends_anonymous_users_to_sign_in(failing_client):
    response = failing_client.get("/boom/clippers-only")
    assert response.status_code == 302
    assert response.headers["Location"].startswith("/login?next=")


def test_unexpected_exception_gets_a_500_page_that_reveals_nothing(failing_client):
    response = failing_client.get("/boom/crash")
    assert_full_error_page(response, 500, "Something went wrong", "We hit an error")
    html = response.get_data(as_text=True)
    for leak in ("hunter2", "db.internal", "RuntimeError", "Traceback", "could not connect"):
        assert leak not in html


def test_unexpected_exception_for_htmx_gets_the_500_fragment(failing_client):
    response = failing_client.get("/boom/crash", headers=PARTIAL)
    assert_error_fragment(response, 500, "We hit an error")
    assert "hunter2" not in response.get_data(as_text=True)


def test_unexpected_exception_for_json_client_reveals_nothing(failing_client):
    response = failing_client.get("/boom/crash", headers=JSON)
    assert response.status_code == 500
    assert response.get_json()["error"]["title"] == "Something went wrong"
    assert "hunter2" not in response.get_data(as_text=True)


def test_the_app_keeps_serving_after_a_500(failing_client):
    assert failing_client.get("/boom/crash").status_code == 500
    response = failing_client.get("/")
    assert response.status_code == 200
    assert "<html" in response.get_data(as_text=True)
