"""OAuth 2.0 gateway: connect a clipper's TikTok, YouTube, Instagram or X account (authlib).

Invariants:
- one authlib Flask client per platform, registered in the app's ``OAuth`` registry
  (``app.extensions``) from ``<PLATFORM>_CLIENT_ID`` / ``_CLIENT_SECRET``; a platform
  without both is not available (``available_platforms``) and gets no client;
- every authorize/token/userinfo URL is the platform's real one, unless
  ``SOCIAL_OAUTH_BASE`` is set: then it is ``<base>/<platform>/<endpoint>``;
- every authorization carries ``state`` and a PKCE S256 challenge (authlib keeps the
  verifier in the session); the state data also names the clipper who started it, and
  ``finish_authorization`` refuses a callback whose state this session does not hold or
  that another user started — before any call to the provider; a session holds at most
  one pending sign-in per platform (starting again replaces it), so the cookie stays small;
- every outside call has a timeout; failures reach callers as ``ConnectionFailedError``
  (a DomainError with a message for the clipper), ``RefreshRejectedError`` (the provider
  says the grant is dead: reconnect) or ``ProviderUnavailableError`` (network, 5xx, a
  garbled answer: try again later);
- tokens leave this module only inside ``TokenSet``; nothing here stores or logs them.

Each platform's settings and quirks are data in its registry entry
(``social.platforms.registry.OAuthSpec``); reading the userinfo answer is its client
module's ``oauth_account``. The quirks supported: TikTok names the client id ``client_key`` (in the authorize
URL and the token body) and separates scopes by commas; Google needs
``access_type=offline`` + ``prompt=consent`` to hand out a refresh token; Instagram answers
the code exchange as ``{"data": [token]}``, gives a one-hour token that we trade for a
60-day one, and refreshes by access token (``ig_refresh_token``), not by refresh token;
X wants HTTP Basic client authentication and PKCE.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

import requests
from authlib.common.urls import add_params_to_qs
from authlib.integrations.base_client import OAuthError
from flask import current_app, request, session

from app.errors import DomainError
from app.social.platforms import client as platform_client
from app.social.platforms import platform_label, registry
from app.social.platforms.registry import OAuthSpec

TIMEOUT = (3.05, 10)  # connect, read (seconds)
_CLIENTS = "social_oauth_clients"


class ConnectionFailedError(DomainError):
    """Connecting did not work; the message tells the clipper what happened and what to do."""

    status_code = 400
    title = "Not connected"


class PlatformNotAvailableError(DomainError):
    status_code = 404
    title = "Not available"


class RefreshRejectedError(Exception):
    """The provider refused the refresh (invalid_grant, revoked app): the clipper must reconnect."""


class ProviderUnavailableError(Exception):
    """The provider could not be reached or answered 5xx / nonsense: try again later."""


@dataclass(frozen=True)
class TokenSet:
    access_token: str
    refresh_token: str | None
    expires_at: datetime | None

    def __repr__(self) -> str:  # never print a token by accident
        return f"TokenSet(expires_at={self.expires_at!r})"


@dataclass(frozen=True)
class ProviderAccount:
    platform_user_id: str
    handle: str
    tokens: TokenSet


# The OAuth settings of every platform come from the registry (``OAuthSpec`` per entry).
SPECS: dict[str, OAuthSpec] = {platform.key: platform.oauth for platform in registry.REGISTRY}


def _credentials(config, spec: OAuthSpec) -> tuple[str, str] | None:
    client_id = config.get(f"{spec.settings_prefix}_CLIENT_ID")
    secret = config.get(f"{spec.settings_prefix}_CLIENT_SECRET")
    return (client_id, secret) if client_id and secret else None


def available_platforms(config=None) -> frozenset[str]:
    """Platforms a clipper can connect with the configured client credentials."""
    config = config if config is not None else current_app.config
    return frozenset(p for p, spec in SPECS.items() if _credentials(config, spec))


def endpoint(platform: str, name: str, config=None) -> str:
    config = config if config is not None else current_app.config
    base = config.get("SOCIAL_OAUTH_BASE")
    if base:
        return f"{base.rstrip('/')}/{platform}/{name}"
    return SPECS[platform].urls[name]


def _client_key_in_body(auth, method, uri, headers, body):
    """TikTok's token endpoint wants ``client_key`` + ``client_secret`` in the form body."""
    body = add_params_to_qs(body or "", [("client_key", auth.client_id), ("client_secret", auth.client_secret)])
    return uri, headers, body


