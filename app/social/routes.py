"""The clipper's accounts page: declare a handle per platform (OAuth connection comes later).

Invariants: clippers only, their own accounts only; routes never commit (the service does).
"""

from __future__ import annotations

from flask import Blueprint, flash, request, url_for
from flask_login import current_user

from app.errors import DomainError
from app.htmx import hx_redirect, render
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
    return render("social/accounts.html", status=status, accounts=service.accounts_of(current_user.id),
                  platforms=SOCIAL_PLATFORMS, labels=PLATFORM_LABELS, error=error, error_platform=platform)
