"""Payout pages: who may open them, the two-step mark-paid, CSV batch, holds, and the clipper's own page."""

from __future__ import annotations

import csv
import io
import re

import pytest
from sqlalchemy import select

from app.payouts.models import Payout, PayoutAccount, PayoutEvent, PayoutHold
from app.payouts.run import run_payouts
from tests.conftest import csrf_token_from
from tests.factories import manual_clipper, new_user, stripe_clipper
from tests.payouts.conftest import balances


def _token(client, path="/payouts") -> str:
    return csrf_token_from(client.get(path).get_data(as_text=True))


def _support(app, login_as):
    support = new_user(app, "support")
    return support, login_as(support, on=app.test_client())


def _pending_manual(app, cents=2_500):
    with app.app_context():
        clipper = manual_clipper(cents)
        run_payouts()
        from app.extensions import db

        payout_id = db.session.scalar(select(Payout.id).where(Payout.user_id == clipper.id))
        db.session.remove()
    return clipper, payout_id


@pytest.mark.parametrize("role", ["clipper", "brand"])
def test_only_staff_reach_the_payout_screens(app, login_as, role):
    _, payout_id = _pending_manual(app)
    device = login_as(new_user(app, role), on=app.test_client())

    assert device.get("/support/payouts").status_code == 403
    assert device.get("/support/payouts/manual.csv").status_code == 403
    assert device.get(f"/support/payouts/{payout_id}").status_code == 403
    token = csrf_token_from(device.get("/profile").get_data(as_text=True))
    posted = device.post(f"/support/payouts/{payout_id}/paid", data={"csrf_token": token, "reference": "X",
                                                                    "confirm": "yes"})
    assert posted.status_code == 403
    with app.app_context():
        from app.extensions import db

        assert db.session.get(Payout, payout_id).status == "pending"


@pytest.mark.parametrize("role", ["brand", "support"])
def test_the_earnings_page_is_for_clippers(app, login_as, role):
    device = login_as(new_user(app, role), on=app.test_client())
    assert device.get("/payouts").status_code == 403
    assert device.post("/payouts/method", data={"kind": "paypal"}).status_code in (400, 403)


def test_anonymous_visitors_are_sent_to_sign_in(app, client):
    for path in ("/support/payouts", "/payouts"):
        response = client.get(path)
        assert response.status_code in (302, 303) and "/login" in response.headers["Location"]


def test_support_marks_paid_in_two_steps_and_it_is_audited(app, login_as):
    clipper, payout_id = _pending_manual(app, 2_500)
    support, device = _support(app, login_as)
    page = device.get("/support/payouts").get_data(as_text=True)
    assert f"pay-{clipper.id}@paypal.test" in page and "$25.00" in page
    token = csrf_token_from(page)

    confirm = device.post(f"/support/payouts/{payout_id}/paid", data={"csrf_token": token, "reference": "PP-778"})
    assert confirm.status_code == 200 and "Yes, mark paid" in confirm.get_data(as_text=True)
    with app.app_context():
        from app.extensions import db

        assert db.session.get(Payout, payout_id).status == "pending", "step one changes nothing"

    done = device.post(f"/support/payouts/{payout_id}/paid",
                       data={"csrf_token": token, "reference": "PP-778", "confirm": "yes"})
    assert done.status_code == 303
    with app.app_context():
        from app.extensions import db

        payout = db.session.get(Payout, payout_id)
        assert (payout.status, payout.reference) == ("paid", "PP-778")
        event = db.session.scalar(select(PayoutEvent).where(PayoutEvent.payout_id == payout_id,
                                                            PayoutEvent.to_status == "paid"))
        assert event.actor_id == support.id and "PP-778" in event.detail
        assert balances(clipper.id) == {"available": 0, "in_flight": 0, "paid": 2_500}

    history = device.get(f"/support/payouts/{payout_id}").get_data(as_text=True)
    assert re.search(r'data-action="payout_paid">.*Marked paid, reference PP-778.*\(' + re.escape(support.email),
                     history, re.S)
    again = device.post(f"/support/payouts/{payout_id}/paid",
                        data={"csrf_token": token, "reference": "PP-779", "confirm": "yes"})
    assert again.status_code == 409


def test_htmx_confirms_in_place_then_marks_paid(app, login_as):
    from tests.factories import PARTIAL

    _, payout_id = _pending_manual(app, 1_750)
    _, device = _support(app, login_as)
    token = _token(device, "/support/payouts")
    url = f"/support/payouts/{payout_id}/paid"

    empty = device.post(url, data={"csrf_token": token, "reference": ""}, headers=PARTIAL)
    ask = device.post(url, data={"csrf_token": token, "reference": "WISE-55"}, headers=PARTIAL)

    assert empty.status_code == 422
    assert 'class="field-error">Enter the reference' in empty.get_data(as_text=True)
    html = ask.get_data(as_text=True)
    assert ask.status_code == 200 and "<html" not in html
    assert html.lstrip().startswith(f'<article class="card" id="manual-{payout_id}">')
    assert "Yes, mark paid" in html and 'value="WISE-55"' in html
    with app.app_context():
        from app.extensions import db

        assert db.session.get(Payout, payout_id).status == "pending"

    done = device.post(url, data={"csrf_token": token, "reference": "WISE-55", "confirm": "yes"}, headers=PARTIAL)

    assert done.status_code == 200 and done.headers["HX-Redirect"] == "/support/payouts"
    with app.app_context():
        from app.extensions import db

        assert db.session.get(Payout, payout_id).reference == "WISE-55"
    stale = device.post(url, data={"csrf_token": token, "reference": "X"}, headers=PARTIAL)
    assert stale.headers["HX-Redirect"] == "/support/payouts", "a payout no longer waiting sends back to the list"


