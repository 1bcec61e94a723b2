"""Stripe webhook verification: the raw body, its signature, and nothing else, decide.

Invariants:
- the signature is checked on the exact raw bytes Stripe sent (never on
  re-serialised JSON) with ``stripe.WebhookSignature.verify_header`` —
  HMAC-SHA256 over ``f"{t}.{body}"``, compared in constant time — before the
  body is parsed at all;
- a timestamp more than 300 s old is refused (the SDK's check: ``t < now - 300``;
  299 s passes, 301 s fails). Timestamps in the future are not refused — a
  forger cannot sign any timestamp without the secret;
- ``STRIPE_WEBHOOK_SECRET`` may hold several comma-separated secrets while one
  is being rolled: a delivery signed with any of them is accepted;
- every refusal — missing or garbled header, wrong secret, tampered body, stale
  timestamp, body not UTF-8, not JSON, or not an event — raises
  ``WebhookSignatureError`` (HTTP 400, so Stripe retries a genuine delivery and
  a forgery changes nothing); the route does no work before this returns;
- the result is a plain dict (the event as Stripe sent it); deciding whether to
  act on it (event id seen before? object newer on Stripe?) is the caller's job.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import Any

import stripe
from flask import current_app

from app.errors import DomainError

WEBHOOK_TOLERANCE_SECONDS = 300


class WebhookSignatureError(DomainError):
    """The delivery is not provably from Stripe, or not an event: answer 400 and do nothing."""

    status_code = 400
    title = "Webhook refused"


def webhook_secrets(config: Mapping[str, Any] | None = None) -> tuple[str, ...]:
    """The configured signing secrets (comma separated in STRIPE_WEBHOOK_SECRET), blanks dropped."""
    raw = (config if config is not None else current_app.config).get("STRIPE_WEBHOOK_SECRET") or ""
    return tuple(secret.strip() for secret in raw.split(",") if secret.strip())


def verify_webhook(raw_body: bytes, signature_header: str | None, secrets: Sequence[str] | None = None,
                   tolerance: int = WEBHOOK_TOLERANCE_SECONDS) -> dict[str, Any]:
    """The event in ``raw_body`` once its ``Stripe-Signature`` header proves it came from Stripe."""
    secrets = tuple(secrets) if secrets is not None else webhook_secrets()
    if not secrets:
        raise WebhookSignatureError("No webhook signing secret is configured (STRIPE_WEBHOOK_SECRET).")
    if not isinstance(raw_body, bytes | bytearray):
        raise TypeError("verify_webhook needs the raw request body as bytes")
    if not signature_header or not signature_header.strip():
        raise WebhookSignatureError("The Stripe-Signature header is missing.")
    try:
        body = bytes(raw_body).decode("utf-8")
    except UnicodeDecodeError:
        raise WebhookSignatureError("The webhook body is not UTF-8 text.") from None
    refusals: list[str] = []
    for secret in secrets:
        try:
            stripe.WebhookSignature.verify_header(body, signature_header, secret, tolerance)
            return _parse_event(body)
        except stripe.SignatureVerificationError as error:
            refusals.append(str(error))
    raise WebhookSignatureError(_reason(refusals))


def _reason(sdk_messages: list[str]) -> str:
    """The most telling refusal: a stale timestamp means some secret matched, so say that."""
    if any("tolerance" in message for message in sdk_messages):
        return f"The webhook timestamp is more than {WEBHOOK_TOLERANCE_SECONDS} seconds old."
    if any("Unable to extract" in message or "expected scheme" in message for message in sdk_messages):
        return "The Stripe-Signature header is not in the t=...,v1=... form."
    return "The webhook signature does not match."


def _parse_event(body: str) -> dict[str, Any]:
    try:
        event = json.loads(body)
    except ValueError:
        raise WebhookSignatureError("The webhook body is not JSON.") from None
    data = event.get("data") if isinstance(event, dict) else None
    if (not isinstance(event, dict) or event.get("object") != "event"
            or not isinstance(event.get("id"), str) or not event["id"].startswith("evt_")
            or not isinstance(event.get("type"), str)
            or not isinstance(data, dict) or not isinstance(data.get("object"), dict)):
        raise WebhookSignatureError("The webhook body is not a Stripe event.")
    return event
