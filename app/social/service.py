"""Connected social accounts: declared handles, OAuth connections, token refresh.

Invariants:
- a clipper has at most one account per platform; declaring a handle again
  replaces it; connecting by OAuth moves ``status`` to ``connected``; a platform
  account (its platform user id) is connected to at most one clipper;
- every status change (OAuth, disconnect, a replaced handle) goes through ``move_status``:
  the row is locked (``FOR UPDATE``), the move is checked against ``TRANSITIONS`` and an
  audit event is written in the same transaction; each public function commits once;
- a failed connection (denied consent, bad state, provider down) changes nothing;
- tokens are sealed before they touch the session; disconnecting wipes them;
- a token refresh holds the row lock across the provider call and re-checks that the
  token is still due, so concurrent or repeated refresh jobs refresh once (rotating
  refresh tokens are never spent twice); a refused grant moves the account to
  ``expired`` and tells the clipper; an unreachable provider changes nothing and is
  raised for the job to retry;
- a scheduler claims each due account for the current slot with one conditional
  UPDATE of ``refresh_slot``, so concurrent schedulers enqueue it once per slot;
- handles are normalised (``@`` stripped, lower-case) and checked against
  ``HANDLE`` before they are stored; bad input changes nothing;
- ``credentials_for`` is the only door to platform credentials: it returns
  ``None`` when a platform call is impossible (no connected account for the
  user-token platforms, no API key for YouTube), so the caller keeps the post on
  the manual queue; tokens are unsealed only here, never logged;
- ``handle_for`` is what ownership checks compare the platform's author with.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from datetime import datetime, timedelta

from flask import current_app, has_app_context
from sqlalchemy import or_, select, update
from sqlalchemy.exc import IntegrityError

from app import jobs
from app.audit import service as audit
from app.db import utcnow
from app.errors import ConflictError, NotFoundError, ValidationError
from app.extensions import db
from app.security import seal, unseal
from app.social import oauth
from app.social.models import SOCIAL_PLATFORMS, ConnectedAccount
from app.social.platforms import USER_TOKEN_PLATFORMS, PlatformCredentials, platform_label, registry

HANDLE = re.compile(r"^[a-z0-9._-]{1,100}$")


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
        raise ValidationError(f"Choose {registry.label_list()}.", field="platform")
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
        if account.status != "manual":
            move_status(account, "manual", user_id, "social.handle_replaced")
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


# --- OAuth connections -----------------------------------------------------------------

TRANSITIONS = {
    "manual": frozenset({"connected"}),
    "connected": frozenset({"connected", "expired", "manual"}),  # reconnect, grant refused, disconnect
    "expired": frozenset({"connected", "manual"}),
}
REFRESH_SLOT_SECONDS = 300  # matches the scheduler's interval in app.jobs.PERIODIC_JOBS
REFRESH_BATCH_SIZE = 25
# Each refresh may wait out the provider's timeouts (~13 s) while holding its row lock.
REFRESH_JOB_TIMEOUT = REFRESH_BATCH_SIZE * 14 + 30


@dataclass(frozen=True)
class ConnectionResult:
    platform: str
    handle: str
    replaced_handle: str | None  # the declared handle the provider's one replaced, if different


def _locked_account(user_id: int, platform: str) -> ConnectedAccount | None:
    return db.session.scalar(select(ConnectedAccount).where(
        ConnectedAccount.user_id == user_id, ConnectedAccount.platform == platform).with_for_update())


def move_status(account: ConnectedAccount, new_status: str, actor_id: int | None, action: str, **data) -> None:
    """The one place an account's status changes: lock, check ``TRANSITIONS``, audit. Does not commit."""
    db.session.execute(select(ConnectedAccount.id).where(ConnectedAccount.id == account.id).with_for_update())
    old_status = account.status
    if new_status not in TRANSITIONS[old_status]:
        raise ConflictError(f"This account cannot go from {old_status} to {new_status}.")
    account.status = new_status
    audit.record(actor_id, action, "connected_account", account.id, platform=account.platform,
                 from_status=old_status, to_status=new_status, **data)


def allowed_actions(account: ConnectedAccount | None, user) -> frozenset[str]:
    """What ``user`` may do with the connection of ``account`` now (derived from ``TRANSITIONS``)."""
    if account is None or user is None or account.user_id != getattr(user, "id", None):
        return frozenset()
    moves = TRANSITIONS[account.status]
    actions = set()
    if "manual" in moves and account.status != "manual":
        actions.add("disconnect")
    if "connected" in moves and account.status == "expired":
        actions.add("reconnect")
    return frozenset(actions)


def connectable_platforms() -> frozenset[str]:
    return oauth.available_platforms()


def begin_connection(user_id: int, platform: str, redirect_uri: str) -> str:
    """The provider URL to send the clipper to (state and PKCE verifier kept in the session)."""
    return oauth.start_authorization(_check_platform(platform), user_id, redirect_uri)


