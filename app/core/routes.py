"""Landing page, role home, and the operational endpoints."""

from __future__ import annotations

import hmac

from flask import Blueprint, Response, abort, current_app, jsonify, redirect, request, url_for
from flask_login import current_user, login_required

from app.core.health import readiness
from app.htmx import render
from app.navigation import ROLE_HOME
from app.observability import metrics_payload

bp = Blueprint("core", __name__)

AUDIENCES = ("clippers", "brands")


@bp.route("/")
def landing():
    audience = request.args.get("for", "clippers")
    if audience not in AUDIENCES:
        audience = "clippers"
    return render("core/landing.html", block="audience", audience=audience)


@bp.route("/home")
@login_required
def dashboard():
    """Each role has its own home; /home (and the PWA start URL) leads there."""
    return redirect(url_for(ROLE_HOME[current_user.role]))


@bp.route("/healthz")
def healthz():
    return jsonify(status="ok")


@bp.route("/readyz")
def readyz():
    ok, checks = readiness()
    response = jsonify(status="ready" if ok else "unavailable", checks=checks)
    response.status_code = 200 if ok else 503
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.route("/metrics")
def metrics():
    token = current_app.config.get("METRICS_TOKEN")
    if token:
        given = request.headers.get("Authorization", "").removeprefix("Bearer ").strip()
        if not hmac.compare_digest(given.encode(), token.encode()):
            abort(401)
    body, content_type = metrics_payload()
    return Response(body, content_type=content_type, headers={"Cache-Control": "no-store"})


@bp.route("/favicon.ico")
def favicon():
    return redirect(url_for("static", filename="icons/icon-192.png"), code=301)