def _unwrap_data_token(session) -> None:
    def unwrap(response):
        try:
            body = response.json()
        except ValueError:
            return response
        if isinstance(body, dict) and isinstance(body.get("data"), list) and body["data"]:
            response._content = json.dumps(body["data"][0]).encode()
        return response

    session.register_compliance_hook("access_token_response", unwrap)


def _client_settings(platform: str, config) -> dict:
    spec = SPECS[platform]
    client_id, secret = _credentials(config, spec)
    settings = dict(
        client_id=client_id, client_secret=secret,
        authorize_url=endpoint(platform, "authorize", config), access_token_url=endpoint(platform, "token", config),
        authorize_params=dict(spec.authorize_params) or None,
        client_kwargs={"scope": spec.scope, "code_challenge_method": "S256",
                       "token_endpoint_auth_method": spec.client_auth_method},
    )
    if spec.client_auth_method == "client_key_in_body":
        settings["client_auth_methods"] = [("client_key_in_body", _client_key_in_body)]
    if spec.token_wrapped_in_data:
        settings["compliance_fix"] = _unwrap_data_token
    return settings


def client_for(platform: str):
    """The registered authlib client for ``platform`` (re-registered if its settings changed)."""
    if platform not in SPECS or platform not in available_platforms():
        raise PlatformNotAvailableError(f"Connecting {platform_label(platform)} is not available right now.")
    app = current_app._get_current_object()
    registry = app.extensions["authlib.integrations.flask_client"]
    settings = _client_settings(platform, app.config)
    fingerprint = repr(sorted((k, repr(v)) for k, v in settings.items()))
    cached = app.extensions.setdefault(_CLIENTS, {})
    if platform in cached and cached[platform][0] == fingerprint:
        return cached[platform][1]
    # authlib caches a client per name and register() does not replace it: drop the stale one.
    registry._clients.pop(platform, None)
    client = registry.register(platform, **settings)
    cached[platform] = (fingerprint, client)
    return client


def _rename_query_param(url: str, old: str, new: str) -> str:
    parts = urlsplit(url)
    query = [(new if key == old else key, value) for key, value in parse_qsl(parts.query, keep_blank_values=True)]
    return urlunsplit(parts._replace(query=urlencode(query)))


def start_authorization(platform: str, user_id: int, redirect_uri: str) -> str:
    """The provider's authorize URL; remembers state, PKCE verifier and ``user_id`` in the session."""
    client = client_for(platform)
    authorization = client.create_authorization_url(redirect_uri)
    url = authorization["url"]
    if SPECS[platform].client_id_param != "client_id":
        url = _rename_query_param(url, "client_id", SPECS[platform].client_id_param)
    # The session is a cookie: keep one pending sign-in per platform, and keep it small.
    for key in [key for key in session if key.startswith(f"_state_{platform}_")]:
        session.pop(key)
    client.save_authorize_data(redirect_uri=redirect_uri, user_id=user_id, platform=platform,
                               state=authorization["state"], code_verifier=authorization["code_verifier"])
    return url


def _expires_at(token: dict) -> datetime | None:
    if token.get("expires_at"):
        return datetime.fromtimestamp(int(token["expires_at"]), UTC)
    if token.get("expires_in"):
        return datetime.now(UTC) + timedelta(seconds=int(token["expires_in"]))
    return None


def _token_set(token: dict, keep_refresh: str | None = None) -> TokenSet:
    access = token.get("access_token")
    if not access or not isinstance(access, str):
        raise ProviderUnavailableError("no access_token in the provider's answer")
    return TokenSet(access, token.get("refresh_token") or keep_refresh, _expires_at(token))


