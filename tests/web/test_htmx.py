"""Page or fragment: htmx partial requests get just the block they swap, boosted
and plain requests get the full page, every such response says it varies on the
htmx headers, and redirects work with and without JavaScript."""

from __future__ import annotations

import re
from types import SimpleNamespace

import pytest

from tests.factories import PASSWORD, make_user

PARTIAL = {"HX-Request": "true", "HX-Request-Type": "partial"}
BOOSTED = {"HX-Request": "true", "HX-Request-Type": "full"}


def new_user(app, role="clipper") -> SimpleNamespace:
    with app.app_context():
        user = make_user(role)
        return SimpleNamespace(email=user.email, display_name=user.display_name, session_token=user.session_token)


def vary_of(response) -> set[str]:
    return {part.strip().lower() for part in response.headers.get("Vary", "").split(",") if part.strip()}


# --- Landing page: full page vs the #audience fragment ----------------------------------------

def test_landing_is_a_full_page(client):
    response = client.get("/")
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert html.startswith("<!doctype html>")
    assert "<html" in html
    assert "Short-form campaigns that pay" in html
    assert 'id="audience"' in html


def test_landing_partial_returns_only_the_audience_section(client):
    response = client.get("/", headers=PARTIAL)
    html = response.get_data(as_text=True).strip()
    assert response.status_code == 200
    assert "<html" not in html
    assert "<head" not in html
    assert "Short-form campaigns that pay" not in html  # the hero is not part of the fragment
    assert html.startswith('<section id="audience"')
    assert html.endswith("</section>")
    assert html.count("<section") == 1


def test_fragment_is_the_same_markup_the_page_shows(client):
    page = client.get("/?for=brands").get_data(as_text=True)
    fragment = client.get("/?for=brands", headers=PARTIAL).get_data(as_text=True).strip()
    assert fragment in page


def test_boosted_navigation_gets_the_full_page(client):
    html = client.get("/", headers=BOOSTED).get_data(as_text=True)
    assert "<html" in html
    assert "Short-form campaigns that pay" in html


def test_htmx_request_without_request_type_is_treated_as_partial(client):
    html = client.get("/", headers={"HX-Request": "true"}).get_data(as_text=True)
    assert "<html" not in html
    assert 'id="audience"' in html


@pytest.mark.parametrize("value", ["false", "1", "TRUE", ""])
def test_only_hx_request_true_selects_a_fragment(client, value):
    html = client.get("/", headers={"HX-Request": value, "HX-Request-Type": "partial"}).get_data(as_text=True)
    assert "<html" in html


def test_unknown_request_type_gets_the_full_page(client):
    html = client.get("/", headers={"HX-Request": "true", "HX-Request-Type": "<script>"}).get_data(as_text=True)
    assert "<html" in html


# --- The audience switch ------------------------------------------------------------------------

def test_brands_audience_shows_the_brand_steps(client):
    html = client.get("/", query_string={"for": "brands"}, headers=PARTIAL).get_data(as_text=True)
    assert 'data-audience="brands"' in html
    assert 'data-audience="clippers"' not in html
    assert re.search(r'class="tab active"\s+aria-current="true">For brands<', html)


def test_default_audience_is_clippers(client):
    html = client.get("/").get_data(as_text=True)
    assert 'data-audience="clippers"' in html
    assert re.search(r'class="tab active"\s+aria-current="true">For clippers<', html)


@pytest.mark.parametrize(
    "value",
    ["<script>alert(1)</script>", '"><img src=x onerror=alert(1)>', "BRANDS", "brands ", "a" * 5000, ""],
)
def test_unknown_audience_falls_back_to_clippers_and_is_not_reflected(client, value):
    for headers in ({}, PARTIAL):
        response = client.get("/", query_string={"for": value}, headers=headers)
        html = response.get_data(as_text=True)
        assert response.status_code == 200
        assert 'data-audience="clippers"' in html
        assert "<script>alert" not in html
        assert "onerror=alert" not in html
        if len(value) > 10:
            assert value not in html


def test_audience_tabs_work_without_javascript(client):
    html = client.get("/").get_data(as_text=True)
    # Each tab is a real link (no-JS fallback) and an hx-get that swaps #audience.
    for key in ("clippers", "brands"):
        assert f'href="/?for={key}#audience"' in html
        assert f'hx-get="/?for={key}"' in html
    assert html.count('hx-target="#audience"') == 2


# --- Vary ----------------------------------------------------------------------------------------

