"""Sign-up, verification, sign-in/out and password reset pages, and the session gate.

Invariants:
- the gate runs before every request: a suspended user is signed out and told
  why; an unverified user reaches only the verification pages; a staff session
  reaches only the two-factor pages until it has passed TOTP;
- unknown email and wrong password produce the same response;
- every code send is limited per account, per IP and per phone number
  (``ratelimits.CODE_SENDS``); failed sign-ins per account and per IP.
"""

from __future__ import annotations

from flask import Blueprint, flash, request, session, url_for
from flask_login import current_user, login_required, login_user, logout_user

from app.accounts import otp, ratelimits, service
from app.accounts.forms import (
    BrandSignupForm,
    ClipperSignupForm,
    ForgotPasswordForm,
    LoginForm,
    ResetPasswordForm,
    VerifyForm,
)
from app.accounts.ratelimits import CODE_SENDS, CODE_SENDS_AFTER_FAILURE, FAILED_LOGINS, Key, RateLimitedError
from app.db import utcnow
from app.errors import DomainError, attach_to_form
from app.extensions import limiter, login_manager
from app.htmx import hx_redirect, render
from app.navigation import ROLE_HOME
from app.security import safe_next

bp = Blueprint("accounts", __name__)

login_manager.login_view = "accounts.login"
login_manager.login_message = "Please sign in to continue."
login_manager.login_message_category = "info"
login_manager.session_protection = "basic"

# Endpoints any signed-in session may reach, whatever state the account is in.
ALWAYS_OPEN = frozenset({"static", "accounts.logout", "core.healthz", "core.readyz", "core.metrics",
                         "core.favicon", "core.landing"})
VERIFY_ENDPOINTS = frozenset({"accounts.verify", "accounts.resend_code", "accounts.delivery_status"})
MFA_ENDPOINTS = frozenset({"staff_auth.two_factor", "staff_auth.qr_code"})


def mfa_passed() -> bool:
    return session.get("mfa") == current_user.get_id()


@bp.before_app_request
def gate():
    endpoint = request.endpoint or ""
    # Signed URLs (storage) and signed webhooks (payments) carry their own authority.
    if endpoint in ALWAYS_OPEN or endpoint.startswith(("pwa.", "storage.")) or endpoint == "payments.stripe_webhook":
        return None
    # flask-login reports a suspended (inactive) user as not authenticated, so look first.
    if getattr(current_user, "suspended_at", None) is not None:
        reason = current_user.suspension_reason or "no reason given"
        logout_user()
        session.pop("mfa", None)
        flash(f"Your account is suspended: {reason}. Contact support if you think this is a mistake.", "error")
        return hx_redirect(url_for("accounts.login"))
    if not current_user.is_authenticated:
        return None
    if not current_user.is_verified:
        return None if endpoint in VERIFY_ENDPOINTS else hx_redirect(url_for("accounts.verify"))
    if current_user.is_staff and not mfa_passed():
        if endpoint in MFA_ENDPOINTS:
            return None
        return hx_redirect(url_for("staff_auth.two_factor", next=safe_next(request.full_path.rstrip("?"), "")))
    return None


@login_manager.unauthorized_handler
def unauthorized():
    # An htmx request must navigate to the sign-in page, not swap it into a fragment.
    if request.method == "GET":
        flash(login_manager.login_message, login_manager.login_message_category)
    return hx_redirect(url_for("accounts.login", next=request.full_path.rstrip("?")), status=302)


@login_manager.user_loader
def load_user(token: str):
    return service.get_user_by_session_token(token)


def home_url(user) -> str:
    return url_for(ROLE_HOME[user.role])


def client_ip() -> str:
    return request.remote_addr or "unknown"


def _failed_login(response) -> bool:
    return response.status_code not in (200, 303)


@bp.route("/login", methods=["GET", "POST"])
@limiter.limit(FAILED_LOGINS, methods=["POST"], deduct_when=_failed_login)
def login():
    if current_user.is_authenticated:
        # hx_redirect: an htmx form post must navigate, not swap a whole page into the form.
        return hx_redirect(home_url(current_user))
    form = LoginForm()
    if request.method == "GET":
        form.next.data = safe_next(request.args.get("next"), "")
    status = 422 if request.method == "POST" else 200
    if form.validate_on_submit():
        account = Key("account", service.normalise_email(form.email.data))
        try:
            ratelimits.check(FAILED_LOGINS, "login", [account], "Too many failed sign-ins for this account.")
        except RateLimitedError as exc:
            form.password.errors.append(exc.message)
            return render("accounts/login.html", block="form", status=429, form=form)
        user = service.authenticate(form.email.data, form.password.data)
        if user is not None and not user.is_active:
            form.email.errors.append(f"This account is suspended: {user.suspension_reason}. Contact support.")
            return render("accounts/login.html", block="form", status=403, form=form)
        if user is not None:
            session.pop("mfa", None)
            login_user(user)
            return hx_redirect(safe_next(form.next.data, home_url(user)))
        ratelimits.hit(FAILED_LOGINS, "login", [account])
        form.password.errors.append("Email or password is not right.")
    return render("accounts/login.html", block="form", status=status, form=form)


@bp.route("/logout", methods=["POST"])
@login_required
def logout():
    service.sign_out_everywhere(current_user.id)
    logout_user()
    session.clear()
    flash("You are signed out.", "info")
    return hx_redirect(url_for("core.landing"))


@bp.route("/signup")
def signup():
    if current_user.is_authenticated:
        return hx_redirect(home_url(current_user))
    return render("accounts/signup.html")


SIGNUPS = {
    "clipper": (ClipperSignupForm, "accounts/signup_clipper.html"),
    "brand": (BrandSignupForm, "accounts/signup_brand.html"),
}