def complete_connection(user_id: int, platform: str) -> ConnectionResult:
    """Finish the provider's callback: store the account's id, handle and sealed tokens. Commits."""
    platform = _check_platform(platform)
    label = platform_label(platform)
    provider = oauth.finish_authorization(platform, user_id)  # raises before anything is stored
    try:
        handle = normalise_handle(provider.handle)
    except ValidationError:
        raise oauth.ConnectionFailedError(f"{label} gave us a handle we cannot use. Contact support.") from None
    taken = db.session.scalar(select(ConnectedAccount.id).where(
        ConnectedAccount.platform == platform, ConnectedAccount.platform_user_id == provider.platform_user_id,
        ConnectedAccount.user_id != user_id))
    if taken is not None:
        raise ConflictError(f"That {label} account is already connected to another ContentFlow clipper.")
    account = _locked_account(user_id, platform)
    if account is None:
        account = ConnectedAccount(user_id=user_id, platform=platform, handle=handle, status="manual")
        db.session.add(account)
        db.session.flush()
    replaced = account.handle if account.handle != handle else None
    account.handle = handle
    account.platform_user_id = provider.platform_user_id
    account.access_token_sealed = seal(provider.tokens.access_token)
    account.refresh_token_sealed = seal(provider.tokens.refresh_token) if provider.tokens.refresh_token else None
    account.expires_at = provider.tokens.expires_at
    account.refresh_slot = None
    move_status(account, "connected", user_id, "social.account_connected", handle=handle, replaced_handle=replaced)
    try:
        db.session.commit()
    except IntegrityError:  # another clipper connected the same platform account a moment ago
        db.session.rollback()
        raise ConflictError(f"That {label} account is already connected to another ContentFlow clipper.") from None
    return ConnectionResult(platform, handle, replaced)


def disconnect_account(user_id: int, platform: str) -> None:
    """Wipe the clipper's tokens for ``platform``; the handle stays, checked by hand again. Commits."""
    platform = _check_platform(platform)
    account = _locked_account(user_id, platform)
    if account is None or account.status == "manual":
        db.session.rollback()
        raise NotFoundError(f"You have no connected {platform_label(platform)} account.")
    account.access_token_sealed = account.refresh_token_sealed = None
    account.platform_user_id = None
    account.expires_at = None
    account.refresh_slot = None
    move_status(account, "manual", user_id, "social.account_disconnected")
    db.session.commit()


# --- Token refresh ---------------------------------------------------------------------

def _refresh_ahead() -> timedelta:
    return timedelta(seconds=int(current_app.config.get("SOCIAL_REFRESH_AHEAD") or 1800))


# Platforms that refresh by access token (no refresh token stored): Instagram.
_REFRESH_BY_ACCESS_TOKEN = tuple(p.key for p in registry.REGISTRY if p.oauth.refresh_by_access_token)


def _refreshable():
    return or_(ConnectedAccount.refresh_token_sealed.is_not(None),
               ConnectedAccount.platform.in_(_REFRESH_BY_ACCESS_TOKEN))


def refresh_slot(now: datetime) -> str:
    start = int(now.timestamp()) // REFRESH_SLOT_SECONDS * REFRESH_SLOT_SECONDS
    return datetime.fromtimestamp(start, now.tzinfo).strftime("%Y%m%dT%H%M")


def refresh_job_id(slot: str, account_ids: list[int]) -> str:
    digest = hashlib.sha256(",".join(map(str, sorted(account_ids))).encode()).hexdigest()[:16]
    return jobs.job_id("social_refresh", slot, digest)


def schedule_token_refreshes(now: datetime | None = None) -> int:
    """Claim every connected account whose token expires soon for this slot and enqueue
    refresh jobs in batches; returns how many accounts were claimed. Commits."""
    now = now or utcnow()
    slot = refresh_slot(now)
    claimed = sorted(db.session.scalars(
        update(ConnectedAccount)
        .where(ConnectedAccount.status == "connected", ConnectedAccount.expires_at <= now + _refresh_ahead(),
               _refreshable(),
               or_(ConnectedAccount.refresh_slot.is_(None), ConnectedAccount.refresh_slot != slot))
        .values(refresh_slot=slot)
        .returning(ConnectedAccount.id)).all())
    for start in range(0, len(claimed), REFRESH_BATCH_SIZE):
        batch = claimed[start:start + REFRESH_BATCH_SIZE]
        jobs.enqueue_after_commit("app.social.jobs.refresh_tokens", batch, id=refresh_job_id(slot, batch),
                                  queue="default", retry=jobs.RETRY_NETWORK, timeout=REFRESH_JOB_TIMEOUT)
    db.session.commit()
    return len(claimed)


def refresh_account_tokens(account_id: int, now: datetime | None = None) -> str:
    """Refresh one account's tokens if still due: ``refreshed``, ``expired``, ``not_due`` or
    ``skipped``. Raises ``oauth.ProviderUnavailableError`` (nothing changed) to be retried. Commits."""
    now = now or utcnow()
    account = db.session.scalar(select(ConnectedAccount).where(ConnectedAccount.id == account_id).with_for_update())
    if account is None or account.status != "connected" or not account.access_token_sealed:
        db.session.rollback()
        return "skipped"
    if account.expires_at is not None and account.expires_at > now + _refresh_ahead():
        db.session.rollback()  # a concurrent or earlier run already refreshed it
        return "not_due"
    refresh_token = unseal(account.refresh_token_sealed) if account.refresh_token_sealed else None
    try:
        tokens = oauth.refresh(account.platform, refresh_token, unseal(account.access_token_sealed))
    except oauth.RefreshRejectedError as exc:
        move_status(account, "expired", None, "social.token_refresh_refused", reason=str(exc))
        from app.notifications.service import notify

        notify(account.user_id, "social_account_expired", platform=platform_label(account.platform),
               url="/me/accounts")
        db.session.commit()
        return "expired"
    except Exception:
        db.session.rollback()
        raise
    account.access_token_sealed = seal(tokens.access_token)
    account.refresh_token_sealed = seal(tokens.refresh_token) if tokens.refresh_token else account.refresh_token_sealed
    account.expires_at = tokens.expires_at
    audit.record(None, "social.tokens_refreshed", "connected_account", account.id, platform=account.platform,
                 expires_at=tokens.expires_at.isoformat() if tokens.expires_at else None)
    db.session.commit()
    return "refreshed"
