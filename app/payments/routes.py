"""Payments routes: Stripe webhooks (POST /webhooks/stripe) and the funding pages' actions.

Invariants:
- the webhook is CSRF-exempt and open to anonymous callers, because the signature on
  the raw body (``verify_webhook``: Stripe-Signature, 300 s tolerance) is the only
  thing that authorises a delivery; nothing is read or written before it passes
  (a refusal is a 400 and changes nothing); the route only verifies and hands the
  event to ``payments.service.handle_stripe_event``, which applies it once;
- the brand's "pay by card" action keeps the URL of the campaign page it sits on
  (``/brand/campaigns/<id>/fund-card``, brands only, their own campaign) and goes through
  ``payments.funding``, which checks the campaign rules (the admin's offline funding form
  is part of ``app/admin/campaign_review``);
- ``/brand/campaigns/<id>/refunds`` lists a completed campaign's refunds (brands only,
  their own campaign, 404 otherwise); the campaign page loads it as a fragment, because
  campaigns sits below payments and never imports it.
"""

from __future__ import annotations

from flask import Blueprint, abort, flash, jsonify, request, url_for
from flask_login import current_user

from app.campaigns import service as campaigns
from app.campaigns.forms import ActionForm
from app.errors import DomainError
from app.extensions import csrf, limiter
from app.htmx import hx_redirect, is_htmx, render
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


@bp.route("/brand/campaigns/<int:campaign_id>/refunds")
@role_required("brand")
def campaign_refunds(campaign_id: int):
    """The refunds of the brand's own campaign: a page, and the fragment its campaign page loads."""
    campaign = campaigns.own_campaign(campaign_id, current_user.id)
    return render("payments/refunds.html", block="refunds", campaign=campaign,
                  refunds=refunds.refunds_of(campaign.id))


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
