"""Profile page: display name, email and phone (each re-verified by a code), password.

Invariants: changing the email or phone needs a fresh step-up code sent to the
current one (``step_up``), and the new one is stored only after a code sent to
it comes back; a password change ends every other session and keeps this one (the
cookie is re-issued with the new token); each section is its own form and
htmx fragment, and works without JavaScript.
"""

from __future__ import annotations

from flask import Blueprint, flash, session, url_for
from flask_login import current_user, login_required, login_user

from app.accounts import ratelimits, service
from app.accounts.forms import ChangeEmailForm, ChangePasswordForm, ChangePhoneForm, ConfirmChangeForm, DisplayNameForm
from app.accounts.ratelimits import CODE_SENDS, Key
from app.accounts.routes import client_ip, mask
from app.accounts.step_up import step_up_required
from app.errors import DomainError, attach_to_form
from app.htmx import hx_redirect, render

bp = Blueprint("profile", __name__, url_prefix="/profile")

CHANGES = {kind: purpose for kind, (purpose, _channel, _name) in service.CONTACT_CHANGES.items()}


def _context(**forms):
    pending = {kind: service.pending_change(current_user.id, purpose) for kind, purpose in CHANGES.items()}
    phone_form = forms.get("phone_form") or ChangePhoneForm()
    return {
        "name_form": forms.get("name_form") or DisplayNameForm(display_name=current_user.display_name),
        "email_form": forms.get("email_form") or ChangeEmailForm(),
        "phone_form": phone_form,
        "password_form": forms.get("password_form") or ChangePasswordForm(),
        "confirm_forms": {kind: forms.get(f"confirm_{kind}_form") or ConfirmChangeForm(prefix=kind)
                          for kind in CHANGES},
        "pending": {kind: mask(row.destination) if row else None for kind, row in pending.items()},
    }


def _section(block: str, status: int = 200, **forms):
    return render("accounts/profile.html", block=block, status=status, **_context(**forms))


@bp.route("")
@login_required
def show():
    return render("accounts/profile.html", **_context())


@bp.route("/name", methods=["POST"])
@login_required
def change_name():
    form = DisplayNameForm()
    if not form.validate_on_submit():
        return _section("name_section", 422, name_form=form)
    service.change_display_name(current_user.id, form.display_name.data)
    flash("Display name saved.", "success")
    return _section("name_section", name_form=form)


def _region() -> str | None:
    return current_user.country


@bp.route("/<kind>", methods=["POST"])
@login_required
@step_up_required(return_to="profile.show")
def request_change(kind: str):
    if kind not in CHANGES:
        return hx_redirect(url_for("profile.show"))
    form = ChangeEmailForm() if kind == "email" else ChangePhoneForm()
    form.default_region = _region()
    block = f"{kind}_section"
    if not form.validate_on_submit():
        return _section(block, 422, **{f"{kind}_form": form})
    value = form.data[kind]
    try:
        keys = [Key("account", str(current_user.id)), Key("ip", client_ip()), Key(kind, value)]
        ratelimits.enforce(CODE_SENDS, f"otp-{kind}-change", keys, "You asked for codes too often.")
        service.request_contact_change(current_user.id, kind, value)
    except DomainError as exc:
        attach_to_form(form, exc)
        return _section(block, exc.status_code, **{f"{kind}_form": form})
    flash(f"We sent a code to {mask(value)}. Enter it below to confirm.", "info")
    return _section(block)


@bp.route("/<kind>/confirm", methods=["POST"])
@login_required
def confirm_change(kind: str):
    if kind not in CHANGES:
        return hx_redirect(url_for("profile.show"))
    form = ConfirmChangeForm(prefix=kind)
    block = f"{kind}_section"
    if form.validate_on_submit():
        try:
            service.confirm_contact_change(current_user.id, kind, form.code.data)
        except DomainError as exc:
            attach_to_form(form, exc)
            return _section(block, exc.status_code, **{f"confirm_{kind}_form": form})
        flash(f"Your {'email' if kind == 'email' else 'phone number'} is changed.", "success")
        return _section(block)
    return _section(block, 422, **{f"confirm_{kind}_form": form})


@bp.route("/password", methods=["POST"])
@login_required
def change_password():
    form = ChangePasswordForm()
    if not form.validate_on_submit():
        return _section("password_section", 422, password_form=form)
    try:
        user = service.change_password(current_user.id, form.current_password.data, form.password.data)
    except DomainError as exc:
        attach_to_form(form, exc)
        return _section("password_section", exc.status_code, password_form=form)
    was_staff_verified = session.get("mfa") is not None
    login_user(user)  # this session carries the new token; every other one is now anonymous
    if was_staff_verified:
        session["mfa"] = user.get_id()
    flash("Password changed. Your other sessions are signed out.", "success")
    return _section("password_section")
