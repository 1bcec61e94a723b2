"""Submission pages without tracking data: the clipper submits a post link, resubmits after a
revision request, and uploads the clip file. The post pages that show views and disputes
(the clipper's list and detail, the brand's review and disputes) are served by
``app/tracking/post_routes.py`` (tracking sits above submissions).

Invariants: every route checks the role and the object through a service
(``submission_for``, ownership inside the service), so another user's post is a 404;
routes never commit and hold no rules; forms post without JavaScript too (303 back),
htmx swaps the same fragment (``_submit_form.html``, ``_upload_result.html``).
"""

from __future__ import annotations

from flask import Blueprint, flash, jsonify, request, url_for
from flask_login import current_user

from app.campaigns import applications
from app.errors import DomainError
from app.htmx import hx_redirect, render
from app.security import role_required
from app.submissions import clips, service

bp = Blueprint("submissions", __name__)


def int_or_none(value) -> int | None:
    text = (value or "").strip()
    return int(text) if text.isdigit() and len(text) < 16 else None


def open_campaigns(clipper_id: int):
    """The clipper's approved applications to published campaigns (where a post may be submitted)."""
    return [a for a in applications.applications_of(clipper_id)
            if a.status == "approved" and a.campaign_status == "published"]


@bp.route("/campaigns/<int:campaign_id>/submissions", methods=["POST"])
@role_required("clipper")
def submit(campaign_id: int):
    post_url = request.form.get("post_url", "")
    try:
        submission = service.submit_post(campaign_id, current_user.id, post_url)
    except DomainError as exc:
        campaign = next((c for c in open_campaigns(current_user.id) if c.campaign_id == campaign_id), None)
        if campaign is None:
            raise
        return render("submissions/_submit_form.html", status=exc.status_code, campaign=campaign, error=exc.message,
                      post_url=post_url)
    flash("Post submitted. It is pending the brand's review.", "success")
    return hx_redirect(url_for("posts.my_submission", submission_id=submission.id))


@bp.route("/my/submissions/<int:submission_id>/resubmit", methods=["POST"])
@role_required("clipper")
def resubmit(submission_id: int):
    service.submission_for(submission_id, current_user)
    service.resubmit(submission_id, current_user.id, request.form.get("post_url") or None)
    flash("Sent back for review.", "success")
    return hx_redirect(url_for("posts.my_submission", submission_id=submission_id))


@bp.route("/my/submissions/<int:submission_id>/clip/ticket", methods=["POST"])
@role_required("clipper")
def clip_ticket(submission_id: int):
    form = request.form
    try:
        ticket = clips.clip_ticket(submission_id, current_user.id, filename=form.get("filename", ""),
                                   content_type=form.get("content_type", ""),
                                   size_bytes=int_or_none(form.get("size_bytes")))
    except DomainError as exc:
        return jsonify(error={"message": exc.message}), exc.status_code
    return jsonify(ticket.as_json())


@bp.route("/my/submissions/<int:submission_id>/clip", methods=["POST"])
@role_required("clipper")
def confirm_clip(submission_id: int):
    form = request.form
    try:
        submission = clips.record_clip(submission_id, current_user.id, key=form.get("key", ""),
                                       filename=form.get("filename", ""),
                                       size_bytes=int_or_none(form.get("size_bytes")))
    except DomainError as exc:
        if exc.status_code == 404:
            raise
        return render("submissions/_upload_result.html", status=exc.status_code, error=exc.message, key=None)
    return render("submissions/_upload_result.html", error=None, key=None,
                  message=f"Clip saved: {submission.clip_filename}")
