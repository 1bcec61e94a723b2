"""Sign-in and sign-out pages."""

from __future__ import annotations

from flask import Blueprint, flash, request, url_for
from flask_login import current_user, login_required, login_user, logout_user

from app.accounts import service
from app.accounts.forms import LoginForm
from app.extensions import limiter, login_manager
from app.htmx import hx_redirect, render
from app.security import safe_next

bp = Blueprint("accounts", __name__)

login_manager.login_view = "accounts.login"
login_manager.login_message = "Please sign in to continue."
login_manager.login_message_category = "info"
login_manager.session_protection = "basic"


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
    return url_for(service.ROLE_HOME.get(user.role, "core.dashboard"))


@bp.route("/login", methods=["GET", "POST"])
@limiter.limit(
    "10 per 15 minutes", methods=["POST"],
    deduct_when=lambda response: response.status_code != 303 and response.status_code != 200,
)
def login():
    if current_user.is_authenticated:
        # hx_redirect: an htmx form post must navigate, not swap a whole page into the form.
        return hx_redirect(home_url(current_user))
    form = LoginForm()
    if request.method == "GET":
        form.next.data = safe_next(request.args.get("next"), "")
    if form.validate_on_submit():
        user = service.authenticate(form.email.data, form.password.data)
        if user is not None and user.is_active:
            login_user(user)
            return hx_redirect(safe_next(form.next.data, home_url(user)))
        form.password.errors.append("Email or password is not right.")
    status = 422 if request.method == "POST" else 200
    return render("accounts/login.html", block="form", status=status, form=form)


@bp.route("/logout", methods=["POST"])
@login_required
def logout():
    service.sign_out_everywhere(current_user.id)
    logout_user()
    flash("You are signed out.", "info")
    return hx_redirect(url_for("core.landing"))
