"""PWA endpoints served at the site root (the service worker's scope is /)."""

from __future__ import annotations

from pathlib import Path

from flask import Blueprint, make_response, render_template, send_file

from app.htmx import render
from app.pwa.assets import shell_urls, shell_version

bp = Blueprint("pwa", __name__)

MANIFEST = Path(__file__).resolve().parent.parent.parent / "manifest.webmanifest"


@bp.route("/manifest.webmanifest")
def manifest():
    response = send_file(MANIFEST, mimetype="application/manifest+json", max_age=3600)
    return response


@bp.route("/sw.js")
def service_worker():
    body = render_template(
        "pwa/sw.js", version=shell_version(), shell=shell_urls(), offline_url="/offline",
    )
    response = make_response(body)
    response.mimetype = "text/javascript"
    # The browser must always re-check the worker script so deploys take effect.
    response.headers["Cache-Control"] = "no-cache"
    response.headers["Service-Worker-Allowed"] = "/"
    return response


@bp.route("/offline")
def offline():
    response = render("pwa/offline.html")
    # Public and identical for every user: safe for the service worker to keep.
    response.headers["Cache-Control"] = "public, max-age=0, must-revalidate"
    return response


def register_template_helpers(app) -> None:
    from app.pwa.assets import asset_url

    app.jinja_env.globals["asset_url"] = asset_url
