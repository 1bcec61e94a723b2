"""Connecting a social account by OAuth through the real authlib client and a local provider:
the whole browser dance, refused callbacks, PKCE, tokens sealed at rest, disconnect, access."""

from __future__ import annotations

import pytest
import requests
from sqlalchemy import select, text

from app.social.models import ConnectedAccount
from app.social.platforms.registry import KEYS
from tests.factories import HOMES, PARTIAL, new_user
from tests.social.conftest import connect, csrf_from, query_of, start_connect, visit_provider
from tests.social.oauth_provider import CLIENTS, SCOPES

PLATFORMS = KEYS  # every registered platform connects through the fake provider


def account_row(app, user_id: int, platform: str) -> ConnectedAccount | None:
    from app.extensions import db

    with app.app_context():
        row = db.session.scalar(select(ConnectedAccount).where(
            ConnectedAccount.user_id == user_id, ConnectedAccount.platform == platform))
        if row is not None:
            db.session.expunge(row)
        db.session.remove()
        return row


def credentials(app, user_id: int, platform: str):
    from app.extensions import db
    from app.social.service import credentials_for

    with app.app_context():
        try:
            return credentials_for(user_id, platform)
        finally:
            db.session.remove()


def unsealed(app, sealed: str) -> str:
    from app.security import unseal

    with app.app_context():
        return unseal(sealed)


def audit_actions(app, account_id: int) -> list[str]:
    from app.audit.service import events_for
    from app.extensions import db

    with app.app_context():
        actions = [event.action for event in events_for("connected_account", account_id)]
        db.session.remove()
        return actions


def flashes(client) -> str:
    return client.get("/me/accounts").get_data(as_text=True)


@pytest.fixture
def clipper(app, client, login_as, provider):
    user = new_user(app, "clipper")
    login_as(user)
    return user


@pytest.mark.parametrize("platform", PLATFORMS)
def test_connect_flow_stores_the_providers_account_and_sealed_tokens(app, client, clipper, provider, platform):
    page = client.get("/me/accounts").get_data(as_text=True)
    assert f'action="/social/{platform}/connect"' in page

    authorize_url = start_connect(client, platform)
    query = query_of(authorize_url)
    assert authorize_url.startswith(f"{provider.url}/{platform}/authorize?")
    assert query["scope"] == SCOPES[platform] and query["code_challenge_method"] == "S256" and query["state"]
    if platform == "tiktok":  # TikTok's quirk: the client id travels as client_key
        assert query["client_key"] == CLIENTS["tiktok"][0] and "client_id" not in query
    if platform == "youtube_shorts":
        assert query["access_type"] == "offline" and query["prompt"] == "consent"

    response = client.get(visit_provider(authorize_url))
    assert response.status_code == 303 and response.headers["Location"].endswith("/me/accounts")
    assert "is connected" in flashes(client)

    row = account_row(app, clipper.id, platform)
    expected = provider.users[platform]
    assert (row.status, row.platform_user_id, row.handle) == ("connected", expected["id"], expected["username"])
    assert row.expires_at is not None
    live_tokens = {token for token, owner in provider.access_tokens.items() if owner == (platform, expected["id"])}
    access_token = unsealed(app, row.access_token_sealed)
    assert access_token in live_tokens and access_token not in row.access_token_sealed
    if platform != "youtube_shorts":  # YouTube views are read with our API key, not the clipper's token
        creds = credentials(app, clipper.id, platform)
        assert (creds.access_token, creds.platform_user_id) == (access_token, expected["id"])
    if platform == "instagram_reels":  # traded for the long-lived token; no refresh token exists
        assert access_token.startswith("ig-long-") and row.refresh_token_sealed is None
        assert [p["grant_type"] for _, _, p in provider.calls("exchange")] == ["ig_exchange_token"]
    else:
        assert row.refresh_token_sealed
    assert audit_actions(app, row.id) == ["social.account_connected"]


def test_a_plain_form_post_gets_a_page_linking_to_the_provider(client, clipper, provider):
    response = client.post("/social/x/connect", data={"csrf_token": csrf_from(client)})
    html = response.get_data(as_text=True)
    assert response.status_code == 200 and response.headers["Cache-Control"] == "no-store"
    assert f'href="{provider.url}/x/authorize?' in html and 'http-equiv="refresh"' in html


def test_connect_needs_csrf(client, clipper, provider):
    assert client.post("/social/x/connect").status_code == 400
    assert provider.calls("authorize") == []


def test_denied_consent_stores_nothing(app, client, clipper, provider):
    provider.deny_next = True
    response = client.get(visit_provider(start_connect(client, "x")))
    assert response.status_code == 303
    assert "You did not allow access on X" in flashes(client)
    assert account_row(app, clipper.id, "x") is None
    assert provider.calls("token") == []
    with client.session_transaction() as session:
        assert not [key for key in session if key.startswith("_state_")], "the spent state is forgotten"


