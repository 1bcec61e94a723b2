"""A local OAuth 2.0 provider standing in for TikTok, Google (YouTube), Instagram and X.

Served by a threaded werkzeug server; every platform lives under ``/<platform>/`` (the
app's ``SOCIAL_OAUTH_BASE`` points here). It behaves like the real ones where we rely on it:

- ``authorize``: checks client id (TikTok: ``client_key``), redirect URI, scope, state and an
  S256 PKCE challenge, then auto-consents (or denies, when told) by redirecting back;
- ``token``: authorization_code (single-use code, same redirect URI, PKCE verifier checked
  against the challenge) and refresh_token (rotating: the old one dies); client
  authentication as each platform does it (TikTok body ``client_key``, X HTTP Basic, the
  others body ``client_id``); injected faults: ``invalid_grant``, any HTTP status, slow;
- ``userinfo`` in each platform's own shape, for a valid bearer token only;
- Instagram's ``exchange`` (short -> long-lived) and ``refresh`` (``ig_refresh_token``).
"""

from __future__ import annotations

import base64
import hashlib
import json
import secrets
import threading
import time
from urllib.parse import urlencode

from werkzeug.serving import make_server
from werkzeug.wrappers import Request, Response

from app.social.platforms.registry import REGISTRY

CLIENTS = {
    "tiktok": ("tt-client-key", "tt-secret"),
    "youtube_shorts": ("yt-client.apps.googleusercontent.com", "yt-secret"),
    "instagram_reels": ("ig-app-id", "ig-secret"),
    "x": ("x-client-id", "x-secret"),
}
SCOPES = {
    "tiktok": "user.info.basic,user.info.profile,video.list",
    "youtube_shorts": "https://www.googleapis.com/auth/youtube.readonly",
    "instagram_reels": "instagram_business_basic",
    "x": "tweet.read users.read offline.access",
}
SETTINGS_PREFIX = {platform.key: platform.oauth.settings_prefix for platform in REGISTRY}
assert set(CLIENTS) == set(SETTINGS_PREFIX), "the fake provider serves every registered platform"


def s256(verifier: str) -> str:
    return base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()


