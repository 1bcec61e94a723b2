"""The objects behind the fake Stripe API: checkout sessions, payment intents, refunds, Connect accounts,
account links, transfers, the platform balance and events.

Invariants:
- objects are plain dicts in Stripe's JSON shape; metadata values are strings,
  as on Stripe; amounts are integer minor units;
- every handler either returns the object or raises ``StripeRequestError``
  carrying Stripe's status and error body, and whether Stripe would have stored
  that answer under the idempotency key (``executed``: parameter validation is
  not stored, refusals after execution began are);
- the balance never goes below zero through a transfer; refunds never exceed
  what is left of a payment;
- the caller (``FakeStripe``) holds the lock around every handler and helper.
"""

from __future__ import annotations

import copy
import secrets
import string
import time
from collections.abc import Callable
from typing import Any

from stripe._api_version import _ApiVersion


class StripeRequestError(Exception):
    def __init__(self, status: int, body: dict[str, Any], executed: bool):
        super().__init__(body["error"]["message"])
        self.status = status
        self.body = body
        self.executed = executed


def stripe_error(type_: str, message: str, *, code: str | None = None, param: str | None = None) -> dict[str, Any]:
    error: dict[str, Any] = {"type": type_, "message": message}
    if code:
        error["code"] = code
        error["doc_url"] = f"https://stripe.com/docs/error-codes/{code.replace('_', '-')}"
    if param:
        error["param"] = param
    return {"error": error}


def invalid(message: str, *, code: str | None = None, param: str | None = None, status: int = 400,
            executed: bool = False) -> StripeRequestError:
    return StripeRequestError(status, stripe_error("invalid_request_error", message, code=code, param=param), executed)


def missing(kind: str, object_id: str, param: str = "id") -> StripeRequestError:
    return invalid(f"No such {kind}: '{object_id}'", code="resource_missing", param=param, status=404)


def new_id(prefix: str, length: int = 24) -> str:
    return prefix + "".join(secrets.choice(string.ascii_letters + string.digits) for _ in range(length))


def _required(params: dict[str, Any], name: str) -> Any:
    value = params.get(name)
    if value in (None, ""):
        raise invalid(f"Missing required param: {name}.", code="parameter_missing", param=name)
    return value


def _amount(params: dict[str, Any], name: str = "amount", required: bool = True) -> int | None:
    raw = _required(params, name) if required else params.get(name)
    if raw in (None, ""):
        return None
    if not isinstance(raw, str) or not raw.isdigit():
        raise invalid(f"Invalid integer: {raw}", code="parameter_invalid_integer", param=name)
    amount = int(raw)
    if amount < 1:
        raise invalid("This value must be greater than or equal to 1.", code="parameter_invalid_integer", param=name)
    return amount


def _metadata(params: dict[str, Any]) -> dict[str, str]:
    metadata = params.get("metadata") or {}
    return {str(k): str(v) for k, v in metadata.items()} if isinstance(metadata, dict) else {}


