"""The fake itself, over plain HTTP: later tests lean on its idempotency and error shapes being Stripe's."""

from __future__ import annotations

import pytest
import requests

from tests.fake_stripe import API_KEY, decode_form

AUTH = {"Authorization": f"Bearer {API_KEY}"}


def _post(fake, path, data, key=None, headers=None):
    sent = {**AUTH, **({"Idempotency-Key": key} if key else {}), **(headers or {})}
    return requests.post(fake.url + path, data=data, headers=sent, timeout=5)


def test_form_fields_decode_into_nested_dicts_and_lists():
    body = ("mode=payment&metadata[campaign_id]=7&line_items[1][quantity]=1&line_items[0][quantity]=2"
            "&line_items[0][price_data][currency]=usd&flag=")
    assert decode_form(body) == {
        "mode": "payment", "metadata": {"campaign_id": "7"}, "flag": "",
        "line_items": [{"quantity": "2", "price_data": {"currency": "usd"}}, {"quantity": "1"}],
    }


def test_same_key_same_params_replays_with_header_and_other_params_are_refused(fake_stripe, payable_account):
    params = {"amount": "500", "currency": "usd", "destination": payable_account, "metadata[payout_id]": "1"}
    first = _post(fake_stripe, "/v1/transfers", params, key="k1")
    replay = _post(fake_stripe, "/v1/transfers", params, key="k1")
    other = _post(fake_stripe, "/v1/transfers", {**params, "amount": "600"}, key="k1")
    elsewhere = _post(fake_stripe, "/v1/refunds", {"payment_intent": "pi_x"}, key="k1")

    assert first.status_code == replay.status_code == 200
    assert replay.json() == first.json() and replay.headers["Idempotent-Replayed"] == "true"
    assert "Idempotent-Replayed" not in first.headers
    assert other.status_code == elsewhere.status_code == 400
    assert other.json()["error"]["type"] == "idempotency_error"
    assert fake_stripe.count("transfers") == 1


def test_parameter_errors_are_not_stored_under_the_key(fake_stripe, payable_account):
    incomplete = _post(fake_stripe, "/v1/transfers", {"amount": "500", "currency": "usd"}, key="k2")
    complete = _post(fake_stripe, "/v1/transfers", {"amount": "500", "currency": "usd",
                                                    "destination": payable_account}, key="k2")

    assert incomplete.status_code == 400
    assert incomplete.json()["error"] == {"type": "invalid_request_error", "code": "parameter_missing",
                                          "param": "destination", "message": "Missing required param: destination.",
                                          "doc_url": "https://stripe.com/docs/error-codes/parameter-missing"}
    assert complete.status_code == 200 and fake_stripe.count("transfers") == 1


def test_unknown_key_and_unknown_route_get_stripe_shaped_errors(fake_stripe):
    wrong = {"Authorization": "Bearer sk_test_nope123456789"}
    unauthorised = requests.get(fake_stripe.url + "/v1/balance", headers=wrong, timeout=5)
    unknown = requests.get(fake_stripe.url + "/v1/customers", headers=AUTH, timeout=5)

    assert unauthorised.status_code == 401 and "sk_test_nope123456789" not in unauthorised.text
    assert unknown.status_code == 404 and unknown.json()["error"]["type"] == "invalid_request_error"


def test_balance_follows_payments_transfers_and_reversals(fake_stripe, gateway, payable_account):
    transfer = gateway.create_transfer(1, 2_500, "usd", payable_account, "g")
    balance = requests.get(fake_stripe.url + "/v1/balance", headers=AUTH, timeout=5).json()
    assert balance["available"] == [{"amount": 97_500, "currency": "usd"}]

    with fake_stripe.lock:
        event = fake_stripe.reverse_transfer(transfer.id)
    assert event["type"] == "transfer.reversed" and fake_stripe.balance["usd"] == 100_000
    stored = requests.get(f"{fake_stripe.url}/v1/events/{event['id']}", headers=AUTH, timeout=5).json()
    assert stored == event


def test_fault_injection_refuses_unknown_modes_and_routes(fake_stripe):
    with pytest.raises(ValueError, match="unknown fault mode"):
        fake_stripe.fail_next("POST /v1/transfers", "explode")
    with pytest.raises(ValueError, match="unknown route"):
        fake_stripe.fail_next("POST /v1/payouts", "429")
