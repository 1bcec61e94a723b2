"""Failed-login limits per account, password reset by code, password change ending other
sessions, and profile changes that need the new email/phone proven by a code."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from app.accounts.models import OneTimeCode, User
from tests.conftest import csrf_token_from
from tests.factories import PARTIAL, PASSWORD, new_user
from tests.outside import run_worker

NEW_PASSWORD = "a brand new passphrase 9"


def form_post(client, page_url, post_url, data, **kwargs):
    token = csrf_token_from(client.get(page_url).get_data(as_text=True))
    return client.post(post_url, data={"csrf_token": token, **data}, **kwargs)


def sign_in(client, email, password, ip="127.0.0.1"):
    return form_post(client, "/login", "/login", {"email": email, "password": password},
                     environ_base={"REMOTE_ADDR": ip})


def stepped_up(client, user):
    """As if the user confirmed a step-up code a moment ago (the flow itself is tested below)."""
    import time

    with client.session_transaction() as session:
        session["step_up"] = {"token": user.session_token, "at": time.time()}
    return client


def count(app, model) -> int:
    from app.extensions import db

    with app.app_context():
        return db.session.scalar(select(func.count()).select_from(model))


# --- Sign-in limits ---------------------------------------------------------------------------

def test_ten_failed_sign_ins_on_one_account_from_many_addresses_are_refused_with_a_clear_429(app, client):
    user = new_user(app, "brand")
    for n in range(10):
        assert sign_in(client, user.email, "wrong-password", ip=f"10.1.0.{n}").status_code == 422
    blocked = sign_in(client, user.email, PASSWORD, ip="10.1.0.99")  # even the right password
    assert blocked.status_code == 429
    assert "Too many failed sign-ins for this account. Try again in" in blocked.get_data(as_text=True)
    other = new_user(app, "brand")
    assert sign_in(client, other.email, PASSWORD, ip="10.1.0.99").status_code == 303  # others unaffected


def test_successful_sign_ins_do_not_count_towards_the_limit(app):
    user = new_user(app, "clipper")
    for _ in range(12):
        device = app.test_client()
        assert sign_in(device, user.email, PASSWORD).status_code == 303


# --- Password reset -----------------------------------------------------------------------------

def test_password_reset_by_emailed_code_ends_every_other_session(app, client, mailbox, outside_services, login_as):
    user = new_user(app, "clipper")
    laptop = login_as(user, on=app.test_client())
    assert laptop.get("/profile").status_code == 200

    response = form_post(client, "/password/forgot", "/password/forgot", {"email": user.email.upper()})
    assert response.status_code == 303 and response.headers["Location"] == "/password/reset"
    run_worker("otp", env=outside_services)
    message = mailbox.wait_for(user.email)[-1]
    assert message["Subject"] == "Your ContentFlow password reset code"
    code = mailbox.code_for(user.email)

    response = form_post(client, "/password/reset", "/password/reset", {"code": code, "password": NEW_PASSWORD})
    assert response.status_code == 303 and response.headers["Location"] == "/login"
    assert laptop.get("/profile").status_code == 302  # the other session is over
    assert sign_in(app.test_client(), user.email, PASSWORD).status_code == 422
    assert sign_in(app.test_client(), user.email, NEW_PASSWORD).status_code == 303
    # The code was single use.
    with client.session_transaction() as session:
        session["reset_email"] = user.email
    again = form_post(client, "/password/reset", "/password/reset", {"code": code, "password": "yet another pass 7"})
    assert again.status_code == 422 and "no active code" in again.get_data(as_text=True)


def test_forgot_password_says_the_same_for_unknown_emails_and_sends_nothing(app, client, mailbox, outside_services):
    known = new_user(app, "brand")
    answers = []
    for n, email in enumerate((known.email, "nobody@example.com")):
        device = app.test_client()
        response = form_post(device, "/password/forgot", "/password/forgot", {"email": email},
                             environ_base={"REMOTE_ADDR": f"10.2.0.{n}"})
        answers.append((response.status_code, response.headers["Location"]))
        page = device.get("/password/reset").get_data(as_text=True)
        assert f"If {email} has an account, a code is on its way." in page
    assert answers[0] == answers[1]
    run_worker("otp", env=outside_services)
    assert mailbox.to("nobody@example.com") == [] and len(mailbox.to(known.email)) == 1


def test_reset_with_a_wrong_code_or_weak_password_changes_nothing(app, client):
    user = new_user(app, "clipper")
    form_post(client, "/password/forgot", "/password/forgot", {"email": user.email})
    wrong = form_post(client, "/password/reset", "/password/reset", {"code": "000000", "password": NEW_PASSWORD},
                      headers=PARTIAL)
    assert wrong.status_code == 422 and "not right" in wrong.get_data(as_text=True)
    weak = form_post(client, "/password/reset", "/password/reset", {"code": "123456", "password": "password1"})
    assert weak.status_code == 422 and "most common" in weak.get_data(as_text=True)
    assert sign_in(app.test_client(), user.email, PASSWORD).status_code == 303


def test_reset_page_without_a_started_reset_goes_to_the_start(client):
    response = client.get("/password/reset")
    assert response.status_code == 303 and response.headers["Location"] == "/password/forgot"


def test_reset_codes_are_limited_per_email(app, client):
    user = new_user(app, "clipper")
    assert form_post(client, "/password/forgot", "/password/forgot", {"email": user.email}).status_code == 303
    again = form_post(app.test_client(), "/password/forgot", "/password/forgot", {"email": user.email},
                      environ_base={"REMOTE_ADDR": "10.9.9.9"})
    assert again.status_code == 429 and "Try again in" in again.get_data(as_text=True)
    assert count(app, OneTimeCode) == 1


# --- Profile ---------------------------------------------------------------------------------------

def test_password_change_keeps_this_session_and_ends_the_others(app, client, login_as):
    user = new_user(app, "brand")
    login_as(user)
    phone = login_as(user, on=app.test_client())
    response = form_post(client, "/profile", "/profile/password",
                         {"current_password": PASSWORD, "password": NEW_PASSWORD}, headers=PARTIAL)
    assert response.status_code == 200
    assert "Your other sessions are signed out." in response.get_data(as_text=True)
    assert client.get("/profile").status_code == 200
    assert phone.get("/profile").status_code == 302
    assert sign_in(app.test_client(), user.email, NEW_PASSWORD).status_code == 303


def test_password_change_needs_the_current_password(app, client, login_as):
    user = new_user(app, "clipper")
    login_as(user)
    response = form_post(client, "/profile", "/profile/password",
                         {"current_password": "not-it-at-all", "password": NEW_PASSWORD})
    assert response.status_code == 422 and "current password is not right" in response.get_data(as_text=True)
    assert sign_in(app.test_client(), user.email, PASSWORD).status_code == 303


def test_email_change_applies_only_after_the_code_sent_to_the_new_address(app, client, login_as, mailbox,
                                                                            outside_services):
    user = new_user(app, "clipper")
    login_as(user)
    stepped_up(client, user)
    response = form_post(client, "/profile", "/profile/email", {"email": "New.Address@Example.com"})
    assert response.status_code == 200
    assert "Enter the code we sent to <strong>n•••@example.com</strong>" in client.get("/profile").get_data(
        as_text=True)
    run_worker("otp", env=outside_services)
    code = mailbox.code_for("new.address@example.com")
    assert _email(app, user.id) == user.email  # not yet
    wrong = form_post(client, "/profile", "/profile/email/confirm", {"email-code": "000000"})
    assert wrong.status_code == 422
    ok = form_post(client, "/profile", "/profile/email/confirm", {"email-code": code})
    assert ok.status_code == 200
    assert _email(app, user.id) == "new.address@example.com"


def test_email_change_to_an_address_in_use_is_refused(app, client, login_as):
    user, other = new_user(app, "clipper"), new_user(app, "brand", email="taken@example.com")
    login_as(user)
    stepped_up(client, user)
    response = form_post(client, "/profile", "/profile/email", {"email": other.email.upper()})
    assert response.status_code == 409 and "already exists" in response.get_data(as_text=True)
    assert count(app, OneTimeCode) == 0


def test_phone_change_is_proven_by_sms(app, client, login_as, sms_gateway, outside_services):
    user = new_user(app, "clipper")
    login_as(user)
    stepped_up(client, user)
    response = form_post(client, "/profile", "/profile/phone", {"phone": "+1 415 555 2671"})
    assert response.status_code == 200
    run_worker("otp", env=outside_services)
    code = sms_gateway.code_for("+14155552671")
    assert form_post(client, "/profile", "/profile/phone/confirm", {"phone-code": code}).status_code == 200
    from app.extensions import db

    with app.app_context():
        assert db.session.get(User, user.id).phone == "+14155552671"


def test_display_name_change_is_escaped_and_saved(app, client, login_as):
    user = new_user(app, "brand")
    login_as(user)
    response = form_post(client, "/profile", "/profile/name", {"display_name": "<b>Bree</b> 🚀"}, headers=PARTIAL)
    assert response.status_code == 200
    assert "&lt;b&gt;Bree&lt;/b&gt; 🚀" in response.get_data(as_text=True)
    assert "Display name saved." in response.get_data(as_text=True)  # flash arrives out of band
    assert 'hx-swap-oob="true"' in response.get_data(as_text=True)


@pytest.mark.parametrize("kind", ["nope", "password_reset"])
def test_unknown_profile_change_kinds_change_nothing(app, client, login_as, kind):
    user = new_user(app, "clipper")
    login_as(user)
    stepped_up(client, user)
    response = form_post(client, "/profile", f"/profile/{kind}", {"email": "x@example.com"})
    assert response.status_code == 303 and response.headers["Location"] == "/profile"
    assert count(app, OneTimeCode) == 0


def _email(app, user_id):
    from app.extensions import db

    with app.app_context():
        return db.session.get(User, user_id).email


def test_changing_email_first_needs_a_step_up_code_sent_to_the_current_address(app, client, login_as, mailbox,
                                                                               outside_services):
    user = new_user(app, "clipper")
    login_as(user)
    response = form_post(client, "/profile", "/profile/email", {"email": "new@example.com"})
    assert response.status_code == 303
    assert response.headers["Location"] == "/verify/step-up?next=/profile"
    assert count(app, OneTimeCode) == 0  # nothing was sent to the new address

    page = client.get("/verify/step-up?next=/profile").get_data(as_text=True)
    assert "Email me a code" in page
    sent = form_post(client, "/verify/step-up?next=/profile", "/verify/step-up",
                     {"action": "email", "next": "/profile"}, headers=PARTIAL)
    assert sent.status_code == 200 and 'data-step-up="sent"' in sent.get_data(as_text=True)
    run_worker("otp", env=outside_services)
    code = mailbox.code_for(user.email)  # the CURRENT address

    wrong = form_post(client, "/verify/step-up", "/verify/step-up", {"code": "000000", "next": "/profile"})
    assert wrong.status_code == 422
    ok = form_post(client, "/verify/step-up", "/verify/step-up", {"code": code, "next": "//evil.example"})
    assert ok.status_code == 303 and ok.headers["Location"] == "/profile"
    response = form_post(client, "/profile", "/profile/email", {"email": "new@example.com"})
    assert response.status_code == 200
    run_worker("otp", env=outside_services)
    assert len(mailbox.to("new@example.com")) == 1


def test_a_step_up_proof_does_not_survive_a_new_session_token(app, client, login_as):
    user = new_user(app, "brand")
    login_as(user)
    stepped_up(client, user)
    form_post(client, "/profile", "/profile/password", {"current_password": PASSWORD, "password": NEW_PASSWORD})
    response = form_post(client, "/profile", "/profile/phone", {"phone": "+14155552671"})
    assert response.headers["Location"].startswith("/verify/step-up")
