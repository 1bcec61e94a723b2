"""What the Stripe gateway hands back: small frozen records read from Stripe objects.

Invariants:
- money is an integer in minor units (``*_cents``) with a lowercase ISO
  currency, exactly as Stripe reports it — never a float;
- our own ids come back from Stripe ``metadata`` (always strings there) as
  ``int`` or ``None`` when absent or not a number — a record never guesses;
- each record keeps Stripe's ``id`` so a caller can re-read the object later
  (out-of-order webhooks are resolved by re-reading, not by trusting a payload);
- ``from_stripe`` reads a plain dict — an event's ``data.object`` or an API
  answer's ``StripeObject.to_dict()`` (in stripe 16 a StripeObject is no longer
  a dict) — so webhook handlers and API calls read objects the same way.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any


def _get(obj: Any, key: str, default: Any = None) -> Any:
    if isinstance(obj, Mapping):
        value = obj.get(key, default)
        return default if value is None else value
    return default


def _metadata_int(obj: Any, key: str) -> int | None:
    value = _get(_get(obj, "metadata") or {}, key)
    if isinstance(value, str) and value.isdigit():
        return int(value)
    return None


def _id_of(value: Any) -> str | None:
    """An expandable field is either an id string or the expanded object."""
    if value is None or isinstance(value, str):
        return value
    return _get(value, "id")


@dataclass(frozen=True)
class CheckoutSession:
    id: str
    url: str | None
    status: str  # open | complete | expired
    payment_status: str  # unpaid | paid | no_payment_required
    amount_total_cents: int
    currency: str
    campaign_id: int | None
    client_reference_id: str | None
    payment_intent_id: str | None

    @classmethod
    def from_stripe(cls, obj: Mapping[str, Any]) -> CheckoutSession:
        return cls(
            id=obj["id"], url=_get(obj, "url"), status=_get(obj, "status", "open"),
            payment_status=_get(obj, "payment_status", "unpaid"),
            amount_total_cents=int(_get(obj, "amount_total") or 0), currency=_get(obj, "currency", ""),
            campaign_id=_metadata_int(obj, "campaign_id"), client_reference_id=_get(obj, "client_reference_id"),
            payment_intent_id=_id_of(_get(obj, "payment_intent")),
        )

    @property
    def is_paid(self) -> bool:
        return self.status == "complete" and self.payment_status == "paid"


@dataclass(frozen=True)
class PaymentIntent:
    id: str
    status: str  # succeeded | processing | requires_payment_method | canceled | ...
    amount_cents: int
    amount_received_cents: int
    currency: str
    campaign_id: int | None
    latest_charge_id: str | None

    @classmethod
    def from_stripe(cls, obj: Mapping[str, Any]) -> PaymentIntent:
        return cls(
            id=obj["id"], status=_get(obj, "status", ""), amount_cents=int(_get(obj, "amount") or 0),
            amount_received_cents=int(_get(obj, "amount_received") or 0), currency=_get(obj, "currency", ""),
            campaign_id=_metadata_int(obj, "campaign_id"), latest_charge_id=_id_of(_get(obj, "latest_charge")),
        )

    @property
    def succeeded(self) -> bool:
        return self.status == "succeeded"


@dataclass(frozen=True)
class Refund:
    id: str
    status: str  # pending | succeeded | failed | canceled | requires_action
    amount_cents: int
    currency: str
    payment_intent_id: str | None

    @classmethod
    def from_stripe(cls, obj: Mapping[str, Any]) -> Refund:
        return cls(
            id=obj["id"], status=_get(obj, "status", ""), amount_cents=int(_get(obj, "amount") or 0),
            currency=_get(obj, "currency", ""), payment_intent_id=_id_of(_get(obj, "payment_intent")),
        )


@dataclass(frozen=True)
class ConnectedAccount:
    id: str
    payouts_enabled: bool
    charges_enabled: bool
    details_submitted: bool
    transfers_capability: str | None  # active | inactive | pending | None
    email: str | None
    user_id: int | None
    currently_due: tuple[str, ...]

    @classmethod
    def from_stripe(cls, obj: Mapping[str, Any]) -> ConnectedAccount:
        requirements = _get(obj, "requirements") or {}
        return cls(
            id=obj["id"], payouts_enabled=bool(_get(obj, "payouts_enabled")),
            charges_enabled=bool(_get(obj, "charges_enabled")),
            details_submitted=bool(_get(obj, "details_submitted")),
            transfers_capability=_get(_get(obj, "capabilities") or {}, "transfers"),
            email=_get(obj, "email"), user_id=_metadata_int(obj, "user_id"),
            currently_due=tuple(_get(requirements, "currently_due") or ()),
        )

    @property
    def can_receive_transfers(self) -> bool:
        return self.payouts_enabled and self.transfers_capability == "active"


@dataclass(frozen=True)
class AccountLink:
    url: str
    expires_at: int  # Unix seconds; an onboarding link is single use and short-lived

    @classmethod
    def from_stripe(cls, obj: Mapping[str, Any]) -> AccountLink:
        return cls(url=obj["url"], expires_at=int(_get(obj, "expires_at") or 0))


@dataclass(frozen=True)
class Transfer:
    id: str
    amount_cents: int
    amount_reversed_cents: int
    currency: str
    destination: str | None
    transfer_group: str | None
    payout_id: int | None
    reversed: bool

    @classmethod
    def from_stripe(cls, obj: Mapping[str, Any]) -> Transfer:
        return cls(
            id=obj["id"], amount_cents=int(_get(obj, "amount") or 0),
            amount_reversed_cents=int(_get(obj, "amount_reversed") or 0), currency=_get(obj, "currency", ""),
            destination=_id_of(_get(obj, "destination")), transfer_group=_get(obj, "transfer_group"),
            payout_id=_metadata_int(obj, "payout_id"), reversed=bool(_get(obj, "reversed")),
        )
