"""Stripe webhooks: POST /webhooks/stripe.

Invariants: CSRF-exempt and open to anonymous callers, because the signature on
the raw body (``verify_webhook``: Stripe-Signature, 300 s tolerance) is the only
thing that authorises a delivery; nothing is read or written before it passes
(a refusal is a 400 and changes nothing); the route only verifies and hands the
event to ``payments.service.handle_stripe_event``, which applies it once.
"""

from __future__ import annotations

from flask import Blueprint, jsonify, request

from app.extensions import csrf, limiter
from app.payments import service
from app.payments.webhooks import verify_webhook

bp = Blueprint("payments", __name__)


@bp.route("/webhooks/stripe", methods=["POST"])
@csrf.exempt
@limiter.exempt
def stripe_webhook():
    event = verify_webhook(request.get_data(), request.headers.get("Stripe-Signature"))
    outcome = service.handle_stripe_event(event)
    return jsonify(received=True, outcome=outcome)
