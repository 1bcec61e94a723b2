"""Support's payout screens (support home)."""

from __future__ import annotations

from flask import Blueprint

from app.htmx import render
from app.security import role_required

bp = Blueprint("payouts", __name__, url_prefix="/support")


@bp.route("/payouts")
@role_required("support", "admin")
def index():
    return render("payouts/index.html")