class LocalOAuthProvider:
    def __init__(self):
        self._lock = threading.Lock()
        self.server = make_server("127.0.0.1", 0, self.wsgi, threaded=True)
        self.url = f"http://127.0.0.1:{self.server.server_port}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.reset()

    # --- control ------------------------------------------------------------------
    def reset(self) -> None:
        with self._lock:
            self.users = {p: {"id": f"{p}-user-1", "username": f"{p.split('_')[0]}_star"} for p in CLIENTS}
            self.codes: dict[str, dict] = {}
            self.access_tokens: dict[str, tuple[str, str]] = {}  # token -> (platform, user id)
            self.refresh_tokens: dict[str, tuple[str, str]] = {}
            self.faults: list = []  # "invalid_grant" | int status | ("slow", seconds)
            self.deny_next = False
            self.expires_in = 3600
            self.requests: list[tuple[str, str, dict]] = []  # (platform, endpoint, params)

    def config(self) -> dict:
        """App settings (and, as strings, worker environment) pointing the app at this provider."""
        values = {"SOCIAL_OAUTH_BASE": self.url}
        for platform, (client_id, secret) in CLIENTS.items():
            values[f"{SETTINGS_PREFIX[platform]}_CLIENT_ID"] = client_id
            values[f"{SETTINGS_PREFIX[platform]}_CLIENT_SECRET"] = secret
        return values

    def fail_next(self, *faults) -> None:
        with self._lock:
            self.faults.extend(faults)

    def issue(self, platform: str, user_id: str | None = None) -> dict:
        """Tokens as if the user had connected earlier (for refresh tests)."""
        with self._lock:
            return self._issue(platform, user_id or self.users[platform]["id"])

    def revoke_refresh_tokens(self) -> None:
        with self._lock:
            self.refresh_tokens.clear()

    def calls(self, endpoint: str) -> list[tuple[str, str, dict]]:
        with self._lock:
            return [r for r in self.requests if r[1] == endpoint]

    def start(self):
        self.thread.start()
        return self

    def stop(self):
        self.server.shutdown()

    # --- HTTP ---------------------------------------------------------------------
    def wsgi(self, environ, start_response):
        request = Request(environ)
        parts = request.path.strip("/").split("/")
        if len(parts) != 2 or parts[0] not in CLIENTS:
            return Response("not found", 404)(environ, start_response)
        platform, name = parts
        params = request.form.to_dict() if request.method == "POST" else request.args.to_dict()
        with self._lock:
            self.requests.append((platform, name, params))
        handler = getattr(self, f"_{name}", None)
        response = handler(platform, request) if handler else Response("not found", 404)
        return response(environ, start_response)

    @staticmethod
    def _json(body, status: int = 200) -> Response:
        return Response(json.dumps(body), status=status, content_type="application/json")

    def _oauth_error(self, error: str, status: int = 400) -> Response:
        return self._json({"error": error, "error_description": f"local provider: {error}"}, status)

    def _fault(self) -> Response | None:
        with self._lock:
            fault = self.faults.pop(0) if self.faults else None
        if fault is None:
            return None
        if isinstance(fault, tuple) and fault[0] == "slow":
            time.sleep(fault[1])
            return None
        if fault == "invalid_grant":
            return self._oauth_error("invalid_grant")
        return Response("upstream failure", status=int(fault), content_type="text/plain")

    def _issue(self, platform: str, user_id: str) -> dict:
        access, refresh = f"at-{secrets.token_urlsafe(18)}", f"rt-{secrets.token_urlsafe(18)}"
        self.access_tokens[access] = (platform, user_id)
        if platform != "instagram_reels":
            self.refresh_tokens[refresh] = (platform, user_id)
        return {"access_token": access, "refresh_token": refresh, "expires_in": self.expires_in,
                "token_type": "Bearer", "scope": SCOPES[platform]}

    def _authorize(self, platform: str, request: Request) -> Response:
        args = request.args
        client_id = CLIENTS[platform][0]
        given = args.get("client_key") if platform == "tiktok" else args.get("client_id")
        if given != client_id or (platform == "tiktok" and "client_id" in args):
            return Response("unknown client", 400)
        if args.get("response_type") != "code" or not args.get("redirect_uri") or not args.get("state"):
            return Response("bad authorization request", 400)
        if args.get("scope") != SCOPES[platform]:
            return Response(f"bad scope {args.get('scope')!r}", 400)
        if args.get("code_challenge_method") != "S256" or not args.get("code_challenge"):
            return Response("PKCE S256 required", 400)
        redirect_uri = args["redirect_uri"]
        with self._lock:
            deny, self.deny_next = self.deny_next, False
            if deny:
                query = {"error": "access_denied", "error_description": "The user denied access",
                         "state": args["state"]}
            else:
                code = secrets.token_urlsafe(16)
                self.codes[code] = {"platform": platform, "redirect_uri": redirect_uri,
                                    "challenge": args["code_challenge"], "user_id": self.users[platform]["id"]}
                query = {"code": code, "state": args["state"]}
        return Response(status=302, headers={"Location": f"{redirect_uri}?{urlencode(query)}"})

    def _client_ok(self, platform: str, request: Request) -> bool:
        client_id, secret = CLIENTS[platform]
        if platform == "x":
            header = request.headers.get("Authorization", "")
            return header.startswith("Basic ") and base64.b64decode(header[6:]).decode() == f"{client_id}:{secret}"
        key = "client_key" if platform == "tiktok" else "client_id"
        return request.form.get(key) == client_id and request.form.get("client_secret") == secret

    def _token(self, platform: str, request: Request) -> Response:
        if request.method != "POST":
            return Response("method not allowed", 405)
        fault = self._fault()
        if fault is not None:
            return fault
        if not self._client_ok(platform, request):
            return self._oauth_error("invalid_client", 401)
        form = request.form
        with self._lock:
            if form.get("grant_type") == "authorization_code":
                grant = self.codes.pop(form.get("code", ""), None)  # single use, also when wrong
                if (grant is None or grant["platform"] != platform or grant["redirect_uri"] != form.get("redirect_uri")
                        or not form.get("code_verifier") or s256(form["code_verifier"]) != grant["challenge"]):
                    return self._oauth_error("invalid_grant")
                tokens = self._issue(platform, grant["user_id"])
            elif form.get("grant_type") == "refresh_token":
                owner = self.refresh_tokens.pop(form.get("refresh_token", ""), None)  # rotation
                if owner is None or owner[0] != platform:
                    return self._oauth_error("invalid_grant")
                tokens = self._issue(platform, owner[1])
            else:
                return self._oauth_error("unsupported_grant_type")
        if platform == "instagram_reels":  # short-lived token, no refresh token, wrapped in data
            return self._json({"data": [{"access_token": tokens["access_token"], "user_id": self._user(tokens),
                                         "permissions": SCOPES[platform]}]})
        if platform == "tiktok":
            tokens.update(open_id=self._user(tokens), refresh_expires_in=31536000)
        return self._json(tokens)

    def _user(self, tokens: dict) -> str:
        return self.access_tokens[tokens["access_token"]][1]

    def _bearer(self, platform: str, request: Request) -> str | None:
        header = request.headers.get("Authorization", "")
        token = header[7:] if header.startswith("Bearer ") else request.args.get("access_token", "")
        with self._lock:
            owner = self.access_tokens.get(token)
        return owner[1] if owner and owner[0] == platform else None

    def _userinfo(self, platform: str, request: Request) -> Response:
        user_id = self._bearer(platform, request)
        if user_id is None:
            return self._json({"error": {"message": "invalid token"}}, 401)
        username = self.users[platform]["username"] if self.users[platform]["id"] == user_id else "someone"
        if platform == "tiktok":
            return self._json({"data": {"user": {"open_id": user_id, "username": username, "display_name": "Star"}},
                               "error": {"code": "ok", "message": ""}})
        if platform == "youtube_shorts":
            return self._json({"items": [{"id": user_id, "snippet": {"title": "Star", "customUrl": f"@{username}"}}]})
        if platform == "instagram_reels":
            return self._json({"id": user_id, "user_id": user_id, "username": username})
        return self._json({"data": {"id": user_id, "name": "Star", "username": username}})

    def _long_lived(self, request: Request, grant_type: str, needs_secret: bool) -> Response:
        fault = self._fault()
        if fault is not None:
            return fault
        args = request.args
        if args.get("grant_type") != grant_type or (needs_secret and args.get("client_secret") != CLIENTS[
                "instagram_reels"][1]):
            return self._json({"error": {"message": "bad request", "type": "OAuthException", "code": 100}}, 400)
        user_id = self._bearer("instagram_reels", request)
        if user_id is None:
            return self._json({"error": {"message": "Invalid OAuth access token", "type": "OAuthException",
                                         "code": 190}}, 400)
        with self._lock:
            token = f"ig-long-{secrets.token_urlsafe(18)}"
            self.access_tokens[token] = ("instagram_reels", user_id)
        return self._json({"access_token": token, "token_type": "bearer", "expires_in": 5184000})

    def _exchange(self, platform: str, request: Request) -> Response:
        return self._long_lived(request, "ig_exchange_token", needs_secret=True)

    def _refresh(self, platform: str, request: Request) -> Response:
        return self._long_lived(request, "ig_refresh_token", needs_secret=False)
