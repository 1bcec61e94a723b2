"""The Stripe gateway: the only code that calls the Stripe API.

Invariants:
- one ``stripe.StripeClient`` per process and settings, with explicit timeouts
  (connect 5 s, read 30 s) and ``max_network_retries=2``; it talks to
  ``STRIPE_API_BASE`` when set (tests point it at a local fake), else to Stripe;
- every create carries an idempotency key derived from our own ids
  (``payout-42``, ``checkout-7-1``, ``express-account-user-9``, refunds: the
  caller's key), so a retry — by the SDK, an RQ retry or the reconciler — can
  never create a second object. The SDK builds the headers once per call, so
  its own retries resend the same key;
- which answers the SDK retries (stripe 16.1.0, ``HTTPClient._should_retry``,
  checked by tests against the fake): connection errors and timeouts, 409,
  every 5xx, and any answer with ``Stripe-Should-Retry: true``; an answer with
  ``Stripe-Should-Retry: false`` is not retried, and neither is a **429 without
  that header** — it surfaces here as ``StripeUnavailableError(rate_limited=True)``
  and the caller (an RQ job) retries later with the same key. The SDK waits
  0.5 s then 0.5–1 s between its attempts (real sleeps);
- every failure is one of ours (``stripe_errors``), never a raw SDK exception:
  ``StripeUnavailableError`` — the outcome is UNKNOWN (timeout, connection
  error, 5xx, 409 "request in progress", 429, an idempotency key reused with
  other parameters): the object may exist; the caller keeps its work in flight
  and reconciles (``find_transfer``), never treats this as a failure;
  ``StripeDeclinedError`` — Stripe gave a definite 4xx answer (insufficient
  balance, destination not able to receive transfers, no such object): Stripe's
  message and code are kept; note that Stripe stores that answer under the
  idempotency key for 24 h, so a retry of the same work after a decline needs a
  new ``attempt`` (a new key) — bump it only after a *definite* decline;
  ``StripeConfigurationError`` — our key was rejected (401/403): nothing was
  done, operators must fix the settings;
- no message or log line contains the API key: Stripe masks keys in its
  messages and we scrub anything shaped like a secret key besides;
- bad input (non-integer or non-positive cents, bad currency, malformed ids)
  raises ``ValidationError`` before any HTTP call.
"""

from __future__ import annotations

import os
import re
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import stripe
import structlog
from flask import current_app

from app.errors import ValidationError
from app.payments.stripe_errors import (
    DuplicateTransferError,
    PaymentsOfflineError,
    translate_error,
)
from app.payments.stripe_objects import (
    AccountLink,
    CheckoutSession,
    ConnectedAccount,
    PaymentIntent,
    Refund,
    Transfer,
)

log = structlog.get_logger(__name__)

CURRENCY = re.compile(r"[a-z]{3}")
STRIPE_ID = {
    "checkout_session": re.compile(r"cs_[A-Za-z0-9_]{1,200}"),
    "payment_intent": re.compile(r"pi_[A-Za-z0-9_]{1,200}"),
    "account": re.compile(r"acct_[A-Za-z0-9]{1,200}"),
    "transfer": re.compile(r"tr_[A-Za-z0-9_]{1,200}"),
}
EXPRESS_COUNTRIES_HINT = "a two-letter country code such as US or GB"
TRANSFER_LIST_PAGE = 100


@dataclass(frozen=True)
class StripeSettings:
    api_key: str = field(repr=False)
    api_base: str | None = None
    connect_timeout: float = 5.0
    read_timeout: float = 30.0
    max_network_retries: int = 2

    @classmethod
    def from_config(cls, config: Mapping[str, Any]) -> StripeSettings:
        api_key = config.get("STRIPE_SECRET_KEY")
        if not api_key:
            raise PaymentsOfflineError()
        return cls(api_key=api_key, api_base=(config.get("STRIPE_API_BASE") or None))


