"""The clipper's accounts page: declare a handle per platform, connect or disconnect it by OAuth.

Invariants: clippers only, their own accounts only (every query is by ``current_user.id``;
another clipper's account simply does not exist here); routes never commit (the service
does); an unknown platform is a 404; a failed connection shows its message on the accounts
page and changes nothing. Sending the browser to the provider is a page with a link (and a
meta refresh), or ``HX-Redirect`` for htmx: a plain form POST answered by a cross-origin
redirect would be blocked by the CSP's ``form-action 'self'``.
"""

from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, request, url_for
from flask_login import current_user

from app.errors import DomainError
from app.htmx import add_vary, hx_redirect, is_htmx, render
from app.security import role_required
from app.social import service
from app.social.models import SOCIAL_PLATFORMS
from app.social.platforms import PLATFORM_LABELS

bp = Blueprint("social", __name__)


@bp.route("/me/accounts", methods=["GET", "POST"])
@role_required("clipper")
def accounts():
    error, status, platform = None, 200, None
    if request.method == "POST":
        platform = request.form.get("platform", "")
        try:
            service.declare_handle(current_user.id, platform, request.form.get("handle", ""))
        except DomainError as exc:
            error, status = exc.message, exc.status_code
        else:
            flash(f"Your {PLATFORM_LABELS.get(platform, platform)} handle is saved.", "success")
            return hx_redirect(url_for("social.accounts"))
    accounts = service.accounts_of(current_user.id)
    actions = {name: service.allowed_actions(account, current_user) for name, account in accounts.items()}
    return render("social/accounts.html", status=status, accounts=accounts, actions=actions,
                  platforms=SOCIAL_PLATFORMS, labels=PLATFORM_LABELS, error=error, error_platform=platform,
                  connectable=service.connectable_platforms())


def _known(platform: str) -> str:
    if platform not in SOCIAL_PLATFORMS:
        abort(404)
    return platform


@bp.post("/social/<platform>/connect")
@role_required("clipper")
def connect(platform: str):
    _known(platform)
    callback = url_for("social.callback", platform=platform, _external=True)
    try:
        provider_url = service.begin_connection(current_user.id, platform, callback)
    except DomainError as exc:
        flash(exc.message, "error")
        return hx_redirect(url_for("social.accounts"))
    if is_htmx():
        return hx_redirect(provider_url)
    response = render("social/continue.html", provider_url=provider_url, label=PLATFORM_LABELS[platform])
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.get("/social/<platform>/callback")
@role_required("clipper")
def callback(platform: str):
    _known(platform)
    label = PLATFORM_LABELS[platform]
    try:
        result = service.complete_connection(current_user.id, platform)
    except DomainError as exc:
        flash(exc.message, "error")
    else:
        flash(f"Your {label} account @{result.handle} is connected. We check your views automatically now.",
              "success")
        if result.replaced_handle:
            flash(f"You had declared @{result.replaced_handle} on {label}; we now use @{result.handle}, "
                  f"the account you signed in with.", "info")
    return add_vary(redirect(url_for("social.accounts"), code=303))


@bp.route("/social/<platform>/disconnect", methods=["GET", "POST"])
@role_required("clipper")
def disconnect(platform: str):
    _known(platform)
    account = service.account_of(current_user.id, platform)
    if account is None or account.status == "manual":
        abort(404)
    if request.method == "POST" and request.form.get("confirm") == "yes":
        service.disconnect_account(current_user.id, platform)
        flash(f"{PLATFORM_LABELS[platform]} is disconnected and its tokens are deleted. "
              f"Your posts there are checked by hand again.", "success")
        return hx_redirect(url_for("social.accounts"))
    return render("social/disconnect.html", platform=platform, label=PLATFORM_LABELS[platform],
                  handle=account.handle)
