"""Submission pages: the clipper's posts (submit, status, clip, evidence, resubmit) and the
brand's review of its campaigns' posts (approve, reject, request a revision, dispute views).

Invariants: every route checks the role and the object through a service
(``submission_for``, ownership inside the service), so another user's post is a 404;
routes never commit and hold no rules; forms post without JavaScript too (303 back),
htmx swaps the same fragment (``_submit_form.html``, ``_upload_result.html``).
"""

from __future__ import annotations

from flask import Blueprint, flash, jsonify, request, url_for
from flask_login import current_user

from app.errors import DomainError
from app.htmx import hx_redirect, render
from app.security import role_required
from app.social.platforms import PLATFORM_LABELS
from app.submissions import clips, service

bp = Blueprint("submissions", __name__)


def _int_or_none(value) -> int | None:
    text = (value or "").strip()
    return int(text) if text.isdigit() and len(text) < 16 else None


def _views(ids):
    from app.tracking import service as tracking

    return tracking.views_summary(ids)


def _disputes(submission_id: int):
    return _disputes_for([submission_id])[submission_id]


def _disputes_for(ids):
    from app.tracking import disputes

    return disputes.disputes_for(ids)


def _open_campaigns(clipper_id: int):
    from app.campaigns import applications

    return [a for a in applications.applications_of(clipper_id)
            if a.status == "approved" and a.campaign_status == "published"]


# -- clipper ------------------------------------------------------------------------------

@bp.route("/my/submissions")
@role_required("clipper")
def my_submissions():
    items = service.submissions_of(current_user.id)
    return render("submissions/mine.html", items=items, views=_views([s.id for s in items]),
                  campaigns=_open_campaigns(current_user.id), labels=PLATFORM_LABELS, error=None, error_campaign=None,
                  post_url="")


@bp.route("/campaigns/<int:campaign_id>/submissions", methods=["POST"])
@role_required("clipper")
def submit(campaign_id: int):
    post_url = request.form.get("post_url", "")
    try:
        submission = service.submit_post(campaign_id, current_user.id, post_url)
    except DomainError as exc:
        campaign = next((c for c in _open_campaigns(current_user.id) if c.campaign_id == campaign_id), None)
        if campaign is None:
            raise
        return render("submissions/_submit_form.html", status=exc.status_code, campaign=campaign, error=exc.message,
                      post_url=post_url)
    flash("Post submitted. It is pending the brand's review.", "success")
    return hx_redirect(url_for("submissions.my_submission", submission_id=submission.id))


@bp.route("/my/submissions/<int:submission_id>")
@role_required("clipper")
def my_submission(submission_id: int):
    submission = service.submission_for(submission_id, current_user)
    return render("submissions/detail.html", submission=submission, views=_views([submission.id])[submission.id],
                  disputes=_disputes(submission.id), labels=PLATFORM_LABELS, error=None)


@bp.route("/my/submissions/<int:submission_id>/resubmit", methods=["POST"])
@role_required("clipper")
def resubmit(submission_id: int):
    service.submission_for(submission_id, current_user)
    service.resubmit(submission_id, current_user.id, request.form.get("post_url") or None)
    flash("Sent back for review.", "success")
    return hx_redirect(url_for("submissions.my_submission", submission_id=submission_id))


@bp.route("/my/submissions/<int:submission_id>/clip/ticket", methods=["POST"])
@role_required("clipper")
def clip_ticket(submission_id: int):
    form = request.form
    try:
        ticket = clips.clip_ticket(submission_id, current_user.id, filename=form.get("filename", ""),
                                   content_type=form.get("content_type", ""),
                                   size_bytes=_int_or_none(form.get("size_bytes")))
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
                                       size_bytes=_int_or_none(form.get("size_bytes")))
    except DomainError as exc:
        if exc.status_code == 404:
            raise
        return render("submissions/_upload_result.html", status=exc.status_code, error=exc.message, key=None)
    return render("submissions/_upload_result.html", error=None, key=None,
                  message=f"Clip saved: {submission.clip_filename}")


@bp.route("/my/submissions/<int:submission_id>/evidence/ticket", methods=["POST"])
@role_required("clipper", "admin")
def evidence_ticket(submission_id: int):
    from app.tracking import evidence

    form = request.form
    try:
        ticket = evidence.evidence_ticket(submission_id, current_user, filename=form.get("filename", ""),
                                          content_type=form.get("content_type", ""),
                                          size_bytes=_int_or_none(form.get("size_bytes")))
    except DomainError as exc:
        return jsonify(error={"message": exc.message}), exc.status_code
    return jsonify(ticket.as_json())