def test_mark_paid_without_reference_is_refused(app, login_as):
    _, payout_id = _pending_manual(app)
    _, device = _support(app, login_as)
    token = _token(device, "/support/payouts")

    response = device.post(f"/support/payouts/{payout_id}/paid", data={"csrf_token": token, "reference": " ",
                                                                      "confirm": "yes"})

    assert response.status_code == 422 and "Enter the reference" in response.get_data(as_text=True)


def test_mark_failed_returns_the_money(app, login_as):
    clipper, payout_id = _pending_manual(app, 1_200)
    _, device = _support(app, login_as)
    token = _token(device, "/support/payouts")

    response = device.post(f"/support/payouts/{payout_id}/failed",
                           data={"csrf_token": token, "reason": "PayPal account closed"})

    assert response.status_code == 303
    with app.app_context():
        assert balances(clipper.id) == {"available": 1_200, "in_flight": 0, "paid": 0}


def test_csv_batch_lists_the_manual_payouts_with_details(app, login_as):
    clipper, payout_id = _pending_manual(app, 4_321)
    _, device = _support(app, login_as)

    response = device.get("/support/payouts/manual.csv")

    assert response.status_code == 200 and response.mimetype == "text/csv"
    rows = list(csv.DictReader(io.StringIO(response.get_data(as_text=True))))
    assert [(r["payout_id"], r["amount"], r["paypal_email"]) for r in rows] == [
        (str(payout_id), "43.21", f"pay-{clipper.id}@paypal.test")]


def test_support_places_and_releases_a_hold(app, login_as):
    with app.app_context():
        clipper = manual_clipper(0)
    _, device = _support(app, login_as)
    token = _token(device, "/support/payouts")

    placed = device.post("/support/payouts/holds", data={"csrf_token": token, "clipper": clipper.email,
                                                         "reason": "Bought views"})
    unknown = device.post("/support/payouts/holds", data={"csrf_token": token, "clipper": "nobody@x.test",
                                                          "reason": "?"})

    assert placed.status_code == 303 and unknown.status_code == 404
    with app.app_context():
        from app.extensions import db

        hold = db.session.scalar(select(PayoutHold))
        assert hold.user_id == clipper.id and hold.released_at is None
    assert device.post(f"/support/payouts/holds/{hold.id}/release", data={"csrf_token": token}).status_code == 303
    with app.app_context():
        from app.extensions import db

        assert db.session.get(PayoutHold, hold.id).released_by_id is not None


def test_clipper_sees_only_their_own_balances_and_payouts(app, login_as):
    mine, _ = _pending_manual(app, 1_111)
    _pending_manual(app, 9_999)
    device = login_as(mine, on=app.test_client())

    html = device.get("/payouts").get_data(as_text=True)

    assert "$11.11" in html and "$99.99" not in html
    assert re.search(r'data-status="pending"', html)


def test_clipper_saves_manual_details_sealed(app, login_as):
    clipper = new_user(app, "clipper")
    device = login_as(clipper, on=app.test_client())
    token = _token(device)

    bad = device.post("/payouts/method", data={"csrf_token": token, "kind": "bank", "account_holder": "A",
                                               "account_number": "12"})
    good = device.post("/payouts/method", data={"csrf_token": token, "kind": "bank", "account_holder": "Ana Clip",
                                                "account_number": "GB29 NWBK 6016 1331 9268 19"})

    assert bad.status_code == 422 and good.status_code == 303
    with app.app_context():
        from app.extensions import db

        account = db.session.scalar(select(PayoutAccount).where(PayoutAccount.user_id == clipper.id))
        assert "NWBK" not in account.manual_details_sealed and account.manual_summary == "Bank account ending 6819"
    assert "Bank account ending 6819" in device.get("/payouts").get_data(as_text=True)


def test_connect_stripe_redirects_to_onboarding_and_return_stores_the_state(app, login_as, fake_stripe,
                                                                             stripe_mode):
    clipper = new_user(app, "clipper")
    device = login_as(clipper, on=app.test_client())

    response = device.post("/payouts/stripe/connect", data={"csrf_token": _token(device)})

    assert response.status_code == 303 and "/connect/onboarding/acct_" in response.headers["Location"]
    [link] = fake_stripe.account_links
    assert link["return_url"].endswith("/payouts/stripe/return")
    with fake_stripe.lock:
        fake_stripe.enable_payouts(link["account"])
    assert device.get("/payouts/stripe/return").status_code == 303
    with app.app_context():
        from app.extensions import db

        account = db.session.scalar(select(PayoutAccount).where(PayoutAccount.user_id == clipper.id))
        assert account.stripe_account_id == link["account"] and account.stripe_payouts_enabled


def test_stripe_clipper_page_says_connected(app, login_as, fake_stripe, stripe_mode):
    with app.app_context():
        clipper = stripe_clipper(fake_stripe, 0)
    html = login_as(clipper, on=app.test_client()).get("/payouts").get_data(as_text=True)
    assert "Stripe is connected" in html and "Connect Stripe" not in html


def test_payout_pages_with_data_carry_no_inline_code(app, login_as):
    from tests.web.test_security import header_problems, html_problems

    clipper, payout_id = _pending_manual(app, 2_000)
    _, device = _support(app, login_as)
    pages = {
        "support": device.get("/support/payouts"),
        "detail": device.get(f"/support/payouts/{payout_id}"),
        "clipper": login_as(clipper, on=app.test_client()).get("/payouts"),
    }
    assert {name: r.status_code for name, r in pages.items()} == dict.fromkeys(pages, 200)
    assert {name: header_problems(r) + html_problems(r) for name, r in pages.items()} == dict.fromkeys(pages, [])
