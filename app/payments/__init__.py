"""Payments: brand funding through Stripe Checkout, Stripe webhooks, Stripe Connect onboarding.

Modules: ``stripe_gateway`` (the calls), ``stripe_errors`` (what failures mean),
``stripe_objects`` (what comes back), ``webhooks`` (signature verification),
``service`` (webhook dispatch), ``funding`` (offline and card funding of campaigns),
``refunds`` (unspent escrow back to the brand), ``jobs``, ``routes``. Only this package
writes ``CampaignPayment`` and ``CampaignRefund`` rows.

Invariants: only ``stripe_gateway`` calls the Stripe API and only ``webhooks``
verifies Stripe deliveries; both raise our own errors (``StripeGatewayError``
subclasses, ``WebhookSignatureError``), never raw SDK exceptions; with no
STRIPE_SECRET_KEY the app runs payments offline and ``get_gateway`` raises
``PaymentsOfflineError`` instead of calling anyone.
"""

from app.payments.stripe_errors import (
    DuplicateTransferError,
    PaymentsOfflineError,
    StripeConfigurationError,
    StripeDeclinedError,
    StripeGatewayError,
    StripeUnavailableError,
)
from app.payments.stripe_gateway import StripeGateway, StripeSettings, get_gateway
from app.payments.stripe_objects import (
    AccountLink,
    CheckoutSession,
    ConnectedAccount,
    PaymentIntent,
    Refund,
    Transfer,
)
from app.payments.webhooks import WebhookSignatureError, verify_webhook

__all__ = [
    "AccountLink", "CheckoutSession", "ConnectedAccount", "DuplicateTransferError", "PaymentIntent",
    "PaymentsOfflineError", "Refund", "StripeConfigurationError", "StripeDeclinedError", "StripeGateway",
    "StripeGatewayError", "StripeSettings", "StripeUnavailableError", "Transfer", "WebhookSignatureError",
    "get_gateway", "verify_webhook",
]
