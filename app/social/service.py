"""Connected social accounts: declared handles now, OAuth tokens in a follow-up.

Invariants:
- a clipper has at most one account per platform; declaring a handle again
  replaces it (the OAuth follow-up moves ``status`` to ``connected``);
- handles are normalised (``@`` stripped, lower-case) and checked against
  ``HANDLE`` before they are stored; bad input changes nothing;
- ``credentials_for`` is the only door to platform credentials: it returns
  ``None`` when a platform call is impossible (no connected account for the
  user-token platforms, no API key for YouTube), so the caller keeps the post on
  the manual queue; tokens are unsealed only here, never logged;
- ``handle_for`` is what ownership checks compare the platform's author with.
"""

from __future__ import annotations

import re

from flask import current_app, has_app_context
from sqlalchemy import select

from app.audit import service as audit
from app.db import utcnow
from app.errors import ValidationError
from app.extensions import db
from app.security import unseal
from app.social.models import SOCIAL_PLATFORMS, ConnectedAccount
from app.social.platforms import PlatformCredentials, platform_label

HANDLE = re.compile(r"^[a-z0-9._-]{1,100}$")
# Platforms whose API is called with the clipper's own token.
USER_TOKEN_PLATFORMS = frozenset({"tiktok", "instagram_reels", "x"})


def normalise_handle(handle: object) -> str:
    if not isinstance(handle, str):
        raise ValidationError("Enter your handle on that platform.", field="handle")
    value = handle.strip().lstrip("@").strip().lower()
    if not value:
        raise ValidationError("Enter your handle on that platform.", field="handle")
    if not HANDLE.fullmatch(value):
        raise ValidationError("A handle has only letters, digits, dots, dashes and underscores.", field="handle")
    return value


def _check_platform(platform: str) -> str:
    if platform not in SOCIAL_PLATFORMS:
        raise ValidationError("Choose TikTok, YouTube Shorts, Instagram Reels or X.", field="platform")
    return platform


def account_of(user_id: int, platform: str) -> ConnectedAccount | None:
    return db.session.scalar(select(ConnectedAccount).where(
        ConnectedAccount.user_id == user_id, ConnectedAccount.platform == platform))


def accounts_of(user_id: int) -> dict[str, ConnectedAccount]:
    rows = db.session.scalars(select(ConnectedAccount).where(ConnectedAccount.user_id == user_id))
    return {account.platform: account for account in rows}


def declare_handle(user_id: int, platform: str, handle: str) -> ConnectedAccount:
    """Record (or replace) the clipper's handle on ``platform``. Commits."""
    platform = _check_platform(platform)
    value = normalise_handle(handle)
    account = db.session.scalar(select(ConnectedAccount).where(
        ConnectedAccount.user_id == user_id, ConnectedAccount.platform == platform).with_for_update())
    if account is None:
        account = ConnectedAccount(user_id=user_id, platform=platform, handle=value, status="manual")
        db.session.add(account)
    elif account.handle != value:
        # A different handle is a different account: the old tokens no longer apply.
        account.handle = value
        account.platform_user_id = None
        account.access_token_sealed = account.refresh_token_sealed = None
        account.expires_at = None
        account.status = "manual"
    db.session.flush()
    audit.record(user_id, "social.handle_declared", "connected_account", account.id, platform=platform,
                 handle=value)
    db.session.commit()
    return account


def handle_for(user_id: int, platform: str) -> str | None:
    return db.session.scalar(select(ConnectedAccount.handle).where(
        ConnectedAccount.user_id == user_id, ConnectedAccount.platform == platform))


def _youtube_key() -> str | None:
    return current_app.config.get("YOUTUBE_API_KEY") if has_app_context() else None


def credentials_for(user_id: int, platform: str) -> PlatformCredentials | None:
    """What a metrics call for this clipper's post may use, or None when no call is possible."""
    account = account_of(user_id, platform)
    if platform not in USER_TOKEN_PLATFORMS:
        if not _youtube_key():
            return None
        return PlatformCredentials(platform_user_id=account.platform_user_id if account else None)
    if account is None or account.status != "connected" or not account.access_token_sealed:
        return None
    if account.expires_at is not None and account.expires_at <= utcnow():
        return None
    return PlatformCredentials(access_token=unseal(account.access_token_sealed),
                               platform_user_id=account.platform_user_id)


def manual_reason(user_id: int, platform: str) -> str:
    """Why a post on ``platform`` is checked by hand (shown on the queue and to the clipper)."""
    label = platform_label(platform)
    if platform not in USER_TOKEN_PLATFORMS:
        return f"No {label} API key is configured, so this post is verified by hand."
    return f"The clipper's {label} account is not connected, so this post is verified by hand."
