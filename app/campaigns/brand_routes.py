"""Brand pages: campaign list, the creation wizard, a campaign with its applications,
lifecycle buttons, live edits, decisions on applications, and direct asset uploads.
Paying by card (the button on the campaign page) is ``payments.fund_with_card``; the
page's refund list comes from payments too (the ``campaign_refunds`` template global).

Invariants: every route is for brands only and every object goes through a service
check of ownership (another brand's campaign is a 404); each wizard step validates
alone and, for htmx, swaps the next step in place (``wizard`` block, URL pushed);
without JavaScript the same forms post and redirect (303) to the next step; escrow
and the amount due come from ``campaigns.escrow`` and whether a campaign may take
funding from ``rules.may_take_funding`` (templates get flags, never status lists).
"""

from __future__ import annotations

from flask import abort, current_app, flash, jsonify, request, url_for
from flask_login import current_user

from app.campaigns import applications, assets, change_requests, escrow, rules, service
from app.campaigns.blueprint import bp
from app.campaigns.forms import (
    ActionForm,
    BasicsForm,
    BudgetForm,
    ChangeRequestForm,
    LiveEditForm,
    ReasonForm,
    ScheduleForm,
    end_of,
    last_day,
)
from app.campaigns.models import CAMPAIGN_STATUSES, PLATFORM_LABELS, platforms_from_mask
from app.campaigns.rules import missing_for_submission
from app.errors import DomainError, attach_to_form
from app.htmx import hx_redirect, is_partial, render
from app.money import format_money
from app.security import role_required

STEPS = ("basics", "budget", "schedule", "assets", "review")
STEP_LABELS = {"basics": "Basics", "budget": "Budget", "schedule": "Schedule", "assets": "Assets",
               "review": "Review"}
FORMS = {"basics": BasicsForm, "budget": BudgetForm, "schedule": ScheduleForm}


# A service names the model field; the form posts cents and dates under their text names.
FORM_FIELD_FOR = {"cpm_cents": "cpm", "budget_cents": "budget", "max_payout_per_post_cents": "max_payout_per_post",
                  "max_earnings_per_clipper_cents": "max_earnings_per_clipper",
                  "starts_at": "starts_on", "ends_at": "ends_on"}


def attach_error(form, exc: DomainError) -> None:
    attach_to_form(form, exc, FORM_FIELD_FOR)


def _prefill(step: str, campaign):
    form = FORMS[step]()
    if request.method == "POST" or campaign is None:
        return form
    if step == "basics":
        form.title.data, form.brief.data = campaign.title, campaign.brief
        form.platforms.data = platforms_from_mask(campaign.platforms_mask)
        form.requirements.data, form.destination_url.data = campaign.requirements, campaign.destination_url
    elif step == "budget":
        form.currency.data = campaign.currency
        for name in ("cpm", "budget", "max_payout_per_post", "max_earnings_per_clipper"):
            cents = getattr(campaign, f"{name}_cents")
            getattr(form, name).data = format_money(cents, campaign.currency) if cents else ""
        form.min_views_per_post.data = campaign.min_views_per_post
        form.max_participants.data = campaign.max_participants
    elif step == "schedule":
        form.starts_on.data = campaign.starts_at.date() if campaign.starts_at else None
        form.ends_on.data = last_day(campaign.ends_at)
        form.hold_days.data, form.auto_approve_hours.data = campaign.hold_days, campaign.auto_approve_hours
        form.approval_mode.data = campaign.approval_mode
    return form


def _wizard(step: str, campaign, form=None, status: int = 200, push: bool = False):
    context = dict(step=step, steps=STEPS, step_labels=STEP_LABELS, campaign=campaign, form=form,
                   action_form=ActionForm(), platform_labels=PLATFORM_LABELS)
    if campaign is not None and step in ("assets", "review"):
        context["assets"] = assets.assets_of(campaign.id)
    if campaign is not None and step == "review":
        context["funded_cents"] = escrow.funded_cents(campaign.id)
        context["missing"] = missing_for_submission(service._values(campaign))
    response = render("campaigns/wizard.html", block="wizard", status=status, **context)
    if push and campaign is not None:
        response.headers["HX-Push-Url"] = url_for("campaigns.wizard_step", campaign_id=campaign.id, step=step)
    return response


