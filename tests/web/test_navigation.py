"""The menu shows each role what it can open, and every entry opens; the demo
seed gives a newcomer working sign-ins."""

from __future__ import annotations

import re
from types import SimpleNamespace

import pytest
from flask import url_for
from sqlalchemy import func, select

from app.accounts.models import ROLES
from app.navigation import NAV_ITEMS, items_for
from tests.factories import make_user


def new_user(app, role) -> SimpleNamespace:
    with app.app_context():
        user = make_user(role)
        return SimpleNamespace(role=user.role, display_name=user.display_name, session_token=user.session_token)


def main_nav(html: str) -> str:
    match = re.search(r'<nav[^>]*aria-label="Main"[^>]*>(.*?)</nav>', html, re.S)
    assert match, "page has no main navigation"
    return match.group(1)


def nav_links(html: str) -> dict[str, str]:
    """label -> href of the links in the main nav (the wordmark excluded)."""
    links = {}
    for href, label in re.findall(r'<a href="([^"]+)"[^>]*>([^<]*)</a>', main_nav(html)):
        if label.strip():
            links[label.strip()] = href
    return links


def item_urls(app) -> dict[str, str]:
    with app.test_request_context():
        return {item.endpoint: url_for(item.endpoint) for item in NAV_ITEMS}


def test_every_role_has_at_least_one_entry():
    for role in ROLES:
        assert items_for(role), f"{role} has an empty menu"


def test_nav_items_only_name_known_roles():
    for item in NAV_ITEMS:
        assert item.roles <= set(ROLES), item


@pytest.mark.parametrize("role", ROLES)
def test_nav_shows_exactly_the_roles_entries(app, login_as, role):
    client = login_as(new_user(app, role), on=app.test_client())
    links = nav_links(client.get("/profile").get_data(as_text=True))
    urls = item_urls(app)
    for item in NAV_ITEMS:
        if role in item.roles:
            assert links.get(item.label) == urls[item.endpoint], f"{role} misses {item.label}"
        else:
            assert urls[item.endpoint] not in links.values(), f"{role} sees {item.label}"


@pytest.mark.parametrize("role", ROLES)
def test_every_nav_entry_opens_for_its_role(app, login_as, role):
    user = new_user(app, role)
    client = login_as(user, on=app.test_client())
    urls = item_urls(app)
    for item in items_for(role):
        response = client.get(urls[item.endpoint])
        assert response.status_code == 200, f"{role}: {item.label} -> {response.status_code}"
        html = response.get_data(as_text=True)
        # The menu marks where the user is.
        assert re.search(rf'<a href="{re.escape(urls[item.endpoint])}" aria-current="page">', main_nav(html))


def test_anonymous_visitors_see_sign_in_and_no_menu_entries(app, client):
    urls = item_urls(app)
    for path in ("/", "/login"):
        html = client.get(path).get_data(as_text=True)
        links = nav_links(html)
        assert links.get("Sign in") == "/login"
        assert "Sign out" not in main_nav(html)
        for item in NAV_ITEMS:
            assert urls[item.endpoint] not in links.values(), f"anonymous sees {item.label}"


def test_signed_in_users_see_sign_out_not_sign_in(app, login_as):
    client = login_as(new_user(app, "clipper"), on=app.test_client())
    nav = main_nav(client.get("/profile").get_data(as_text=True))
    assert "Sign out" in nav
    assert ">Sign in<" not in nav


def test_items_for_anonymous_or_unknown_role_is_empty():
    assert items_for(None) == []
    assert items_for("superuser") == []
    assert items_for("") == []


# --- flask seed -------------------------------------------------------------------------------

def _user_count(app) -> int:
    from app.accounts.models import User
    from app.extensions import db

    with app.app_context():
        return db.session.scalar(select(func.count()).select_from(User))


def test_seed_creates_the_demo_accounts_once_and_prints_how_to_sign_in(app, csrf_token):
    runner = app.test_cli_runner()
    first = runner.invoke(args=["seed"])
    assert first.exit_code == 0, first.output
    assert "5 new account(s)" in first.output
    assert _user_count(app) == 5

    second = runner.invoke(args=["seed"])
    assert second.exit_code == 0, second.output
    assert "0 new account(s)" in second.output
    assert _user_count(app) == 5

    logins = re.findall(r"^\s+(\w+)\s+(\S+@\S+)\s+password: (\S+)$", second.output, re.M)
    assert {role for role, _email, _password in logins} == set(ROLES)
    assert {password for _role, _email, password in logins} == {app.config["DEMO_PASSWORD"]}

    # The printed logins really work.
    for role, email, password in logins:
        device = app.test_client()
        token = csrf_token(device)
        response = device.post("/login", data={"csrf_token": token, "email": email, "password": password})
        assert response.status_code == 303, f"demo {role} cannot sign in"
        # Staff continue to their authenticator set-up; everyone else is in.
        expected = "/staff/2fa" if role in ("admin", "support") else None
        profile = device.get("/profile")
        if expected:
            assert profile.headers["Location"].startswith(expected)
        else:
            assert profile.status_code == 200
