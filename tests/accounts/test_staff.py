"""Staff accounts: created by the CLI only, TOTP enrolment with a QR code, a code at every
sign-in, no replay, and no staff page for a session that skipped it."""

from __future__ import annotations

import re

import pyotp
import pytest
from sqlalchemy import select

from app.accounts.models import User
from tests.conftest import csrf_token_from
from tests.factories import HOMES

STAFF_PASSWORD = "staff passphrase for tests 1"


def create_staff(app, role="admin", email="ada@contentflow.example"):
    result = app.test_cli_runner().invoke(
        args=["users", "create-staff", "--role", role, "--email", email, "--name", "Ada"],
        input=f"{STAFF_PASSWORD}\n{STAFF_PASSWORD}\n",
    )
    return result


def sign_in(client, email, password=STAFF_PASSWORD):
    token = csrf_token_from(client.get("/login").get_data(as_text=True))
    return client.post("/login", data={"csrf_token": token, "email": email, "password": password})


def submit_code(client, code, next_url=None):
    page = client.get("/staff/2fa" + (f"?next={next_url}" if next_url else ""))
    data = {"csrf_token": csrf_token_from(page.get_data(as_text=True)), "code": code}
    if next_url:
        data["next"] = next_url
    return client.post("/staff/2fa", data=data)


def enrol(client):
    """Sign-in step 2 for a new staff member: read the key off the page, answer with a code."""
    page = client.get("/staff/2fa").get_data(as_text=True)
    secret = re.search(r'<code class="secret-key">([A-Z2-7]+)</code>', page).group(1)
    response = submit_code(client, pyotp.TOTP(secret).now())
    return secret, response


def test_create_staff_prompts_for_the_password_and_the_account_can_sign_in(app, client):
    result = create_staff(app)
    assert result.exit_code == 0, result.output
    assert "Created admin ada@contentflow.example" in result.output
    assert STAFF_PASSWORD not in result.output
    assert sign_in(client, "ada@contentflow.example").status_code == 303


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--role", "clipper", "--email", "x@example.com", "--password", STAFF_PASSWORD], "Invalid value for '--role'"),
        (["--role", "admin", "--email", "x@example.com", "--password", "short"], "at least 8"),
        (["--role", "admin", "--email", "x@example.com", "--password", "password123"], "most common"),
        (["--role", "admin", "--email", "not-an-email", "--password", STAFF_PASSWORD], "valid email"),
    ],
)
def test_create_staff_refuses_bad_input_and_creates_nothing(app, db, args, message):
    result = app.test_cli_runner().invoke(args=["users", "create-staff", *args])
    assert result.exit_code != 0
    assert message in result.output
    assert db.session.scalar(select(User.id)) is None


def test_create_staff_twice_says_the_account_exists(app):
    assert create_staff(app).exit_code == 0
    again = create_staff(app)
    assert again.exit_code == 1 and "already exists" in again.output


def test_staff_enrol_an_authenticator_with_a_qr_code_and_then_reach_their_home(app, client):
    create_staff(app, role="support", email="sam@contentflow.example")
    assert sign_in(client, "sam@contentflow.example").headers["Location"] == HOMES["support"]
    blocked = client.get(HOMES["support"])
    assert blocked.headers["Location"] == "/staff/2fa?next=/support/payouts"
    page = client.get("/staff/2fa").get_data(as_text=True)
    assert "Set up your authenticator" in page
    qr = client.get("/staff/2fa/qr.svg")
    assert qr.status_code == 200 and qr.mimetype == "image/svg+xml"
    assert qr.headers["Cache-Control"] == "no-store" and b"<svg" in qr.data
    secret, response = enrol(client)
    assert response.status_code == 303 and response.headers["Location"] == HOMES["support"]
    assert client.get(HOMES["support"]).status_code == 200
    # The secret is stored sealed, never in clear, and the QR code is gone once enrolled.
    from app.extensions import db

    with app.app_context():
        user = db.session.scalar(select(User).where(User.email == "sam@contentflow.example"))
        assert user.totp_enrolled_at and secret not in user.totp_secret_sealed
    assert client.get("/staff/2fa/qr.svg").status_code == 404


def test_enrolled_staff_need_a_code_at_every_sign_in_and_a_code_works_once(app, client):
    create_staff(app)
    sign_in(client, "ada@contentflow.example")
    secret, _ = enrol(client)
    client.post("/logout", data={"csrf_token": csrf_token_from(client.get("/profile").get_data(as_text=True))})

    device = app.test_client()
    sign_in(device, "ada@contentflow.example")
    assert device.get(HOMES["admin"]).status_code == 303  # no code yet
    assert "Enter your authenticator code" in device.get("/staff/2fa").get_data(as_text=True)
    totp = pyotp.TOTP(secret)
    wrong = submit_code(device, f"{(int(totp.now()) + 1) % 10**6:06d}")
    assert wrong.status_code == 422 and "not right, or was already used" in wrong.get_data(as_text=True)
    # The code used at enrolment cannot be replayed (same time step) ...
    replay = submit_code(device, totp.now())
    if replay.status_code == 303:
        pytest.skip("the 30 s step rolled over between enrolment and replay")
    assert replay.status_code == 422
    # ... but the next step's code works (as the authenticator shows it 30 s later).
    import time

    future = totp.at(time.time() + 30)
    assert submit_code(device, future, next_url="/admin/queue").headers["Location"] == "/admin/queue"
    assert device.get(HOMES["admin"]).status_code == 200
    # And that code cannot be used for a second session.
    other = app.test_client()
    sign_in(other, "ada@contentflow.example")
    assert submit_code(other, future).status_code == 422


def test_wrong_codes_are_limited_per_account(app, client):
    create_staff(app)
    sign_in(client, "ada@contentflow.example")
    enrol(client)
    device = app.test_client()
    sign_in(device, "ada@contentflow.example")
    statuses = [submit_code(device, "000000").status_code for _ in range(6)]
    assert statuses[:5] == [422] * 5 and statuses[5] == 429


def test_password_change_keeps_the_staff_session_past_two_factor(app, client):
    create_staff(app)
    sign_in(client, "ada@contentflow.example")
    enrol(client)
    token = csrf_token_from(client.get("/profile").get_data(as_text=True))
    response = client.post("/profile/password", data={"csrf_token": token, "current_password": STAFF_PASSWORD,
                                                      "password": "another staff passphrase 2"})
    assert response.status_code == 200
    assert client.get(HOMES["admin"]).status_code == 200


def test_two_factor_pages_are_not_for_clippers_or_brands(app, login_as):
    from tests.factories import new_user

    for role in ("clipper", "brand"):
        device = login_as(new_user(app, role), on=app.test_client())
        assert device.get("/staff/2fa").status_code == 404
        assert device.get("/staff/2fa/qr.svg").status_code == 404


def test_next_after_two_factor_stays_on_this_site(app, client):
    create_staff(app)
    sign_in(client, "ada@contentflow.example")
    page = client.get("/staff/2fa").get_data(as_text=True)
    secret = re.search(r'<code class="secret-key">([A-Z2-7]+)</code>', page).group(1)
    response = submit_code(client, pyotp.TOTP(secret).now(), next_url="//evil.example/x")
    assert response.headers["Location"] == HOMES["admin"]


def test_seeded_demo_admin_can_complete_sign_in(app, client):
    assert app.test_cli_runner().invoke(args=["seed"]).exit_code == 0
    assert sign_in(client, "admin@demo.contentflow.local", app.config["DEMO_PASSWORD"]).status_code == 303
    _, response = enrol(client)
    assert response.headers["Location"] == HOMES["admin"]