@bp.route("/my/submissions/<int:submission_id>/evidence", methods=["POST"])
@role_required("clipper", "admin")
def confirm_evidence(submission_id: int):
    from app.tracking import evidence

    form = request.form
    try:
        key = evidence.confirm_evidence(submission_id, current_user, key=form.get("key", ""),
                                        size_bytes=_int_or_none(form.get("size_bytes")))
    except DomainError as exc:
        if exc.status_code == 404:
            raise
        return render("submissions/_upload_result.html", status=exc.status_code, error=exc.message, key=None)
    return render("submissions/_upload_result.html", error=None, key=key, message="Screenshot attached.")


@bp.route("/my/submissions/<int:submission_id>/views", methods=["POST"])
@role_required("clipper")
def report_views(submission_id: int):
    from app.tracking import snapshots

    submission = service.submission_for(submission_id, current_user)
    try:
        snapshots.submit_evidence(submission.id, current_user.id, request.form.get("views"),
                                  request.form.get("evidence_key"))
    except DomainError as exc:
        if exc.status_code == 404:
            raise
        return render("submissions/detail.html", status=exc.status_code, submission=submission,
                      views=_views([submission.id])[submission.id], disputes=_disputes(submission.id),
                      labels=PLATFORM_LABELS, error=exc.message)
    flash("Thanks: your count is waiting for verification.", "success")
    return hx_redirect(url_for("submissions.my_submission", submission_id=submission_id))


# -- brand --------------------------------------------------------------------------------

def _brand_page(items, campaign=None, status: int = 200, error: str | None = None, error_id: int | None = None):
    from app.campaigns import service as campaigns

    titles = {c.id: c.title for c in campaigns.brand_campaigns(current_user.id)}
    return render("submissions/brand.html", status=status, items=items, views=_views([s.id for s in items]),
                  campaign=campaign, titles=titles, labels=PLATFORM_LABELS, error=error, error_id=error_id,
                  disputes=_disputes_for([s.id for s in items]))


@bp.route("/brand/submissions")
@role_required("brand")
def brand_submissions():
    from app.campaigns import service as campaigns

    items = [s for c in campaigns.brand_campaigns(current_user.id) for s in service.submissions_for_campaign(c.id)]
    return _brand_page(items)


@bp.route("/brand/campaigns/<int:campaign_id>/submissions")
@role_required("brand")
def campaign_submissions(campaign_id: int):
    from app.campaigns import service as campaigns

    campaign = campaigns.own_campaign(campaign_id, current_user.id)
    return _brand_page(service.submissions_for_campaign(campaign.id), campaign=campaign)


@bp.route("/brand/submissions/<int:submission_id>")
@role_required("brand")
def brand_submission(submission_id: int):
    submission = service.submission_for(submission_id, current_user)
    return _brand_page([submission])


@bp.route("/brand/submissions/<int:submission_id>/review", methods=["POST"])
@role_required("brand")
def review(submission_id: int):
    submission = service.submission_for(submission_id, current_user)
    try:
        service.review_submission(submission.id, current_user.id, request.form.get("decision", ""),
                                  request.form.get("reason"))
    except DomainError as exc:
        if exc.status_code == 404:
            raise
        return _brand_page([submission], status=exc.status_code, error=exc.message, error_id=submission.id)
    flash("Decision saved.", "success")
    return hx_redirect(url_for("submissions.brand_submission", submission_id=submission_id))


@bp.route("/brand/submissions/<int:submission_id>/dispute", methods=["POST"])
@role_required("brand")
def dispute(submission_id: int):
    from app.tracking import disputes

    submission = service.submission_for(submission_id, current_user)
    try:
        disputes.open_dispute(submission.id, current_user.id, request.form.get("reason", ""))
    except DomainError as exc:
        if exc.status_code == 404:
            raise
        return _brand_page([submission], status=exc.status_code, error=exc.message, error_id=submission.id)
    flash("Dispute sent. An admin will review the views.", "success")
    return hx_redirect(url_for("submissions.brand_submission", submission_id=submission_id))