def finish_authorization(platform: str, user_id: int) -> ProviderAccount:
    """Handle the provider's redirect back: check state and user, trade the code, read the account."""
    label = platform_label(platform)
    client = client_for(platform)
    state = request.args.get("state")
    data = client.framework.get_state_data(session, state) if state else None
    if not data or data.get("user_id") != user_id or data.get("platform") != platform:
        if state:
            client.framework.clear_state_data(session, state)
        raise ConnectionFailedError(
            f"That {label} sign-in was not started from this session. Start again from your accounts page.")
    if request.args.get("error"):
        client.framework.clear_state_data(session, state)
        if request.args["error"] == "access_denied":
            raise ConnectionFailedError(f"You did not allow access on {label}, so nothing was connected.")
        raise ConnectionFailedError(f"{label} did not connect your account ({request.args['error']}). Try again.")
    try:
        token = client.authorize_access_token(timeout=TIMEOUT)
        tokens = _token_set(token)
        if SPECS[platform].refresh_by_access_token:
            tokens = _long_lived_token_call(platform, "exchange", {"grant_type": "ig_exchange_token",
                                                        "client_secret": client.client_secret,
                                                        "access_token": tokens.access_token})
        platform_user_id, handle = _read_account(platform, client, tokens.access_token)
    except OAuthError as exc:
        raise ConnectionFailedError(f"{label} refused the sign-in ({exc.error or 'error'}). Try again.") from None
    except (ProviderUnavailableError, RefreshRejectedError, requests.RequestException, ValueError, KeyError,
            TypeError):
        raise ConnectionFailedError(f"{label} is not answering properly right now. Try again in a few minutes.") \
            from None
    return ProviderAccount(platform_user_id, handle, tokens)


def _read_account(platform: str, client, access_token: str) -> tuple[str, str]:
    """(platform user id, handle) from the provider's userinfo endpoint."""
    response = client.get(endpoint(platform, "userinfo"), token={"access_token": access_token, "token_type": "Bearer"},
                          params=SPECS[platform].userinfo_params, timeout=TIMEOUT, allow_redirects=False)
    if response.status_code >= 500:
        raise ProviderUnavailableError(f"userinfo answered {response.status_code}")
    response.raise_for_status()
    account = platform_client(platform).oauth_account(response.json())
    if account is None:
        raise ConnectionFailedError(SPECS[platform].no_account_message)
    return account


def _long_lived_token_call(platform: str, name: str, params: dict) -> TokenSet:
    """Instagram's long-lived token exchange and refresh (GET, token in the query, no refresh token)."""
    try:
        response = requests.get(endpoint(platform, name), params=params, timeout=TIMEOUT,
                                allow_redirects=False)
    except requests.RequestException as exc:
        raise ProviderUnavailableError(type(exc).__name__) from None
    if response.status_code >= 500:
        raise ProviderUnavailableError(f"{platform_label(platform)} answered {response.status_code}")
    try:
        body = response.json()
    except ValueError:
        raise ProviderUnavailableError(f"{platform_label(platform)} answered something that is not JSON") from None
    if response.status_code >= 400 or not isinstance(body, dict) or "error" in body:
        raise RefreshRejectedError(f"{platform_label(platform)} refused the token")
    return _token_set(body)


def refresh(platform: str, refresh_token: str | None, access_token: str | None) -> TokenSet:
    """New tokens for a connected account (refresh_token grant; Instagram: ``ig_refresh_token``)."""
    if SPECS[platform].refresh_by_access_token:
        if not access_token:
            raise RefreshRejectedError("no token to refresh")
        return _long_lived_token_call(platform, "refresh",
                                      {"grant_type": "ig_refresh_token", "access_token": access_token})
    if not refresh_token:
        raise RefreshRejectedError("no refresh token")
    client = client_for(platform)
    try:
        token = client.fetch_access_token(grant_type="refresh_token", refresh_token=refresh_token, timeout=TIMEOUT)
    except OAuthError as exc:
        if exc.error in ("invalid_grant", "invalid_client", "unauthorized_client", "invalid_scope"):
            raise RefreshRejectedError(exc.error) from None
        raise ProviderUnavailableError(exc.error or "oauth error") from None
    except requests.HTTPError as exc:
        status = exc.response.status_code if exc.response is not None else None
        if status is not None and status < 500 and status not in (408, 429):
            raise RefreshRejectedError(f"HTTP {status}") from None
        raise ProviderUnavailableError(f"HTTP {status}") from None
    except (requests.RequestException, ValueError) as exc:
        raise ProviderUnavailableError(type(exc).__name__) from None
    return _token_set(token, keep_refresh=refresh_token)