def _require_our_id(name: str, value: object) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value <= 0:
        raise ValidationError(f"{name} must be a positive whole number, got {value!r}.", field=name)
    return value


def _require_cents(name: str, value: object, *, allow_zero: bool = False) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise ValidationError(f"{name} must be a whole number of cents, got {value!r}.", field=name)
    if value < 0 or (value == 0 and not allow_zero):
        raise ValidationError(f"{name} must be more than zero cents, got {value}.", field=name)
    return value


def _require_currency(value: object) -> str:
    if not isinstance(value, str) or not CURRENCY.fullmatch(value.lower()):
        raise ValidationError(f"Currency must be a three-letter code such as usd, got {value!r}.", field="currency")
    return value.lower()


def _require_stripe_id(kind: str, value: object) -> str:
    if not isinstance(value, str) or not STRIPE_ID[kind].fullmatch(value):
        raise ValidationError(f"That is not a Stripe {kind.replace('_', ' ')} id: {value!r}.", field=kind)
    return value


def _require_text(name: str, value: object) -> str:
    if not isinstance(value, str) or not value.strip():
        raise ValidationError(f"{name} is required.", field=name)
    return value.strip()


def _require_url(name: str, value: object) -> str:
    url = _require_text(name, value)
    if not url.startswith(("https://", "http://")):
        raise ValidationError(f"{name} must be an absolute http(s) URL.", field=name)
    return url


def _require_email(value: object) -> str:
    email = _require_text("email", value)
    if "@" not in email or any(c.isspace() for c in email):
        raise ValidationError(f"That is not an email address: {email!r}.", field="email")
    return email


def _require_country(value: object) -> str:
    if not isinstance(value, str) or not re.fullmatch(r"[A-Za-z]{2}", value):
        raise ValidationError(f"Country must be {EXPRESS_COUNTRIES_HINT}, got {value!r}.", field="country")
    return value.upper()


def _as_dict(obj: Any) -> dict[str, Any]:
    return obj.to_dict() if hasattr(obj, "to_dict") else dict(obj)


