"""Notification pages: the list (opening it marks all read) and the bell fragment.

Invariants: signed-in users only, each sees only their own notifications; the bell
is a small fragment polled by htmx every 30 s (and loaded after each navigation),
so pages themselves run no notification query.
"""

from __future__ import annotations

from flask import Blueprint, abort, flash, url_for
from flask_login import current_user, login_required
from flask_wtf import FlaskForm

from app.htmx import hx_redirect, render
from app.notifications import service

bp = Blueprint("notifications", __name__)


@bp.route("/notifications")
@login_required
def index():
    return render("notifications/index.html", items=service.recent(current_user.id), action_form=FlaskForm())


@bp.route("/notifications/bell")
@login_required
def bell():
    response = render("notifications/_bell.html", unread=service.unread_count(current_user.id), polling=True)
    response.headers["Cache-Control"] = "private, no-store"
    return response


@bp.route("/notifications/read", methods=["POST"])
@login_required
def mark_read():
    if not FlaskForm().validate_on_submit():
        abort(400)
    service.mark_all_read(current_user.id)
    flash("All caught up.", "info")
    return hx_redirect(url_for("notifications.index"))