def test_pages_and_fragments_vary_on_htmx_headers(client):
    for response in (client.get("/"), client.get("/", headers=PARTIAL), client.get("/login", headers=PARTIAL)):
        assert {"hx-request", "hx-request-type"} <= vary_of(response)


def test_redirects_vary_on_htmx_headers(app, client, csrf_token):
    user = new_user(app)
    token = csrf_token()
    plain = client.post("/login", data={"csrf_token": token, "email": user.email, "password": PASSWORD})
    assert plain.status_code == 303
    assert "hx-request" in vary_of(plain)
    logout = client.post("/logout", data={"csrf_token": token}, headers=PARTIAL)
    assert logout.headers.get("HX-Redirect") == "/"
    assert "hx-request" in vary_of(logout)


def test_errors_vary_on_htmx_headers(client, csrf_token):
    assert "hx-request" in vary_of(client.get("/no-such-page"))
    assert "hx-request" in vary_of(client.get("/no-such-page", headers=PARTIAL))
    assert "hx-request" in vary_of(client.get("/logout"))
    assert "hx-request" in vary_of(client.post("/login", data={"email": "a@example.test"}))
    invalid = client.post("/login", data={"csrf_token": csrf_token(), "email": "bad", "password": ""})
    assert invalid.status_code == 422
    assert "hx-request" in vary_of(invalid)


# --- hx_redirect ---------------------------------------------------------------------------------

def test_plain_form_sign_in_gets_a_303_redirect(app, client, csrf_token):
    user = new_user(app)
    response = client.post("/login", data={"csrf_token": csrf_token(), "email": user.email, "password": PASSWORD})
    assert response.status_code == 303
    assert response.headers["Location"] == "/campaigns"
    assert "HX-Redirect" not in response.headers
    assert client.get(response.headers["Location"]).status_code == 200


@pytest.mark.parametrize("headers", [PARTIAL, BOOSTED], ids=["partial", "boosted"])
def test_htmx_sign_in_gets_an_hx_redirect_header(app, client, csrf_token, headers):
    user = new_user(app)
    response = client.post(
        "/login", data={"csrf_token": csrf_token(), "email": user.email, "password": PASSWORD}, headers=headers
    )
    assert response.status_code == 200  # htmx does not follow HX-Redirect on a 3xx
    assert response.headers["HX-Redirect"] == "/campaigns"
    assert "Location" not in response.headers
    assert response.get_data(as_text=True) == ""
    assert client.get("/profile").status_code == 200


def test_htmx_sign_in_with_wrong_password_returns_the_form_fragment_with_422(app, client, csrf_token):
    user = new_user(app)
    response = client.post(
        "/login", data={"csrf_token": csrf_token(), "email": user.email, "password": "wrong"}, headers=PARTIAL
    )
    html = response.get_data(as_text=True).strip()
    assert response.status_code == 422
    assert "HX-Redirect" not in response.headers
    assert html.startswith('<form id="login-form"')
    assert "Email or password is not right." in html
    # The typed email is kept so the user only retypes the password.
    assert f'value="{user.email}"' in html
    assert 'value="wrong"' not in html


def test_sign_in_form_fragment_on_get(client):
    html = client.get("/login", headers=PARTIAL).get_data(as_text=True).strip()
    assert html.startswith('<form id="login-form"')
    assert 'method="post"' in html and 'action="/login"' in html  # works without JavaScript
    assert 'name="csrf_token"' in html


def test_already_signed_in_htmx_sign_in_navigates_instead_of_swapping_a_page(app, client, login_as, csrf_token):
    # A second submit (double click, or signed in from another tab) must not nest a whole
    # page inside the form: it gets a navigation to the home page.
    token = csrf_token()
    user = new_user(app)
    login_as(user)
    response = client.post(
        "/login", data={"csrf_token": token, "email": user.email, "password": PASSWORD}, headers=PARTIAL
    )
    assert response.headers.get("HX-Redirect") == "/campaigns"
    assert "<html" not in response.get_data(as_text=True)


# --- HX-* headers never authorise ---------------------------------------------------------------

@pytest.mark.parametrize("headers", [PARTIAL, BOOSTED, {"HX-Request": "true", "HX-Source": "body"}])
def test_htmx_headers_do_not_open_signed_in_pages(client, headers):
    response = client.get("/profile", headers=headers)
    # htmx is told to navigate to sign-in (not to swap the sign-in page into a fragment).
    assert response.status_code == 200
    assert response.headers["HX-Redirect"].startswith("/login?next=")
    assert "Location" not in response.headers
    assert response.get_data(as_text=True) == ""