class StripeGateway:
    """Typed calls over one ``stripe.StripeClient``; safe to share between threads."""

    def __init__(self, settings: StripeSettings):
        self.settings = settings
        base_addresses = {"api": settings.api_base.rstrip("/")} if settings.api_base else None
        http_client = stripe.RequestsClient(timeout=(settings.connect_timeout, settings.read_timeout))
        self.client = stripe.StripeClient(
            settings.api_key, base_addresses=base_addresses,
            max_network_retries=settings.max_network_retries, http_client=http_client,
        )

    # --- brand funding ------------------------------------------------------------------------

    def create_checkout_session(self, campaign_id: int, amount_cents: int, currency: str, brand_email: str,
                                success_url: str, cancel_url: str, fee_cents: int = 0,
                                attempt: int = 1) -> CheckoutSession:
        """A Checkout Session charging the campaign budget (+ the brand-side fee), campaign id in metadata."""
        campaign_id = _require_our_id("campaign_id", campaign_id)
        amount_cents = _require_cents("amount_cents", amount_cents)
        fee_cents = _require_cents("fee_cents", fee_cents, allow_zero=True)
        attempt = _require_our_id("attempt", attempt)
        currency = _require_currency(currency)
        metadata = {"campaign_id": str(campaign_id)}
        line_items = [self._line_item(f"Campaign #{campaign_id} budget", amount_cents, currency)]
        if fee_cents:
            line_items.append(self._line_item("ContentFlow service fee", fee_cents, currency))
        params = {
            "mode": "payment",
            "line_items": line_items,
            "metadata": metadata,
            "client_reference_id": str(campaign_id),
            "customer_email": _require_email(brand_email),
            "payment_intent_data": {"metadata": metadata},
            "success_url": _require_url("success_url", success_url),
            "cancel_url": _require_url("cancel_url", cancel_url),
        }
        session = self._call("checkout.sessions.create", self.client.v1.checkout.sessions.create, params,
                             idempotency_key=f"checkout-{campaign_id}-{attempt}")
        return CheckoutSession.from_stripe(session)

    @staticmethod
    def _line_item(name: str, amount_cents: int, currency: str) -> dict[str, Any]:
        return {"quantity": 1, "price_data": {"currency": currency, "unit_amount": amount_cents,
                                              "product_data": {"name": name}}}

    def retrieve_checkout_session(self, session_id: str) -> CheckoutSession:
        session_id = _require_stripe_id("checkout_session", session_id)
        return CheckoutSession.from_stripe(
            self._call("checkout.sessions.retrieve", self.client.v1.checkout.sessions.retrieve, session_id))

    def retrieve_payment_intent(self, payment_intent_id: str) -> PaymentIntent:
        payment_intent_id = _require_stripe_id("payment_intent", payment_intent_id)
        return PaymentIntent.from_stripe(
            self._call("payment_intents.retrieve", self.client.v1.payment_intents.retrieve, payment_intent_id))

    def create_refund(self, payment_intent_id: str, amount_cents: int, idempotency_key: str,
                      campaign_id: int | None = None) -> Refund:
        """Refund part of a payment (the unspent escrow); ``idempotency_key`` comes from our row id."""
        params: dict[str, Any] = {
            "payment_intent": _require_stripe_id("payment_intent", payment_intent_id),
            "amount": _require_cents("amount_cents", amount_cents),
            "reason": "requested_by_customer",
        }
        if campaign_id is not None:
            params["metadata"] = {"campaign_id": str(_require_our_id("campaign_id", campaign_id))}
        refund = self._call("refunds.create", self.client.v1.refunds.create, params,
                            idempotency_key=_require_text("idempotency_key", idempotency_key))
        return Refund.from_stripe(refund)

    # --- Connect onboarding -------------------------------------------------------------------

    def create_express_account(self, user_id: int, email: str, country: str) -> ConnectedAccount:
        user_id = _require_our_id("user_id", user_id)
        params = {
            "type": "express",
            "country": _require_country(country),
            "email": _require_email(email),
            "capabilities": {"transfers": {"requested": True}},
            "metadata": {"user_id": str(user_id)},
        }
        account = self._call("accounts.create", self.client.v1.accounts.create, params,
                             idempotency_key=f"express-account-user-{user_id}")
        return ConnectedAccount.from_stripe(account)

    def create_account_link(self, account_id: str, refresh_url: str, return_url: str) -> AccountLink:
        """A fresh single-use onboarding link (no fixed key: each visit needs a new link)."""
        params = {
            "account": _require_stripe_id("account", account_id),
            "refresh_url": _require_url("refresh_url", refresh_url),
            "return_url": _require_url("return_url", return_url),
            "type": "account_onboarding",
        }
        return AccountLink.from_stripe(self._call("account_links.create", self.client.v1.account_links.create, params))

    def retrieve_account(self, account_id: str) -> ConnectedAccount:
        account_id = _require_stripe_id("account", account_id)
        return ConnectedAccount.from_stripe(self._call("accounts.retrieve", self.client.v1.accounts.retrieve,
                                                       account_id))

    # --- payouts ------------------------------------------------------------------------------

    def create_transfer(self, payout_id: int, amount_cents: int, currency: str, destination: str,
                        transfer_group: str, attempt: int = 1) -> Transfer:
        """Send a payout to a connected account, at most once per (payout id, attempt)."""
        payout_id = _require_our_id("payout_id", payout_id)
        attempt = _require_our_id("attempt", attempt)
        params = {
            "amount": _require_cents("amount_cents", amount_cents),
            "currency": _require_currency(currency),
            "destination": _require_stripe_id("account", destination),
            "transfer_group": _require_text("transfer_group", transfer_group),
            "metadata": {"payout_id": str(payout_id)},
        }
        return Transfer.from_stripe(self._call("transfers.create", self.client.v1.transfers.create, params,
                                               idempotency_key=transfer_idempotency_key(payout_id, attempt)))

    def find_transfers(self, transfer_group: str, payout_id: int | None = None) -> list[Transfer]:
        """Every transfer in ``transfer_group`` (all pages), oldest first; only ``payout_id``'s when given."""
        transfer_group = _require_text("transfer_group", transfer_group)
        if payout_id is not None:
            payout_id = _require_our_id("payout_id", payout_id)

        def list_all() -> list[dict[str, Any]]:
            page = self.client.v1.transfers.list(params={"transfer_group": transfer_group,
                                                         "limit": TRANSFER_LIST_PAGE})
            return [_as_dict(item) for item in page.auto_paging_iter()]

        transfers = [Transfer.from_stripe(obj) for obj in self._call("transfers.list", list_all)]
        transfers.reverse()  # Stripe lists newest first
        return [t for t in transfers if payout_id is None or t.payout_id == payout_id]

    def find_transfer(self, payout_id: int, transfer_group: str) -> Transfer | None:
        """The one transfer made for ``payout_id`` (reconciling an unknown outcome), or None if none was made."""
        found = self.find_transfers(transfer_group, payout_id)
        if len(found) > 1:
            log.error("stripe_duplicate_transfer", payout_id=payout_id, transfer_ids=[t.id for t in found])
            raise DuplicateTransferError(
                f"Payout {payout_id} has {len(found)} Stripe transfers: {', '.join(t.id for t in found)}.",
                code="duplicate_transfer", operation="transfers.list")
        return found[0] if found else None

    def retrieve_transfer(self, transfer_id: str) -> Transfer:
        transfer_id = _require_stripe_id("transfer", transfer_id)
        return Transfer.from_stripe(self._call("transfers.retrieve", self.client.v1.transfers.retrieve, transfer_id))

    # --- plumbing -----------------------------------------------------------------------------

    def _call(self, operation: str, method: Callable[..., Any], *args: Any,
              idempotency_key: str | None = None) -> Any:
        options = {"idempotency_key": idempotency_key} if idempotency_key else None
        try:
            result = method(*args, options=options) if options else method(*args)
        except stripe.StripeError as error:
            translated = translate_error(error, operation, self.settings.api_key)
            log.warning("stripe_call_failed", operation=operation, error_class=type(translated).__name__,
                        http_status=translated.http_status, code=translated.code,
                        stripe_request_id=translated.request_id, idempotency_key=idempotency_key,
                        message=translated.message)
            raise translated from error
        log.info("stripe_call", operation=operation, idempotency_key=idempotency_key)
        return result if isinstance(result, list) else _as_dict(result)


def transfer_idempotency_key(payout_id: int, attempt: int = 1) -> str:
    """``payout-42`` for the first attempt, ``payout-42-attempt-2`` after a definite decline."""
    return f"payout-{payout_id}" if attempt == 1 else f"payout-{payout_id}-attempt-{attempt}"


_GATEWAYS: dict[tuple[int, StripeSettings], StripeGateway] = {}
_GATEWAYS_LOCK = threading.Lock()


def get_gateway(config: Mapping[str, Any] | None = None) -> StripeGateway:
    """The process's gateway for these settings (the app's config by default).

    Raises ``PaymentsOfflineError`` when STRIPE_SECRET_KEY is unset. Keyed by pid
    so a forked RQ worker never shares the parent's pooled sockets.
    """
    settings = StripeSettings.from_config(config if config is not None else current_app.config)
    key = (os.getpid(), settings)
    with _GATEWAYS_LOCK:
        gateway = _GATEWAYS.get(key)
        if gateway is None:
            gateway = _GATEWAYS[key] = StripeGateway(settings)
    return gateway
