"""Brand pages for change requests: ask for a new CPM/budget on a live campaign, or take a
pending request back. (The admin decisions live in ``app/admin/campaign_review``.)

Invariants: brands only; ownership is checked by ``change_requests`` (another brand's
campaign or request is a 404); a refused request flashes its message and changes
nothing; both forms work without JavaScript (POST, then 303 to the campaign page).
"""

from __future__ import annotations

from flask import abort, flash, url_for
from flask_login import current_user

from app.campaigns import change_requests, service
from app.campaigns.blueprint import bp
from app.campaigns.forms import ActionForm, ChangeRequestForm
from app.errors import DomainError
from app.htmx import hx_redirect
from app.money import format_money
from app.security import role_required


@bp.route("/brand/campaigns/<int:campaign_id>/change-request", methods=["POST"])
@role_required("brand")
def request_change(campaign_id: int):
    campaign = service.own_campaign(campaign_id, current_user.id)
    form = ChangeRequestForm()
    if not form.validate_on_submit():
        flash(" ".join(e for errors in form.errors.values() for e in errors) or "Check the form.", "error")
        return hx_redirect(url_for("campaigns.brand_campaign", campaign_id=campaign.id))
    try:
        change = change_requests.request_change(campaign.id, current_user.id, **form.values(campaign.currency))
    except DomainError as exc:
        if exc.status_code == 404:
            raise
        flash(exc.message, "error")
    else:
        message = "Change sent for review. The campaign keeps running on its current terms until it is approved."
        missing = change_requests.shortfall_cents(change, campaign)
        if missing:
            message += (f" The larger budget needs funding first: {format_money(missing, campaign.currency)} "
                        "more must reach escrow before it can be approved.")
        flash(message, "success")
    return hx_redirect(url_for("campaigns.brand_campaign", campaign_id=campaign.id))


@bp.route("/brand/change-requests/<int:request_id>/withdraw", methods=["POST"])
@role_required("brand")
def withdraw_change(request_id: int):
    if not ActionForm().validate_on_submit():
        abort(400)
    try:
        change = change_requests.withdraw_change_request(request_id, current_user.id)
    except DomainError as exc:
        if exc.status_code == 404:
            raise
        flash(exc.message, "error")
        return hx_redirect(url_for("campaigns.brand_campaigns"))
    flash("Change request withdrawn.", "success")
    return hx_redirect(url_for("campaigns.brand_campaign", campaign_id=change.campaign_id))
