"""Stripe failures, translated into what they mean for the caller.

Invariants:
- every SDK exception becomes exactly one of: ``StripeUnavailableError`` (the
  outcome is unknown: timeout, connection error, 5xx, 409 "in progress", 429,
  an idempotency key reused with other parameters — the object may exist, so
  the caller keeps its work in flight and reconciles), ``StripeDeclinedError``
  (a definite 4xx: nothing was created or moved), or
  ``StripeConfigurationError`` (our key was refused: nothing was done);
- all are ``DomainError`` subclasses with a message safe to show staff; the
  unknown/misconfigured ones answer 503 (upstream and temporary), never 500;
- no message carries a secret key: Stripe masks keys in its messages and
  ``scrub_secrets`` masks anything shaped like one besides.
"""

from __future__ import annotations

import re
from typing import Any

import stripe

from app.errors import DomainError

SECRET_KEY_SHAPE = re.compile(r"\b(?:sk|rk)_(?:test|live)_[A-Za-z0-9]+")


class StripeGatewayError(DomainError):
    """A Stripe call did not give us the object; ``message`` is safe to show staff."""

    title = "Payment provider error"

    def __init__(self, message: str, *, code: str | None = None, http_status: int | None = None,
                 request_id: str | None = None, operation: str | None = None):
        super().__init__(message)
        self.code = code
        self.http_status = http_status
        self.request_id = request_id
        self.operation = operation


class StripeUnavailableError(StripeGatewayError):
    """Outcome unknown (timeout, connection error, 5xx, 409, 429): the caller must reconcile, not fail.

    Status 503: the fault is upstream and temporary; like every DomainError it is never a 500 page.
    """

    status_code = 503
    title = "Payments are temporarily unavailable"

    def __init__(self, message: str, *, rate_limited: bool = False, **kwargs: Any):
        super().__init__(message, **kwargs)
        self.rate_limited = rate_limited


class StripeDeclinedError(StripeGatewayError):
    """Stripe answered with a definite refusal (4xx): nothing was created or moved."""

    status_code = 400
    title = "The payment provider refused this"


class StripeConfigurationError(StripeGatewayError):
    """Stripe rejected our credentials (401/403): nothing was done; the settings must be fixed."""

    status_code = 503
    title = "Payments are not set up correctly"


class PaymentsOfflineError(StripeGatewayError):
    """No STRIPE_SECRET_KEY: payments run offline (admins record funding, support marks payouts paid)."""

    status_code = 409
    title = "Card payments are off"

    def __init__(self):
        super().__init__("Card payments are not switched on here: an admin records funding and "
                         "support marks payouts paid.")


class DuplicateTransferError(StripeGatewayError):
    """More than one Stripe transfer carries one payout id: money went out twice — stop and investigate."""

    status_code = 409
    title = "Duplicate transfer"


def scrub_secrets(text: str, api_key: str | None = None) -> str:
    """``text`` with our key and anything shaped like a Stripe secret key masked."""
    if api_key:
        text = text.replace(api_key, "sk_***")
    return SECRET_KEY_SHAPE.sub("sk_***", text)


def translate_error(error: stripe.StripeError, operation: str, api_key: str | None = None) -> StripeGatewayError:
    """Map an SDK exception to ours by what it means for the caller: unknown, declined or misconfigured."""
    details = error.error
    code = (getattr(details, "code", None) if details is not None else None) or error.code
    stripe_type = getattr(details, "type", None) if details is not None else None
    status = error.http_status
    stripe_message = scrub_secrets(error.user_message or "", api_key).strip()
    context = {"code": code, "http_status": status, "request_id": error.request_id, "operation": operation}
    if isinstance(error, stripe.APIConnectionError):
        return StripeUnavailableError("Stripe could not be reached or did not answer in time; the outcome is "
                                      "unknown and will be checked again.", **{**context, "code": "connection_error"})
    if isinstance(error, stripe.RateLimitError):
        return StripeUnavailableError("Stripe is limiting our requests right now; this will be retried.",
                                      rate_limited=True, **{**context, "code": code or "rate_limit"})
    if isinstance(error, stripe.IdempotencyError) or stripe_type == "idempotency_error":
        return StripeUnavailableError(f"Stripe refused a repeated request: {stripe_message}",
                                      **{**context, "code": "idempotency_error"})
    if isinstance(error, (stripe.AuthenticationError, stripe.PermissionError)):
        return StripeConfigurationError(f"Stripe rejected our API credentials: {stripe_message}", **context)
    if isinstance(error, (stripe.InvalidRequestError, stripe.CardError)) and status in (400, 402, 404):
        return StripeDeclinedError(stripe_message or "Stripe refused the request.", **context)
    return StripeUnavailableError(f"Stripe failed (HTTP {status}); the outcome is unknown and will be checked "
                                  "again.", **context)
