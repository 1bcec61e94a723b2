"""The admin verification queue (admin home)."""

from __future__ import annotations

from flask import Blueprint

from app.htmx import render
from app.security import role_required

bp = Blueprint("tracking", __name__, url_prefix="/admin")


@bp.route("/queue")
@role_required("admin")
def queue():
    return render("tracking/queue.html")
