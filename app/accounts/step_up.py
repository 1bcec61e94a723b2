"""Step-up verification: a fresh code before a sensitive change.

Changing where codes and resets go (email, phone) — and, later, where money goes
(payout details) — is what an attacker with a stolen session wants most. Such
routes carry ``@step_up_required``: the session must have confirmed a "login"
code sent to the account's current email or phone in the last ``STEP_UP_TTL``.

Invariants: the proof is bound to the session token (a new token — logout,
password change — needs a new proof); it expires; the code obeys every OTP rule
(hashed, single use, 5 tries, 10 minutes) and every send limit.
"""

from __future__ import annotations

import time
from functools import wraps

from flask import Blueprint, request, session, url_for
from flask_login import current_user, login_required

from app.accounts import otp, ratelimits, service
from app.accounts.forms import VerifyForm
from app.accounts.ratelimits import CODE_SENDS, Key
from app.accounts.routes import client_ip, mask
from app.errors import DomainError, attach_to_form
from app.htmx import hx_redirect, render
from app.security import safe_next

bp = Blueprint("step_up", __name__, url_prefix="/verify/step-up")

STEP_UP_TTL = 10 * 60


def step_up_fresh() -> bool:
    proof = session.get("step_up") or {}
    return proof.get("token") == current_user.get_id() and time.time() - proof.get("at", 0) < STEP_UP_TTL


def step_up_required(return_to: str):
    """Send the user to confirm a code first; ``return_to`` is the page to come back to."""

    def decorator(view):
        @wraps(view)
        def wrapper(*args, **kwargs):
            if not step_up_fresh():
                return hx_redirect(url_for("step_up.confirm", next=url_for(return_to)))
            return view(*args, **kwargs)

        return wrapper

    return decorator


def _context(form=None, notice=None):
    row = otp.latest_code(current_user.id, "login")
    live = row is not None and service.pending_change(current_user.id, "login") is not None
    return {"form": form or VerifyForm(), "destination": mask(row.destination) if live else None,
            "next_url": safe_next(request.values.get("next"), url_for("profile.show")),
            "can_sms": bool(current_user.phone), "notice": notice}


@bp.route("", methods=["GET", "POST"])
@login_required
def confirm():
    context = _context()
    if request.method == "POST" and request.form.get("action") in ("email", "sms"):
        channel = request.form["action"]
        keys = [Key("account", str(current_user.id)), Key("ip", client_ip())]
        if channel == "sms":
            keys.append(Key("phone", current_user.phone))
        try:
            ratelimits.enforce(CODE_SENDS, "otp-step-up", keys, "You asked for codes too often.")
            service.start_step_up(current_user.id, channel)
        except DomainError as exc:
            return render("accounts/step_up.html", block="step_up", status=exc.status_code,
                          **_context(notice=exc.message))
        return render("accounts/step_up.html", block="step_up", **_context())
    form = VerifyForm()
    if request.method == "POST" and form.validate_on_submit():
        try:
            service.confirm_step_up(current_user.id, form.code.data)
        except DomainError as exc:
            attach_to_form(form, exc)
            return render("accounts/step_up.html", block="step_up", status=exc.status_code, **_context(form))
        session["step_up"] = {"token": current_user.get_id(), "at": time.time()}
        return hx_redirect(context["next_url"])
    status = 422 if request.method == "POST" else 200
    return render("accounts/step_up.html", block="step_up", status=status, **_context(form))
