"""Staff two-factor pages: enrol an authenticator (QR code), then a code at every sign-in.

Invariants: only staff reach these pages (404 for others); the pending secret
lives sealed in the signed session until the first code proves the phone has
it; a session passes only with a code for its own session token.
"""

from __future__ import annotations

from cryptography.fernet import InvalidToken
from flask import Blueprint, Response, abort, request, session
from flask_login import current_user, login_required

from app.accounts import ratelimits, staff
from app.accounts.forms import TotpForm
from app.accounts.ratelimits import Key, RateLimitedError
from app.accounts.routes import home_url
from app.errors import DomainError
from app.extensions import limiter
from app.htmx import hx_redirect, render
from app.security import safe_next, seal, unseal

bp = Blueprint("staff_auth", __name__, url_prefix="/staff")

FAILED_CODES = "5 per 5 minutes;20 per day"
PENDING_SECRET_MAX_AGE = 15 * 60


def _staff_only() -> None:
    if not current_user.is_staff:
        abort(404)


def _pending_secret() -> str:
    sealed = session.get("totp_pending")
    if sealed:
        try:
            return unseal(sealed, max_age=PENDING_SECRET_MAX_AGE)
        except InvalidToken:
            pass
    secret = staff.new_secret()
    session["totp_pending"] = seal(secret)
    return secret


@bp.route("/2fa", methods=["GET", "POST"])
@login_required
@limiter.limit("30 per 15 minutes", methods=["POST"])
def two_factor():
    _staff_only()
    enrolled = current_user.totp_enrolled_at is not None
    form = TotpForm()
    next_url = safe_next(request.values.get("next"), home_url(current_user))
    secret = None if enrolled else _pending_secret()
    status = 422 if request.method == "POST" else 200
    if form.validate_on_submit():
        account = [Key("account", str(current_user.id))]
        try:
            ratelimits.check(FAILED_CODES, "totp", account, "Too many wrong codes.")
            if enrolled:
                staff.verify_totp(current_user.id, form.code.data)
            else:
                staff.enrol_totp(current_user.id, secret, form.code.data)
        except RateLimitedError as exc:
            form.code.errors.append(exc.message)
            status = 429
        except DomainError as exc:
            ratelimits.hit(FAILED_CODES, "totp", account)
            form.code.errors.append(exc.message)
            status = exc.status_code
        else:
            session.pop("totp_pending", None)
            session["mfa"] = current_user.get_id()
            return hx_redirect(next_url)
    return render("accounts/two_factor.html", block="form", status=status, form=form, enrolled=enrolled,
                  secret=secret, next_url=next_url)


@bp.route("/2fa/qr.svg")
@login_required
def qr_code():
    _staff_only()
    if current_user.totp_enrolled_at is not None:
        abort(404)  # the secret is shown once, at enrolment
    svg = staff.qr_svg(staff.provisioning_uri(current_user.email, _pending_secret()))
    return Response(svg, mimetype="image/svg+xml", headers={"Cache-Control": "no-store"})
