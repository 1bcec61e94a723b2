"""Post pages that show tracking data: the clipper's posts (list, detail, reporting views with a
screenshot) and the brand's posts of its campaigns (list, detail, content review, disputing views).

They live in tracking, not submissions, because they read views and disputes (tracking sits
above submissions); URLs are unchanged (``/my/submissions/...``, ``/brand/submissions/...``).

Invariants: every route checks the role and the object through a service
(``submission_for``, ownership inside the service), so another user's post is a 404;
routes never commit and hold no rules: what a page offers comes from
``service.allowed_actions``; forms post without JavaScript too (303 back), htmx swaps the
same fragment (``_upload_result.html``).
"""

from __future__ import annotations

from flask import Blueprint, flash, jsonify, request, url_for
from flask_login import current_user

from app.campaigns import service as campaigns
from app.errors import DomainError
from app.htmx import hx_redirect, render
from app.security import role_required
from app.social.platforms import PLATFORM_LABELS
from app.submissions import service as submissions
from app.submissions.routes import int_or_none, open_campaigns
from app.tracking import disputes, evidence, service, snapshots

bp = Blueprint("posts", __name__)


def _views(ids):
    return service.views_summary(ids)


# -- clipper ------------------------------------------------------------------------------

@bp.route("/my/submissions")
@role_required("clipper")
def my_submissions():
    items = submissions.submissions_of(current_user.id)
    return render("submissions/mine.html", items=items, views=_views([s.id for s in items]),
                  campaigns=open_campaigns(current_user.id), labels=PLATFORM_LABELS, error=None, error_campaign=None,
                  post_url="")


def _detail(submission, *, status: int = 200, error: str | None = None):
    return render("submissions/detail.html", status=status, submission=submission,
                  views=_views([submission.id])[submission.id],
                  disputes=disputes.disputes_for([submission.id])[submission.id],
                  actions=service.allowed_actions(submission, current_user), labels=PLATFORM_LABELS, error=error)


@bp.route("/my/submissions/<int:submission_id>")
@role_required("clipper")
def my_submission(submission_id: int):
    return _detail(submissions.submission_for(submission_id, current_user))


@bp.route("/my/submissions/<int:submission_id>/evidence/ticket", methods=["POST"])
@role_required("clipper", "admin")
def evidence_ticket(submission_id: int):
    form = request.form
    try:
        ticket = evidence.evidence_ticket(submission_id, current_user, filename=form.get("filename", ""),
                                          content_type=form.get("content_type", ""),
                                          size_bytes=int_or_none(form.get("size_bytes")))
    except DomainError as exc:
        return jsonify(error={"message": exc.message}), exc.status_code
    return jsonify(ticket.as_json())


@bp.route("/my/submissions/<int:submission_id>/evidence", methods=["POST"])
@role_required("clipper", "admin")
def confirm_evidence(submission_id: int):
    form = request.form
    try:
        key = evidence.confirm_evidence(submission_id, current_user, key=form.get("key", ""),
                                        size_bytes=int_or_none(form.get("size_bytes")))
    except DomainError as exc:
        if exc.status_code == 404:
            raise
        return render("submissions/_upload_result.html", status=exc.status_code, error=exc.message, key=None)
    return render("submissions/_upload_result.html", error=None, key=key, message="Screenshot attached.")


@bp.route("/my/submissions/<int:submission_id>/views", methods=["POST"])
@role_required("clipper")
def report_views(submission_id: int):
    submission = submissions.submission_for(submission_id, current_user)
    try:
        snapshots.submit_evidence(submission.id, current_user.id, request.form.get("views"),
                                  request.form.get("evidence_key"))
    except DomainError as exc:
        if exc.status_code == 404:
            raise
        return _detail(submission, status=exc.status_code, error=exc.message)
    flash("Thanks: your count is waiting for verification.", "success")
    return hx_redirect(url_for("posts.my_submission", submission_id=submission_id))


# -- brand --------------------------------------------------------------------------------

def _brand_page(items, campaign=None, status: int = 200, error: str | None = None, error_id: int | None = None):
    titles = {c.id: c.title for c in campaigns.brand_campaigns(current_user.id)}
    ids = [s.id for s in items]
    return render("submissions/brand.html", status=status, items=items, views=_views(ids),
                  campaign=campaign, titles=titles, labels=PLATFORM_LABELS, error=error, error_id=error_id,
                  disputes=disputes.disputes_for(ids), actions=service.allowed_actions_for(items, current_user))


@bp.route("/brand/submissions")
@role_required("brand")
def brand_submissions():
    items = [s for c in campaigns.brand_campaigns(current_user.id)
             for s in submissions.submissions_for_campaign(c.id)]
    return _brand_page(items)


@bp.route("/brand/campaigns/<int:campaign_id>/submissions")
@role_required("brand")
def campaign_submissions(campaign_id: int):
    campaign = campaigns.own_campaign(campaign_id, current_user.id)
    return _brand_page(submissions.submissions_for_campaign(campaign.id), campaign=campaign)


@bp.route("/brand/submissions/<int:submission_id>")
@role_required("brand")
def brand_submission(submission_id: int):
    return _brand_page([submissions.submission_for(submission_id, current_user)])


@bp.route("/brand/submissions/<int:submission_id>/review", methods=["POST"])
@role_required("brand")
def review(submission_id: int):
    submission = submissions.submission_for(submission_id, current_user)
    try:
        submissions.review_submission(submission.id, current_user.id, request.form.get("decision", ""),
                                      request.form.get("reason"))
    except DomainError as exc:
        if exc.status_code == 404:
            raise
        return _brand_page([submission], status=exc.status_code, error=exc.message, error_id=submission.id)
    flash("Decision saved.", "success")
    return hx_redirect(url_for("posts.brand_submission", submission_id=submission_id))


@bp.route("/brand/submissions/<int:submission_id>/dispute", methods=["POST"])
@role_required("brand")
def dispute(submission_id: int):
    submission = submissions.submission_for(submission_id, current_user)
    try:
        disputes.open_dispute(submission.id, current_user.id, request.form.get("reason", ""))
    except DomainError as exc:
        if exc.status_code == 404:
            raise
        return _brand_page([submission], status=exc.status_code, error=exc.message, error_id=submission.id)
    flash("Dispute sent. An admin will review the views.", "success")
    return hx_redirect(url_for("posts.brand_submission", submission_id=submission_id))