def test_a_tampered_state_is_refused_before_any_token_call(app, client, clipper, provider):
    callback = visit_provider(start_connect(client, "tiktok"))
    tampered = callback.replace("state=", "state=x")
    client.get(tampered)
    assert "was not started from this session" in flashes(client)
    assert provider.calls("token") == []
    assert account_row(app, clipper.id, "tiktok") is None

    # A forged callback does not spoil the clipper's own sign-in in flight.
    client.get(callback)
    assert account_row(app, clipper.id, "tiktok").status == "connected"


def test_a_callback_is_only_good_once(app, client, clipper, provider):
    callback = visit_provider(start_connect(client, "x"))
    client.get(callback)
    assert account_row(app, clipper.id, "x").status == "connected"
    client.get(callback)
    assert "was not started from this session" in flashes(client)
    assert len(provider.calls("token")) == 1


def test_starting_again_replaces_the_pending_sign_in(app, client, clipper, provider):
    first = visit_provider(start_connect(client, "x"))
    for _ in range(8):
        latest = visit_provider(start_connect(client, "x"))
    with client.session_transaction() as session:
        pending = [key for key in session if key.startswith("_state_")]
        assert len(pending) == 1 and len(str(session[pending[0]])) < 400
    client.get(first)
    assert account_row(app, clipper.id, "x") is None
    client.get(latest)
    assert account_row(app, clipper.id, "x").status == "connected"


def test_a_callback_from_another_session_or_user_is_refused(app, client, clipper, provider, login_as):
    callback = visit_provider(start_connect(client, "x"))
    # Another clipper, own browser: this session never started the authorization.
    other = new_user(app, "clipper")
    other_client = app.test_client()
    login_as(other, on=other_client)
    other_client.get(callback)
    assert "was not started from this session" in other_client.get("/me/accounts").get_data(as_text=True)
    assert account_row(app, other.id, "x") is None
    # Someone else signs in on the same browser: the state names the first clipper.
    login_as(other)
    client.get(callback)
    assert account_row(app, other.id, "x") is None and account_row(app, clipper.id, "x") is None
    assert provider.calls("token") == []


def test_the_provider_checks_the_pkce_verifier(app, client, clipper, provider):
    authorize_url = start_connect(client, "x")
    callback = visit_provider(authorize_url)
    code = query_of(callback)["code"]
    token_url = f"{provider.url}/x/token"
    auth = CLIENTS["x"]
    wrong = requests.post(token_url, auth=auth, timeout=5, data={
        "grant_type": "authorization_code", "code": code, "code_verifier": "not-the-verifier" * 3,
        "redirect_uri": query_of(authorize_url)["redirect_uri"]})
    assert (wrong.status_code, wrong.json()["error"]) == (400, "invalid_grant")
    # The code died with the wrong attempt, so the app's exchange fails too and stores nothing.
    client.get(callback)
    assert "X refused the sign-in (invalid_grant)" in flashes(client)
    assert account_row(app, clipper.id, "x") is None


def test_the_app_sends_the_verifier_it_kept_in_the_session(app, client, clipper, provider):
    authorize_url = start_connect(client, "x")
    with client.session_transaction() as session:
        key = next(k for k in session if k.startswith("_state_x_"))
        data = session[key]
        data["data"]["code_verifier"] = "z" * 64  # not the one the challenge was made from
        session[key] = data
    client.get(visit_provider(authorize_url))
    assert account_row(app, clipper.id, "x") is None
    client.get(visit_provider(start_connect(client, "x")))
    assert account_row(app, clipper.id, "x").status == "connected"


@pytest.mark.parametrize("fault", [500, 503, "invalid_grant"])
def test_a_failing_token_endpoint_shows_a_message_and_stores_nothing(app, client, clipper, provider, fault):
    provider.fail_next(fault)
    connect(client, "youtube_shorts")
    page = flashes(client)
    assert ("not answering properly" in page) if fault != "invalid_grant" else ("refused the sign-in" in page)
    assert account_row(app, clipper.id, "youtube_shorts") is None


def test_the_providers_handle_replaces_a_declared_one_and_the_clipper_is_told(app, client, clipper, provider):
    client.post("/me/accounts", data={"csrf_token": csrf_from(client), "platform": "tiktok", "handle": "@old_me"})
    assert account_row(app, clipper.id, "tiktok").handle == "old_me"
    connect(client, "tiktok")
    page = flashes(client)
    assert "You had declared @old_me on TikTok; we now use @tiktok_star" in page
    row = account_row(app, clipper.id, "tiktok")
    assert (row.handle, row.status) == ("tiktok_star", "connected")