def _after_step(campaign, step: str):
    next_step = STEPS[STEPS.index(step) + 1]
    if is_partial():
        form = _prefill(next_step, campaign) if next_step in FORMS else None
        return _wizard(next_step, campaign, form, push=True)
    return hx_redirect(url_for("campaigns.wizard_step", campaign_id=campaign.id, step=next_step))


@bp.route("/brand/campaigns")
@role_required("brand")
def brand_campaigns():
    status = request.args.get("status") or None
    if status is not None and status not in CAMPAIGN_STATUSES:
        status = None
    return render("campaigns/brand_campaigns.html", block="list", status_filter=status,
                  campaigns=service.brand_campaigns(current_user.id, status),
                  counts=service.status_counts(current_user.id), statuses=CAMPAIGN_STATUSES)


@bp.route("/brand/campaigns/new", methods=["GET", "POST"])
@role_required("brand")
def new_campaign():
    form = BasicsForm()
    if request.method == "POST":
        if form.validate_on_submit():
            try:
                campaign = service.create_campaign(current_user.id, **form.values())
            except DomainError as exc:
                attach_error(form, exc)
            else:
                return _after_step(campaign, "basics")
        return _wizard("basics", None, form, status=422)
    return _wizard("basics", None, form)


@bp.route("/brand/campaigns/<int:campaign_id>/steps/<step>", methods=["GET", "POST"])
@role_required("brand")
def wizard_step(campaign_id: int, step: str):
    if step not in STEPS:
        abort(404)
    campaign = service.own_campaign(campaign_id, current_user.id)
    if campaign.status != "draft":
        return hx_redirect(url_for("campaigns.brand_campaign", campaign_id=campaign.id))
    if step not in FORMS:
        if request.method == "POST":
            if not ActionForm().validate_on_submit():
                abort(400)
            return _after_step(campaign, step)
        return _wizard(step, campaign)
    form = _prefill(step, campaign)
    if request.method == "POST":
        if form.validate_on_submit():
            try:
                service.update_draft(campaign.id, current_user.id, **form.values())
            except DomainError as exc:
                attach_error(form, exc)
            else:
                return _after_step(service.own_campaign(campaign_id, current_user.id), step)
        return _wizard(step, campaign, form, status=422)
    return _wizard(step, campaign, form)


@bp.route("/brand/campaigns/<int:campaign_id>")
@role_required("brand")
def brand_campaign(campaign_id: int):
    campaign = service.own_campaign(campaign_id, current_user.id)
    edit_form = LiveEditForm(brief=campaign.brief, ends_on=last_day(campaign.ends_at),
                             max_participants=campaign.max_participants)
    listed = applications.applications_to(campaign.id)
    can = {application.id: applications.allowed_actions(application, current_user, campaign)
           for application, _ in listed}
    return render("campaigns/brand_campaign.html", campaign=campaign,
                  actions=service.allowed_actions(campaign, current_user), application_actions=can,
                  applications=listed, assets=assets.assets_of(campaign.id),
                  funded_cents=escrow.funded_cents(campaign.id), action_form=ActionForm(),
                  reason_form=ReasonForm(), edit_form=edit_form, platform_labels=PLATFORM_LABELS,
                  pending_change=change_requests.pending_request(campaign.id), change_form=ChangeRequestForm(),
                  card_funding=current_app.config.get("PAYMENTS_MODE") == "stripe",
                  card_due_cents=escrow.amount_due_cents(campaign), can_fund=rules.may_take_funding(campaign))


LIFECYCLE_ACTIONS = {
    "submit": (service.submit_campaign, "Submitted for review. We will tell you when it is approved."),
    "pause": (service.pause_campaign, "Campaign paused: clippers cannot join until you resume it."),
    "resume": (service.resume_campaign, "Campaign live again."),
    "complete": (service.complete_campaign, "Campaign completed."),
    "discard": (service.withdraw_campaign, "Campaign discarded."),
}


