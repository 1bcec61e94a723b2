"""Campaign pages: the clipper feed and the brand's campaign list (role homes)."""

from __future__ import annotations

from flask import Blueprint

from app.htmx import render
from app.security import role_required

bp = Blueprint("campaigns", __name__)


@bp.route("/campaigns")
@role_required("clipper")
def feed():
    return render("campaigns/feed.html")


@bp.route("/brand/campaigns")
@role_required("brand")
def brand_campaigns():
    return render("campaigns/brand_campaigns.html")