def test_one_platform_account_connects_to_one_clipper(app, client, clipper, provider, login_as):
    connect(client, "x")
    other = new_user(app, "clipper")
    other_client = login_as(other, on=app.test_client())
    connect(other_client, "x")
    assert "already connected to another ContentFlow clipper" in other_client.get("/me/accounts").get_data(
        as_text=True)
    assert account_row(app, other.id, "x") is None


def test_no_token_is_stored_or_logged_in_clear(app, client, clipper, provider, db, capfd):
    for platform in PLATFORMS:
        connect(client, platform)
    issued = list(provider.access_tokens) + [t for *_, p in provider.calls("token") for t in
                                             (p.get("refresh_token"), p.get("code")) if t]
    issued += [p["refresh_token"] for *_, p in provider.requests if p.get("refresh_token")]
    with app.app_context():
        dump = "\n".join(db.session.execute(text(
            "SELECT t::text FROM connected_accounts t UNION ALL SELECT a::text FROM audit_events a")).scalars())
        db.session.remove()
    refresh_tokens = list(provider.refresh_tokens)
    assert len(refresh_tokens) == 3 and len(issued) >= 4
    for secret in issued + refresh_tokens:
        assert secret not in dump
    logged = "".join(capfd.readouterr())
    for secret in issued + refresh_tokens:
        assert secret not in logged


def test_disconnect_asks_first_then_wipes_the_tokens(app, client, clipper, provider):
    connect(client, "x")
    assert "Disconnect X" in client.get("/me/accounts").get_data(as_text=True)
    confirm = client.get("/social/x/disconnect")
    assert confirm.status_code == 200 and "Yes, disconnect X" in confirm.get_data(as_text=True)
    unconfirmed = client.post("/social/x/disconnect", data={"csrf_token": csrf_from(client)})
    assert unconfirmed.status_code == 200 and account_row(app, clipper.id, "x").status == "connected"

    response = client.post("/social/x/disconnect", data={"csrf_token": csrf_from(client), "confirm": "yes"},
                           headers=PARTIAL)
    assert response.headers["HX-Redirect"] == "/me/accounts"
    row = account_row(app, clipper.id, "x")
    assert (row.status, row.access_token_sealed, row.refresh_token_sealed, row.platform_user_id, row.expires_at) == (
        "manual", None, None, None, None)
    assert row.handle == "x_star"
    assert credentials(app, clipper.id, "x") is None
    assert audit_actions(app, row.id) == ["social.account_connected", "social.account_disconnected"]
    assert client.get("/social/x/disconnect").status_code == 404


def test_another_clipper_can_neither_see_nor_disconnect_your_account(app, client, clipper, provider, login_as):
    connect(client, "instagram_reels")
    other = new_user(app, "clipper")
    other_client = login_as(other, on=app.test_client())
    assert "instagram_star" not in other_client.get("/me/accounts").get_data(as_text=True)
    assert other_client.get("/social/instagram_reels/disconnect").status_code == 404
    token = csrf_from(other_client)
    assert other_client.post("/social/instagram_reels/disconnect",
                             data={"csrf_token": token, "confirm": "yes"}).status_code == 404
    assert account_row(app, clipper.id, "instagram_reels").status == "connected"


@pytest.mark.parametrize("role", ["brand", "admin", "support"])
def test_only_clippers_use_the_social_routes(app, client, login_as, provider, role):
    login_as(new_user(app, role))
    token = csrf_from(client, HOMES[role])  # the sign-out form in the header carries one
    for method, path in [("post", "/social/x/connect"), ("get", "/social/x/callback?code=a&state=b"),
                         ("get", "/social/x/disconnect"), ("post", "/social/x/disconnect")]:
        data = {"csrf_token": token} if method == "post" else None
        assert getattr(client, method)(path, data=data).status_code == 403, (role, path)
    assert provider.calls("authorize") == [] and provider.calls("token") == []


def test_signed_out_visitors_are_sent_to_sign_in(client, provider):
    response = client.get("/social/x/disconnect")
    assert response.status_code == 302 and "/login" in response.headers["Location"]


def test_unknown_platform_is_404(client, clipper, provider):
    assert client.get("/social/myspace/disconnect").status_code == 404
    assert client.post("/social/myspace/connect", data={"csrf_token": csrf_from(client)}).status_code == 404


def test_a_platform_without_client_credentials_is_not_offered(app, client, clipper, provider, monkeypatch):
    monkeypatch.setitem(app.config, "X_CLIENT_SECRET", None)
    page = client.get("/me/accounts").get_data(as_text=True)
    assert "Connecting X is not available" in page and 'action="/social/x/connect"' not in page
    assert 'action="/social/tiktok/connect"' in page
    client.post("/social/x/connect", data={"csrf_token": csrf_from(client)})
    assert "Connecting X is not available right now" in flashes(client)
    assert provider.calls("authorize") == []