class StripeResources:
    url: str

    def reset(self) -> None:
        self.checkout_sessions: dict[str, dict[str, Any]] = {}
        self.payment_intents: dict[str, dict[str, Any]] = {}
        self.refunds: dict[str, dict[str, Any]] = {}
        self.accounts: dict[str, dict[str, Any]] = {}
        self.account_links: list[dict[str, Any]] = []
        self.transfers: dict[str, dict[str, Any]] = {}  # insertion order = creation order
        self.events: dict[str, dict[str, Any]] = {}
        self.balance: dict[str, int] = {}

    def handlers(self) -> dict[str, Callable[..., dict[str, Any]]]:
        return {
            "POST /v1/checkout/sessions": self._create_checkout_session,
            "GET /v1/checkout/sessions/{id}": lambda params, id: self._get(self.checkout_sessions,
                                                                           "checkout.session", id),
            "GET /v1/payment_intents/{id}": lambda params, id: self._get(self.payment_intents, "payment_intent", id),
            "POST /v1/refunds": self._create_refund,
            "POST /v1/accounts": self._create_account,
            "GET /v1/accounts/{id}": lambda params, id: self._get(self.accounts, "account", id),
            "POST /v1/account_links": self._create_account_link,
            "POST /v1/transfers": self._create_transfer,
            "GET /v1/transfers": self._list_transfers,
            "GET /v1/transfers/{id}": lambda params, id: self._get(self.transfers, "transfer", id),
            "GET /v1/balance": self._get_balance,
            "GET /v1/events/{id}": lambda params, id: self._get(self.events, "event", id),
        }

    # --- test helpers (call with the fake's lock held, or from a single test thread) ---------------

    def count(self, kind: str) -> int:
        return len(getattr(self, kind))

    def set_balance(self, amount_cents: int, currency: str = "usd") -> None:
        self.balance[currency] = amount_cents

    def complete_checkout_session(self, session_id: str) -> list[dict[str, Any]]:
        """The brand paid: the session completes, a succeeded PaymentIntent appears, the balance grows.

        Returns the events Stripe would send: checkout.session.completed, payment_intent.succeeded.
        """
        session = self.checkout_sessions[session_id]
        intent = {
            "id": new_id("pi_"), "object": "payment_intent", "amount": session["amount_total"],
            "amount_received": session["amount_total"], "currency": session["currency"], "status": "succeeded",
            "metadata": dict(session["payment_intent_metadata"]), "latest_charge": new_id("ch_"),
            "created": int(time.time()), "livemode": False,
        }
        self.payment_intents[intent["id"]] = intent
        session.update(status="complete", payment_status="paid", payment_intent=intent["id"])
        self.balance[intent["currency"]] = self.balance.get(intent["currency"], 0) + intent["amount"]
        return [self.make_event("checkout.session.completed", self._public(session)),
                self.make_event("payment_intent.succeeded", intent)]

    def enable_payouts(self, account_id: str, enabled: bool = True) -> dict[str, Any]:
        """Onboarding finished (or the account got restricted); returns the account.updated event."""
        account = self.accounts[account_id]
        previous = {"payouts_enabled": account["payouts_enabled"], "capabilities": dict(account["capabilities"])}
        account.update(payouts_enabled=enabled, charges_enabled=enabled, details_submitted=True,
                       capabilities={"transfers": "active" if enabled else "inactive"},
                       requirements={"currently_due": [] if enabled else ["external_account"],
                                     "disabled_reason": None if enabled else "requirements.past_due"})
        return self.make_event("account.updated", account, previous_attributes=previous)

    def reverse_transfer(self, transfer_id: str) -> dict[str, Any]:
        """The whole transfer comes back to the platform balance; returns the transfer.reversed event."""
        transfer = self.transfers[transfer_id]
        transfer.update(reversed=True, amount_reversed=transfer["amount"])
        self.balance[transfer["currency"]] = self.balance.get(transfer["currency"], 0) + transfer["amount"]
        return self.make_event("transfer.reversed", transfer)

    def transfer_event(self, transfer_id: str, type_: str = "transfer.created") -> dict[str, Any]:
        return self.make_event(type_, self.transfers[transfer_id])

    def make_event(self, type_: str, obj: dict[str, Any], previous_attributes: dict[str, Any] | None = None
                   ) -> dict[str, Any]:
        data: dict[str, Any] = {"object": copy.deepcopy(obj)}
        if previous_attributes is not None:
            data["previous_attributes"] = previous_attributes
        event = {
            "id": new_id("evt_"), "object": "event", "api_version": _ApiVersion.CURRENT,
            "created": int(time.time()), "data": data, "livemode": False, "pending_webhooks": 1,
            "request": {"id": None, "idempotency_key": None}, "type": type_,
        }
        self.events[event["id"]] = event
        return copy.deepcopy(event)

    # --- endpoints ------------------------------------------------------------------------------

    @staticmethod
    def _get(store: dict[str, dict[str, Any]], kind: str, object_id: str) -> dict[str, Any]:
        if object_id not in store:
            raise missing(kind, object_id)
        return StripeResources._public(store[object_id])

    @staticmethod
    def _public(obj: dict[str, Any]) -> dict[str, Any]:
        return {k: copy.deepcopy(v) for k, v in obj.items() if k != "payment_intent_metadata"}

    def _create_checkout_session(self, params: dict[str, Any]) -> dict[str, Any]:
        if _required(params, "mode") != "payment":
            raise invalid("This fake supports mode=payment only.", param="mode")
        success_url = _required(params, "success_url")
        line_items = params.get("line_items")
        if not isinstance(line_items, list) or not line_items:
            raise invalid("Missing required param: line_items.", code="parameter_missing", param="line_items")
        total, currencies = 0, set()
        for index, item in enumerate(line_items):
            price = item.get("price_data") or {}
            currencies.add(_required(price, "currency"))
            unit = _amount(price, "unit_amount")
            quantity = int(item.get("quantity") or 1)
            if not price.get("product_data", {}).get("name"):
                param = f"line_items[{index}][price_data][product_data][name]"
                raise invalid(f"Missing required param: {param}.", code="parameter_missing", param=param)
            total += (unit or 0) * quantity
        if len(currencies) != 1:
            raise invalid("All line items must use the same currency.", param="line_items")
        session_id = new_id("cs_test_", 58)
        session = {
            "id": session_id, "object": "checkout.session", "mode": "payment", "status": "open",
            "payment_status": "unpaid", "amount_subtotal": total, "amount_total": total,
            "currency": currencies.pop(), "client_reference_id": params.get("client_reference_id") or None,
            "customer_email": params.get("customer_email") or None, "metadata": _metadata(params),
            "payment_intent": None, "success_url": success_url, "cancel_url": params.get("cancel_url"),
            "url": f"{self.url}/checkout/pay/{session_id}", "created": int(time.time()),
            "expires_at": int(time.time()) + 24 * 3600, "livemode": False,
            "payment_intent_metadata": _metadata(params.get("payment_intent_data") or {}),
        }
        self.checkout_sessions[session_id] = session
        return self._public(session)

    def _create_refund(self, params: dict[str, Any]) -> dict[str, Any]:
        intent_id = _required(params, "payment_intent")
        intent = self.payment_intents.get(intent_id)
        if intent is None:
            raise missing("payment_intent", intent_id, param="payment_intent")
        refunded = sum(r["amount"] for r in self.refunds.values() if r["payment_intent"] == intent_id)
        remaining = intent["amount_received"] - refunded
        amount = _amount(params, required=False) or remaining
        if intent["status"] != "succeeded" or remaining <= 0 or amount > remaining:
            raise invalid(f"Refund amount ({amount}) is greater than unrefunded amount on charge ({remaining}).",
                          param="amount", executed=True)
        refund = {
            "id": new_id("re_"), "object": "refund", "amount": amount, "currency": intent["currency"],
            "payment_intent": intent_id, "charge": intent["latest_charge"], "status": "succeeded",
            "reason": params.get("reason") or None, "metadata": _metadata(params), "created": int(time.time()),
        }
        self.refunds[refund["id"]] = refund
        self.balance[intent["currency"]] = self.balance.get(intent["currency"], 0) - amount
        return dict(refund)

    def _create_account(self, params: dict[str, Any]) -> dict[str, Any]:
        if _required(params, "type") != "express":
            raise invalid("This fake supports type=express only.", param="type")
        country = _required(params, "country")
        if len(country) != 2:
            raise invalid(f"Country '{country}' is unknown. Try using a 2-character alphanumeric country code "
                          "instead, such as 'US', 'EG', or 'GB'.", param="country")
        account = {
            "id": new_id("acct_", 16), "object": "account", "type": "express", "country": country,
            "email": params.get("email") or None, "charges_enabled": False, "payouts_enabled": False,
            "details_submitted": False, "capabilities": {"transfers": "inactive"},
            "requirements": {"currently_due": ["external_account", "individual.first_name", "tos_acceptance.date"],
                             "disabled_reason": "requirements.past_due"},
            "metadata": _metadata(params), "created": int(time.time()),
        }
        self.accounts[account["id"]] = account
        return copy.deepcopy(account)

    def _create_account_link(self, params: dict[str, Any]) -> dict[str, Any]:
        account_id = _required(params, "account")
        for name in ("refresh_url", "return_url", "type"):
            _required(params, name)
        if account_id not in self.accounts:
            raise missing("account", account_id, param="account")
        link = {"object": "account_link", "created": int(time.time()), "expires_at": int(time.time()) + 300,
                "url": f"{self.url}/connect/onboarding/{account_id}/{new_id('', 12)}"}
        self.account_links.append({**link, "account": account_id, "return_url": params["return_url"]})
        return link

    def _create_transfer(self, params: dict[str, Any]) -> dict[str, Any]:
        amount = _amount(params)
        currency = _required(params, "currency")
        destination_id = _required(params, "destination")
        destination = self.accounts.get(destination_id)
        if destination is None:
            raise invalid(f"No such destination: '{destination_id}'", code="resource_missing", param="destination")
        if destination["capabilities"].get("transfers") != "active":
            raise invalid("Your destination account needs to have at least one of the following capabilities "
                          "enabled: transfers, crypto_transfers, legacy_payments", code="insufficient_capabilities_"
                          "for_transfer", param="destination", executed=True)
        available = self.balance.get(currency, 0)
        if amount is None or amount > available:
            raise invalid("You have insufficient available funds in your Stripe account. Try adding funds "
                          "directly to your available balance by creating Charges using the 4000000000000077 "
                          "test card.", code="balance_insufficient", executed=True)
        self.balance[currency] = available - amount
        transfer = {
            "id": new_id("tr_"), "object": "transfer", "amount": amount, "amount_reversed": 0,
            "currency": currency, "destination": destination_id, "destination_payment": new_id("py_"),
            "balance_transaction": new_id("txn_"), "transfer_group": params.get("transfer_group") or None,
            "metadata": _metadata(params), "reversed": False, "created": int(time.time()), "livemode": False,
        }
        self.transfers[transfer["id"]] = transfer
        return copy.deepcopy(transfer)

    def _list_transfers(self, params: dict[str, Any]) -> dict[str, Any]:
        limit = int(params.get("limit") or 10)
        if not 1 <= limit <= 100:
            raise invalid("This value must be less than or equal to 100.", param="limit")
        newest_first = list(reversed(self.transfers.values()))
        matching = [t for t in newest_first
                    if (not params.get("transfer_group") or t["transfer_group"] == params["transfer_group"])
                    and (not params.get("destination") or t["destination"] == params["destination"])]
        after = params.get("starting_after")
        if after:
            ids = [t["id"] for t in matching]
            if after not in ids:
                raise missing("transfer", after, param="starting_after")
            matching = matching[ids.index(after) + 1:]
        page = matching[:limit]
        return {"object": "list", "url": "/v1/transfers", "has_more": len(matching) > limit,
                "data": copy.deepcopy(page)}

    def _get_balance(self, params: dict[str, Any]) -> dict[str, Any]:
        return {"object": "balance", "livemode": False, "pending": [],
                "available": [{"amount": amount, "currency": currency} for currency, amount in self.balance.items()]}