def _signup(role: str):
    form_class, template = SIGNUPS[role]
    if current_user.is_authenticated:
        return hx_redirect(home_url(current_user))
    form = form_class()
    status = 422 if request.method == "POST" else 200
    if form.validate_on_submit():
        data = {name: field.data for name, field in form._fields.items() if name != "csrf_token"}
        channel = data.pop("channel", "email")
        send_keys = [Key("ip", client_ip())] + ([Key("phone", data.get("phone"))] if channel == "sms" else [])
        try:
            ratelimits.check(CODE_SENDS, "otp-signup", send_keys, "Too many codes were sent.")
            user = service.sign_up(role=role, channel=channel, **data)
        except RateLimitedError as exc:
            form.form_errors.append(exc.message)
            return render(template, block="form", status=429, form=form)
        except DomainError as exc:
            attach_to_form(form, exc)
            return render(template, block="form", status=exc.status_code, form=form)
        ratelimits.hit(CODE_SENDS, "otp-signup", [*send_keys, Key("account", str(user.id))])
        login_user(user)
        return hx_redirect(url_for("accounts.verify"))
    return render(template, block="form", status=status, form=form)



@bp.route("/signup/clipper", methods=["GET", "POST"])
@limiter.limit("30 per hour", methods=["POST"])
def signup_clipper():
    return _signup("clipper")


@bp.route("/signup/brand", methods=["GET", "POST"])
@limiter.limit("30 per hour", methods=["POST"])
def signup_brand():
    return _signup("brand")


def mask(destination: str) -> str:
    """Show enough of an email or phone number to recognise it, not to read it."""
    if "@" in destination:
        name, domain = destination.split("@", 1)
        return f"{name[:1]}•••@{domain}"
    return f"{destination[:3]} ••• •• {destination[-2:]}"


def _verify_context(form=None):
    row = otp.latest_code(current_user.id, "signup")
    live = row is not None and row.used_at is None and row.attempts < otp.MAX_ATTEMPTS and row.expires_at > utcnow()
    return {"form": form or VerifyForm(), "code": row, "destination": mask(row.destination) if row else None,
            "can_sms": bool(current_user.phone), "live": live}


@bp.route("/verify", methods=["GET", "POST"])
@login_required
def verify():
    if current_user.is_verified:
        return hx_redirect(home_url(current_user))
    form = VerifyForm()
    if form.validate_on_submit():
        try:
            user = service.verify_account(current_user.id, form.code.data)
        except DomainError as exc:
            attach_to_form(form, exc)
            return render("accounts/verify.html", block="form", status=exc.status_code, **_verify_context(form))
        flash("Your account is verified. Welcome to ContentFlow!", "success")
        return hx_redirect(home_url(user))
    status = 422 if request.method == "POST" else 200
    return render("accounts/verify.html", block="form", status=status, **_verify_context(form))


@bp.route("/verify/status")
@login_required
def delivery_status():
    return render("accounts/verify.html", block="delivery", **_verify_context())


@bp.route("/verify/resend", methods=["POST"])
@login_required
def resend_code():
    if current_user.is_verified:
        return hx_redirect(home_url(current_user))
    channel = request.form.get("channel", "email")
    if channel not in ("email", "sms"):
        channel = "email"
    keys = [Key("account", str(current_user.id)), Key("ip", client_ip())]
    if channel == "sms":
        keys.append(Key("phone", current_user.phone))
    # After a failed delivery, switching to the other channel need not wait the minute.
    previous = otp.latest_code(current_user.id, "signup")
    switching = previous is not None and previous.delivery_status == "failed" and previous.channel != channel
    try:
        ratelimits.enforce(CODE_SENDS_AFTER_FAILURE if switching else CODE_SENDS, "otp-signup", keys,
                           "You asked for codes too often.")
        service.send_code_again(current_user.id, "signup", channel)
    except DomainError as exc:
        return render("accounts/verify.html", block="delivery", status=exc.status_code, notice=exc.message,
                      notice_kind="error", **_verify_context())
    return render("accounts/verify.html", block="delivery", notice="We sent you a new code.",
                  notice_kind="success", **_verify_context())


@bp.route("/password/forgot", methods=["GET", "POST"])
def forgot_password():
    form = ForgotPasswordForm()
    if form.validate_on_submit():
        email = form.email.data
        try:
            ratelimits.enforce(CODE_SENDS, "otp-reset", [Key("email", email), Key("ip", client_ip())],
                               "You asked for codes too often.")
        except RateLimitedError as exc:
            form.email.errors.append(exc.message)
            return render("accounts/forgot.html", block="form", status=429, form=form)
        service.start_password_reset(email)
        session["reset_email"] = email
        flash(f"If {email} has an account, a code is on its way. It works for 10 minutes.", "info")
        return hx_redirect(url_for("accounts.reset_password"))
    status = 422 if request.method == "POST" else 200
    return render("accounts/forgot.html", block="form", status=status, form=form)


@bp.route("/password/reset", methods=["GET", "POST"])
@limiter.limit("20 per 15 minutes", methods=["POST"])
def reset_password():
    email = session.get("reset_email")
    if not email:
        return hx_redirect(url_for("accounts.forgot_password"))
    form = ResetPasswordForm(email=email)
    form.email.data = email
    if form.validate_on_submit():
        try:
            service.reset_password(email, form.code.data, form.password.data)
        except DomainError as exc:
            attach_to_form(form, exc)
            return render("accounts/reset.html", block="form", status=exc.status_code, form=form, email=email)
        session.pop("reset_email", None)
        flash("Your password is changed and every other session is signed out. Sign in now.", "success")
        return hx_redirect(url_for("accounts.login"))
    status = 422 if request.method == "POST" else 200
    return render("accounts/reset.html", block="form", status=status, form=form, email=email)
