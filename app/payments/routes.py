"""Payments routes: Stripe webhooks (POST /webhooks/stripe) and the funding pages' actions.

Invariants:
- the webhook is CSRF-exempt and open to anonymous callers, because the signature on
  the raw body (``verify_webhook``: Stripe-Signature, 300 s tolerance) is the only
  thing that authorises a delivery; nothing is read or written before it passes
  (a refusal is a 400 and changes nothing); the route only verifies and hands the
  event to ``payments.service.handle_stripe_event``, which applies it once;
- the funding actions keep the URLs of the campaign pages they sit on (brand "pay by
  card": ``/brand/campaigns/<id>/fund-card``, brands only, their own campaign; admin
  "record offline funding": ``/admin/campaigns/<id>/funding``, admins only) and go
  through ``payments.funding``, which checks the campaign rules;
- ``campaign_refunds(campaign_id)`` is the template global the brand's campaign page
  lists refunds with (campaigns sits below payments and cannot import it).
"""

from __future__ import annotations

from flask import Blueprint, abort, flash, jsonify, request, url_for
from flask_login import current_user

from app.campaigns import service as campaigns
from app.campaigns.forms import ActionForm, FundingForm
from app.campaigns.review_routes import review_page
from app.errors import DomainError
from app.extensions import csrf, limiter
from app.htmx import hx_redirect, is_htmx, render
from app.money import parse_money
from app.payments import funding, refunds, service
from app.payments.webhooks import verify_webhook
from app.security import role_required

bp = Blueprint("payments", __name__)


@bp.route("/webhooks/stripe", methods=["POST"])
@csrf.exempt
@limiter.exempt
def stripe_webhook():
    event = verify_webhook(request.get_data(), request.headers.get("Stripe-Signature"))
    outcome = service.handle_stripe_event(event)
    return jsonify(received=True, outcome=outcome)


@bp.app_template_global("campaign_refunds")
def campaign_refunds(campaign_id: int) -> list:
    return refunds.refunds_of(campaign_id)


@bp.route("/brand/campaigns/<int:campaign_id>/fund-card", methods=["POST"])
@role_required("brand")
def fund_with_card(campaign_id: int):
    """Send the brand to Stripe Checkout for what the budget still lacks (a continue page
    without htmx: CSP form-action 'self' forbids a redirect to Stripe after a form POST)."""
    if not ActionForm().validate_on_submit():
        abort(400)
    back = url_for("campaigns.brand_campaign", campaign_id=campaign_id, _external=True)
    try:
        checkout_url = funding.start_card_funding(campaign_id, current_user.id, current_user.email,
                                                  back + "?paid=1", back)
    except DomainError as exc:
        if exc.status_code == 404:
            raise
        flash(exc.message, "error")
        return hx_redirect(url_for("campaigns.brand_campaign", campaign_id=campaign_id))
    if is_htmx():
        return hx_redirect(checkout_url)
    response = render("campaigns/continue_to_checkout.html", checkout_url=checkout_url, campaign_id=campaign_id)
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.route("/admin/campaigns/<int:campaign_id>/funding", methods=["POST"])
@role_required("admin")
def record_funding(campaign_id: int):
    campaign = campaigns.own_campaign_for_staff(campaign_id)
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
