"""Admin campaign review: the queue of campaigns pending review (and of CPM/budget change
requests on live campaigns), one campaign's review page, the three decisions, the two
change-request decisions, and recording an offline funding payment (the form on the
review page). It spans campaigns and payments, so it lives in ``app/admin``.

Invariants: admins only (the global gate has already required TOTP); every decision
goes through the campaign service, which audits who, when and why; a reason is
required to request changes or discard; funding goes through ``payments.funding``,
which checks the campaigns rule; whether the funding form shows is the campaigns rule
``rules.may_take_funding`` (never a status list in the template).
"""

from __future__ import annotations

from flask import Blueprint, flash, url_for
from flask_login import current_user

from app.audit import service as audit
from app.campaigns import applications, assets, change_requests, escrow, rules, service
from app.campaigns.forms import ActionForm, FundingForm, ReasonForm
from app.campaigns.models import PLATFORM_LABELS
from app.errors import DomainError
from app.htmx import hx_redirect, render
from app.money import parse_money
from app.payments import funding
from app.security import role_required

bp = Blueprint("campaign_review", __name__, url_prefix="/admin/campaigns")


@bp.route("")
@role_required("admin")
def queue():
    changes = change_requests.pending_requests()
    return render("admin/campaign_queue.html", campaigns=service.review_queue(), change_requests=changes,
                  shortfalls={change.id: change_requests.shortfall_cents(change, campaign)
                              for change, campaign in changes})


def review_page(campaign_id: int, reason_form=None, funding_form=None, status: int = 200):
    """The admin review page of one campaign (re-rendered with a form's errors)."""
    campaign = service.own_campaign_for_staff(campaign_id)
    return render("admin/campaign_review.html", status=status, campaign=campaign,
                  actions=service.allowed_actions(campaign, current_user),
                  funded_cents=escrow.funded_cents(campaign.id), can_fund=rules.may_take_funding(campaign),
                  assets=assets.assets_of(campaign.id),
                  applications=applications.applications_to(campaign.id),
                  events=audit.events_for("campaign", campaign.id), action_form=ActionForm(),
                  reason_form=reason_form or ReasonForm(), funding_form=funding_form or FundingForm(),
                  platform_labels=PLATFORM_LABELS)


@bp.route("/<int:campaign_id>")
@role_required("admin")
def review(campaign_id: int):
    return review_page(campaign_id)


@bp.route('/<int:campaign_id>/<any(approve, "request-changes", discard):decision>', methods=["POST"])
@role_required("admin")
def decide(campaign_id: int, decision: str):
    form = ReasonForm()
    if not form.validate_on_submit():
        return review_page(campaign_id, reason_form=form, status=422)
    try:
        if decision == "approve":
            service.approve_campaign(campaign_id, current_user.id)
        elif decision == "request-changes":
            service.request_changes(campaign_id, current_user.id, form.reason.data or "")
        else:
            service.discard_campaign(campaign_id, current_user.id, form.reason.data or "")
    except DomainError as exc:
        if exc.status_code == 404:
            raise
        form.reason.errors = [exc.message]
        return review_page(campaign_id, reason_form=form, status=exc.status_code)
    flash({"approve": "Campaign approved and published.", "request-changes": "Changes requested.",
           "discard": "Campaign discarded."}[decision], "success")
    return hx_redirect(url_for("campaign_review.queue"))


@bp.route("/<int:campaign_id>/funding", methods=["POST"])
@role_required("admin")
def record_funding(campaign_id: int):
    campaign = service.own_campaign_for_staff(campaign_id)
    form = FundingForm()
    if form.validate_on_submit():
        try:
            amount = parse_money(form.amount.data, campaign.currency)
            funding.record_offline_funding(campaign.id, amount, form.reference.data, current_user.id)
        except DomainError as exc:
            if exc.status_code == 404:
                raise
            form.amount.errors = [exc.message]
        else:
            flash("Funding recorded.", "success")
            return hx_redirect(url_for("campaign_review.review", campaign_id=campaign.id))
    return review_page(campaign_id, funding_form=form, status=422)


@bp.route("/change-requests/<int:request_id>/<any(approve, reject):decision>", methods=["POST"])
@role_required("admin")
def decide_change(request_id: int, decision: str):
    form = ReasonForm()
    if not form.validate_on_submit():
        flash(" ".join(e for errors in form.errors.values() for e in errors) or "Check the form.", "error")
        return hx_redirect(url_for("campaign_review.queue"))
    try:
        if decision == "approve":
            change_requests.approve_change_request(request_id, current_user.id)
        else:
            change_requests.reject_change_request(request_id, current_user.id, form.reason.data or "")
    except DomainError as exc:
        if exc.status_code == 404:
            raise
        flash(exc.message, "error")
    else:
        flash({"approve": "Change approved: the new terms apply now.", "reject": "Change rejected."}[decision],
              "success")
    return hx_redirect(url_for("campaign_review.queue"))
