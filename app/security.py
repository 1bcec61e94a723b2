"""Security at the edges: response headers, role guards, safe redirects.

Invariants:
- every response carries the CSP (no inline script, no eval, no framing) and
  the other hardening headers; HSTS only when the request came over HTTPS;
  the only other origin the CSP names is the S3 endpoint the browser uploads to
  (connect-src, form-action), and only when STORAGE_BACKEND=s3;
- ``safe_next`` returns a local path or the fallback — never another origin,
  whatever mix of slashes, backslashes, schemes or control characters it gets;
- role checks run on the server for every request; HX-* headers never authorise;
- ``seal``/``unseal`` keep secrets (TOTP seeds, OAuth tokens, codes in flight)
  encrypted with the TOKEN_ENCRYPTION_KEY keys (first one encrypts, all decrypt).
"""

from __future__ import annotations

import base64
import hashlib
import re
from collections.abc import Callable
from functools import wraps
from urllib.parse import unquote, urlsplit

from cryptography.fernet import Fernet, MultiFernet
from flask import Flask, abort, current_app, request
from flask_login import current_user


def content_security_policy(upload_origins: tuple[str, ...] = ()) -> str:
    """The CSP; ``upload_origins`` (the S3 endpoint) may receive uploads from the browser."""
    extra = "".join(f" {origin}" for origin in upload_origins)
    return "; ".join(
        [
            "default-src 'self'",
            "script-src 'self'",
            "style-src 'self'",
            "img-src 'self' data: blob:",
            "font-src 'self'",
            f"connect-src 'self'{extra}",
            "media-src 'self' blob:",
            "manifest-src 'self'",
            "worker-src 'self'",
            "object-src 'none'",
            "base-uri 'self'",
            f"form-action 'self'{extra}",
            "frame-ancestors 'none'",
        ]
    )


CSP = content_security_policy()

SECURITY_HEADERS = {
    "Content-Security-Policy": CSP,
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "strict-origin-when-cross-origin",
    "Permissions-Policy": "camera=(), microphone=(), geolocation=(), payment=()",
    "Cross-Origin-Opener-Policy": "same-origin",
}
HSTS = "max-age=63072000; includeSubDomains"


def register_security_headers(app: Flask, upload_origins: tuple[str, ...] = ()) -> None:
    """Add the headers to every response; ``upload_origins`` (from storage, given by ``create_app``
    so this core module never imports a domain) are allowed as upload targets in the CSP."""
    headers = {**SECURITY_HEADERS, "Content-Security-Policy": content_security_policy(upload_origins)}

    @app.after_request
    def add_security_headers(response):
        for name, value in headers.items():
            response.headers.setdefault(name, value)
        if request.is_secure:
            response.headers.setdefault("Strict-Transport-Security", HSTS)
        return response


_CONTROL = re.compile(r"[\x00-\x1f\x7f]")


def safe_next(target: str | None, fallback: str = "/") -> str:
    """Return ``target`` if it is a path on this site, else ``fallback``."""
    if not target or not isinstance(target, str) or len(target) > 2048:
        return fallback
    # Also when percent-encoded: a layer that decodes once (a proxy, a logger,
    # a second redirect) must not meet a CR/LF it can split a header on.
    if _CONTROL.search(target) or _CONTROL.search(unquote(target)):
        return fallback
    # Browsers treat backslashes as slashes: "/\\evil.example" is "//evil.example".
    normalised = target.replace("\\", "/")
    if not normalised.startswith("/") or normalised.startswith("//"):
        return fallback
    parts = urlsplit(normalised)
    if parts.scheme or parts.netloc:
        return fallback
    return target if target == normalised else fallback


def role_required(*roles: str) -> Callable:
    """Allow the view only to signed-in users with one of ``roles`` (403 otherwise)."""
    allowed = frozenset(roles)

    def decorator(view: Callable) -> Callable:
        @wraps(view)
        def wrapper(*args, **kwargs):
            if not current_user.is_authenticated:
                from app.extensions import login_manager

                return login_manager.unauthorized()
            if current_user.role not in allowed:
                abort(403)
            return view(*args, **kwargs)

        return wrapper

    return decorator


def _fernet_keys(app: Flask) -> list[bytes]:
    configured = app.config.get("TOKEN_ENCRYPTION_KEY")
    if configured:
        return [key.strip().encode() for key in configured.split(",") if key.strip()]
    # Embedded mode: a key derived from SECRET_KEY (rotate SECRET_KEY -> re-enrol).
    digest = hashlib.sha256(b"contentflow-seal:" + app.config["SECRET_KEY"].encode()).digest()
    return [base64.urlsafe_b64encode(digest)]


def _box() -> MultiFernet:
    app = current_app._get_current_object()
    box = app.extensions.get("contentflow_seal")
    if box is None:
        box = app.extensions["contentflow_seal"] = MultiFernet([Fernet(k) for k in _fernet_keys(app)])
    return box


def seal(plaintext: str) -> str:
    """Encrypt a secret for storage (Fernet: AES-CBC + HMAC; first key encrypts)."""
    return _box().encrypt(plaintext.encode()).decode()


def unseal(token: str, *, max_age: int | None = None) -> str:
    """Decrypt what ``seal`` made; raises ``InvalidToken`` if tampered or older than max_age."""
    if max_age is None:
        return _box().decrypt(token.encode()).decode()
    return _box().decrypt(token.encode(), ttl=max_age).decode()