@bp.route("/brand/campaigns/<int:campaign_id>/<any(submit, pause, resume, complete, discard):action>",
          methods=["POST"])
@role_required("brand")
def campaign_action(campaign_id: int, action: str):
    if not ActionForm().validate_on_submit():
        abort(400)
    function, message = LIFECYCLE_ACTIONS[action]
    try:
        function(campaign_id, current_user.id)
    except DomainError as exc:
        if exc.status_code == 404:
            raise
        flash(exc.message, "error")
    else:
        flash(message, "success")
    return hx_redirect(url_for("campaigns.brand_campaign", campaign_id=campaign_id))


@bp.route("/brand/campaigns/<int:campaign_id>/edit", methods=["POST"])
@role_required("brand")
def edit_live(campaign_id: int):
    campaign = service.own_campaign(campaign_id, current_user.id)
    form = LiveEditForm()
    if form.validate_on_submit():
        try:
            service.edit_live_campaign(campaign.id, current_user.id, brief=form.brief.data or "",
                                       ends_at=end_of(form.ends_on.data),
                                       max_participants=form.max_participants.data)
        except DomainError as exc:
            if exc.status_code == 404:
                raise
            flash(exc.message, "error")
        else:
            flash("Changes saved.", "success")
    else:
        flash(" ".join(e for errors in form.errors.values() for e in errors), "error")
    return hx_redirect(url_for("campaigns.brand_campaign", campaign_id=campaign.id))


@bp.route("/brand/applications/<int:application_id>/<any(approve, reject, remove):decision>", methods=["POST"])
@role_required("brand")
def decide_application(application_id: int, decision: str):
    form = ReasonForm()
    if not form.validate_on_submit():
        abort(400)
    try:
        if decision == "approve":
            application = applications.approve_application(application_id, current_user.id)
        elif decision == "reject":
            application = applications.reject_application(application_id, current_user.id, form.reason.data)
        else:
            application = applications.remove_participant(application_id, current_user.id, form.reason.data)
    except DomainError as exc:
        if exc.status_code == 404:
            raise
        flash(exc.message, "error")
        return hx_redirect(request.referrer if request.referrer and request.referrer.startswith(request.host_url)
                           else url_for("campaigns.brand_campaigns"))
    flash({"approve": "Clipper approved.", "reject": "Application declined.",
           "remove": "Clipper removed."}[decision], "success")
    return hx_redirect(url_for("campaigns.brand_campaign", campaign_id=application.campaign_id))


def _int_or_none(text: str | None) -> int | None:
    return int(text) if text and text.isdigit() and len(text) < 16 else None


@bp.route("/brand/campaigns/<int:campaign_id>/assets/ticket", methods=["POST"])
@role_required("brand")
def asset_ticket(campaign_id: int):
    form = request.form
    try:
        ticket = assets.upload_ticket(campaign_id, current_user.id, kind=form.get("kind", ""),
                                      filename=form.get("filename", ""), content_type=form.get("content_type", ""),
                                      size_bytes=_int_or_none(form.get("size_bytes")))
    except DomainError as exc:
        return jsonify(error={"message": exc.message}), exc.status_code
    return jsonify(ticket.as_json())


@bp.route("/brand/campaigns/<int:campaign_id>/assets", methods=["POST"])
@role_required("brand")
def confirm_asset(campaign_id: int):
    form = request.form
    try:
        asset = assets.record_asset(campaign_id, current_user.id, key=form.get("key", ""), kind=form.get("kind", ""),
                                    filename=form.get("filename", ""), size_bytes=_int_or_none(form.get("size_bytes")))
    except DomainError as exc:
        if exc.status_code == 404:
            raise
        return render("campaigns/_asset.html", status=exc.status_code, asset=None, error=exc.message)
    return render("campaigns/_asset.html", asset=asset, error=None)
