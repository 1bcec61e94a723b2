"""Bad input on every account form gets a clear message next to the field and changes nothing.

For each case: the status is 422 (409 for a duplicate, 429 when limited), the message is
in the field's ``<small class="field-error">`` (or the form-level alert), and the users
and one_time_codes tables, the affected user row and the ``otp`` queue in Redis are
exactly as before. Payloads that are valid text (SQL or HTML in a name) are stored
verbatim and shown escaped.
"""

from __future__ import annotations

import functools
import html
import re
import time

import pytest
from markupsafe import escape
from sqlalchemy import func, select

from app.accounts.models import OneTimeCode, User
from tests.conftest import csrf_token_from
from tests.factories import PARTIAL, PASSWORD, new_user

TEN_KB = "x" * 10_240
SQL_PAYLOADS = ["' OR 1=1 --", "'; DROP TABLE users; --"]
SCRIPT = "<script>alert(1)</script>"
RTL_OVERRIDE = "casey\u202egnp.exe"

CLIPPER = {
    "display_name": "Casey Clips", "handle": "@casey.clips", "country": "GB", "email": "casey@example.com",
    "phone": "07911 123456", "channel": "email", "password": PASSWORD,
}
BRAND = {"company_name": "Bright Co", "display_name": "Bree", "email": "bree@bright.example", "password": PASSWORD}
FORMS = {"clipper": CLIPPER, "brand": BRAND}


@pytest.fixture(autouse=True)
def _hash_the_test_password_once(monkeypatch):
    """argon2 costs 40-60 ms a user on these two cores; the factory password gets the same real
    hash each time (other passwords are hashed as usual)."""
    from app.accounts import passwords, service

    cached = _known_hash()
    monkeypatch.setattr(service, "hash_password",
                        lambda password: cached if password == PASSWORD else passwords.hash_password(password))


@functools.cache
def _known_hash() -> str:
    from app.accounts.passwords import hash_password

    return hash_password(PASSWORD)


# --- helpers ---------------------------------------------------------------------------------------

def state(app, redis_client, user_id: int | None = None) -> dict:
    """Everything a refused request must leave alone."""
    from rq import Queue

    from app.extensions import db

    with app.app_context():
        snapshot = {
            "users": db.session.scalar(select(func.count()).select_from(User)),
            "codes": db.session.scalar(select(func.count()).select_from(OneTimeCode)),
            "code_attempts": db.session.scalar(select(func.coalesce(func.sum(OneTimeCode.attempts), 0))),
            "otp_queue": Queue("otp", connection=redis_client).count,
        }
        if user_id is not None:
            user = db.session.get(User, user_id)
            snapshot["user"] = (user.email, user.phone, user.display_name, user.password_hash,
                                user.session_token, user.verified_at)
        db.session.remove()
    return snapshot


def field_error(page: str, field_id: str | None) -> str:
    """The message shown next to ``field_id`` (``None``: the form-level alert)."""
    if field_id is None:
        match = re.search(r'class="flash flash-error" role="alert">(.*?)</p>', page, re.S)
    elif field_id == "channel":  # the radios show their error inside their fieldset
        match = re.search(r'</legend>.*?<small class="field-error">(.*?)</small>', page, re.S)
    else:
        match = re.search(rf'id="{re.escape(field_id)}-error" class="field-error">(.*?)</small>', page, re.S)
    assert match, f"no error shown for {field_id or 'the form'}:\n{page[-3000:]}"
    return html.unescape(match.group(1))


def post(client, path: str, data: dict, *, page: str | None = None, headers: dict | None = None):
    form_page = client.get(page or path)
    assert form_page.status_code == 200, (page or path, form_page.status_code, form_page.headers.get("Location"))
    token = csrf_token_from(form_page.get_data(as_text=True))
    return client.post(path, data={"csrf_token": token, **data}, headers=headers or {})


def assert_refused(response, status: int, field_id: str | None, message: str) -> str:
    page = response.get_data(as_text=True)
    assert response.status_code == status, (response.status_code, response.headers.get("Location"), page[-2000:])
    shown = field_error(page, field_id)
    assert message.lower() in shown.lower(), f"{shown!r} does not say {message!r}"
    assert len(shown) < 400, f"the message should be short, not echo the input: {shown[:200]!r}..."
    return page


def signup_case(role: str, field_id: str | None, message: str, status: int = 422, drop: tuple = (), **changes):
    data = {k: v for k, v in {**FORMS[role], **changes}.items() if k not in drop}
    label = ",".join(sorted([*changes, *(f"-{d}" for d in drop)])) or "valid"
    return pytest.param(role, data, field_id, message, status, id=f"{role}:{label}:{message[:30]}")


REQUIRED = "This field is required."

SIGNUP_CASES = [
    # missing each required field
    *[signup_case("clipper", name, message, **{name: ""}) for name, message in [
        ("display_name", REQUIRED), ("handle", REQUIRED), ("country", "Choose your country"),
        ("email", REQUIRED), ("password", REQUIRED)]],
    signup_case("clipper", "channel", REQUIRED, drop=("channel",)),
    *[signup_case("brand", name, REQUIRED, **{name: ""}) for name in ("company_name", "display_name", "email",
                                                                         "password")],
    # 10 KB in every text field
    signup_case("clipper", "display_name", "longer than 80", display_name=TEN_KB),
    signup_case("clipper", "handle", "longer than 30", handle=TEN_KB),
    signup_case("clipper", "email", "longer than 254", email=TEN_KB + "@example.com"),
    signup_case("clipper", "phone", "longer than 32", phone="+44" + "7" * 10_240),
    signup_case("clipper", "password", "at most 128", password=TEN_KB),
    signup_case("clipper", "country", "Not a valid choice", country=TEN_KB),
    signup_case("brand", "company_name", "longer than 120", company_name=TEN_KB),
    signup_case("brand", "display_name", "longer than 80", display_name=TEN_KB),
    signup_case("brand", "email", "longer than 254", email="a" * 10_240 + "@bright.example"),
    signup_case("brand", "password", "at most 128", password=TEN_KB),
    # phones
    signup_case("clipper", "phone", "does not exist", phone="123"),
    signup_case("clipper", "phone", "does not exist", phone="+1 555"),
    signup_case("clipper", "phone", "country code", phone="call me maybe"),
    signup_case("clipper", "phone", "country code", phone="📞📞📞📞📞📞"),
    signup_case("clipper", "phone", "does not exist", phone="+44 7911 12345"),
    # emoji and bidi overrides
    signup_case("clipper", "handle", "letters, numbers, dots", handle="casey😀"),
    signup_case("clipper", "handle", "letters, numbers, dots", handle=RTL_OVERRIDE),
    signup_case("clipper", "email", "valid email", email="ca😀sey@example.com"),
    signup_case("clipper", "email", "valid email", email="casey\u202e@example.com"),
    signup_case("clipper", "email", "valid email", email="casey@exa😀mple.com"),
    signup_case("brand", "email", "valid email", email="josé@bright.example"),
    signup_case("clipper", "display_name", "letters, numbers and punctuation", display_name="Casey\u202eevil"),
    signup_case("brand", "company_name", "letters, numbers and punctuation", company_name="Bright\u200bCo"),
    # SQL in fields with a shape
    *[signup_case("clipper", "handle", "letters, numbers, dots", handle=payload) for payload in SQL_PAYLOADS],
    *[signup_case("clipper", "email", "valid email", email=payload) for payload in SQL_PAYLOADS],
    *[signup_case("brand", "email", "valid email", email=payload + "@bright.example") for payload in SQL_PAYLOADS],
    signup_case("clipper", "email", "valid email", email=SCRIPT),
    signup_case("clipper", "handle", "letters, numbers, dots", handle=SCRIPT),
    # passwords
    signup_case("clipper", "password", "most common", password="password123"),
    signup_case("brand", "password", "most common", password="qwertyuiop"),
    signup_case("clipper", "password", "at least 8", password="x7#kQ2m"),
    signup_case("brand", "password", "at most 128", password="x7#kQ2m" * 18 + "abc"),  # 129 characters
    signup_case("clipper", "password", "only spaces", password=" " * 12),
    signup_case("brand", "password", "email address", password="bree@bright.example"),
    # choices
    signup_case("clipper", "channel", "mobile number", channel="sms", phone=""),
    signup_case("clipper", "country", "Not a valid choice", country="ZZ"),
    signup_case("clipper", "country", "Not a valid choice", country="gb; DROP TABLE users"),
    signup_case("clipper", "channel", "Not a valid choice", channel="pigeon"),
]


# --- sign-up -----------------------------------------------------------------------------------------

@pytest.mark.parametrize(("role", "data", "field_id", "message", "status"), SIGNUP_CASES)
def test_bad_signup_is_refused_with_a_message_and_creates_nothing(app, client, redis_client, role, data,
                                                                   field_id, message, status):
    before = state(app, redis_client)
    response = post(client, f"/signup/{role}", data)
    assert_refused(response, status, field_id, message)
    assert state(app, redis_client) == before
    assert client.get("/verify").headers.get("Location", "").startswith("/login"), "refused, yet signed in"


@pytest.fixture
def existing_clipper(app):
    return new_user(app, "clipper", email="casey@example.com", handle="casey.clips", phone="+447911123456",
                    country="GB")


@pytest.mark.parametrize(("role", "data", "field_id", "message"), [
    ("clipper", {**CLIPPER, "email": "CASEY@Example.COM", "handle": "other", "phone": ""}, "email", "already exists"),
    ("brand", {**BRAND, "email": " Casey@EXAMPLE.com "}, "email", "already exists"),
    ("clipper", {**CLIPPER, "email": "new@example.com", "handle": "@Casey.Clips", "phone": ""}, "handle",
     "already taken"),
    ("clipper", {**CLIPPER, "email": "new@example.com", "handle": "other", "phone": "+44 7911 123456"}, "phone",
     "belongs to another account"),
])
def test_duplicates_are_refused_with_409_and_create_nothing(app, client, redis_client, existing_clipper, role,
                                                             data, field_id, message):
    before = state(app, redis_client)
    assert_refused(post(client, f"/signup/{role}", data), 409, field_id, message)
    assert state(app, redis_client) == before


def test_a_refused_signup_over_htmx_gets_the_form_fragment_with_422(app, client, redis_client):
    before = state(app, redis_client)
    response = post(client, "/signup/clipper", {**CLIPPER, "phone": "123"}, headers=PARTIAL)
    page = assert_refused(response, 422, "phone", "does not exist")
    assert page.lstrip().startswith('<form id="signup-form"') and "<html" not in page
    assert state(app, redis_client) == before


def test_a_second_signup_from_the_same_ip_within_a_minute_is_limited(app, client, redis_client):
    assert post(client, "/signup/brand", BRAND).status_code == 303
    other = app.test_client()
    before = state(app, redis_client)
    response = post(other, "/signup/brand", {**BRAND, "email": "second@bright.example"})
    assert_refused(response, 429, None, "Too many codes were sent")
    assert state(app, redis_client) == before


@pytest.mark.parametrize("field", ["display_name", "company_name"])
@pytest.mark.parametrize("payload", [SCRIPT, '"><img src=x onerror=alert(1)>', *SQL_PAYLOADS])
def test_sql_and_html_in_names_are_stored_verbatim_and_shown_escaped(app, client, login_as, redis_client, field,
                                                                     payload):
    from app.extensions import db

    # Refused for another reason: the form comes back with the payload escaped.
    refused = post(client, "/signup/brand", {**BRAND, field: payload, "password": "short"})
    page = assert_refused(refused, 422, "password", "at least 8")
    assert payload not in page and str(escape(payload)) in page

    assert post(client, "/signup/brand", {**BRAND, field: payload}).status_code == 303
    with app.app_context():
        user = db.session.scalar(select(User).where(User.email == BRAND["email"]))
        assert getattr(user, field) == payload
        user.verified_at = user.created_at
        db.session.commit()
        db.session.remove()
    if field == "display_name":
        profile = client.get("/profile").get_data(as_text=True)
        assert payload not in profile and str(escape(payload)) in profile


def test_an_idn_domain_is_stored_in_the_ascii_form_smtp_can_send_to(app, client):
    """Only the mailbox name must be ASCII (smtplib has no SMTPUTF8); the domain is punycoded."""
    from app.extensions import db

    assert post(client, "/signup/brand", {**BRAND, "email": "Bree@Bücher.example"}).status_code == 303
    with app.app_context():
        assert db.session.scalar(select(User.email)) == "bree@xn--bcher-kva.example"
        db.session.remove()


# --- the code page -------------------------------------------------------------------------------------

@pytest.mark.parametrize("code", ["", "12345", "1234567", "abcdef", "12 34 56", "١٢٣٤٥٦", "１２３４５６",
                                  TEN_KB, *SQL_PAYLOADS, SCRIPT, "123456\u202e"])
def test_a_malformed_code_is_refused_without_spending_a_try(app, client, redis_client, code):
    assert post(client, "/signup/brand", BRAND).status_code == 303
    before = state(app, redis_client, user_id=1)
    response = post(client, "/verify", {"code": code})
    assert_refused(response, 422, "code", "6-digit code")
    assert state(app, redis_client, user_id=1) == before


# --- profile changes -----------------------------------------------------------------------------------

@pytest.fixture
def signed_in_clipper(app, client, login_as):
    new_user(app, "clipper", email="taken@example.com", phone="+14155550123")
    user = new_user(app, "clipper", email="casey@example.com", phone="+447911123456", country="GB")
    login_as(user)
    with client.session_transaction() as session:  # as if a step-up code was just confirmed
        session["step_up"] = {"token": user.session_token, "at": time.time()}
    return user


PROFILE_CASES = [
    ("/profile/name", {"display_name": ""}, "display_name", 422, REQUIRED),
    ("/profile/name", {"display_name": TEN_KB}, "display_name", 422, "longer than 80"),
    ("/profile/name", {"display_name": "Casey\u202eevil"}, "display_name", 422, "letters, numbers"),
    ("/profile/name", {}, "display_name", 422, REQUIRED),
    ("/profile/email", {"email": ""}, "email", 422, REQUIRED),
    ("/profile/email", {"email": "not-an-email"}, "email", 422, "valid email"),
    ("/profile/email", {"email": TEN_KB + "@example.com"}, "email", 422, "longer than 254"),
    ("/profile/email", {"email": "ca😀sey@example.com"}, "email", 422, "valid email"),
    ("/profile/email", {"email": "casey\u202e@example.com"}, "email", 422, "valid email"),
    ("/profile/email", {"email": SQL_PAYLOADS[0]}, "email", 422, "valid email"),
    ("/profile/email", {"email": SCRIPT}, "email", 422, "valid email"),
    ("/profile/email", {"email": "CASEY@example.com"}, "email", 422, "already your email"),
    ("/profile/email", {"email": "Taken@Example.com"}, "email", 409, "already exists"),
    ("/profile/phone", {"phone": ""}, "phone", 422, REQUIRED),
    ("/profile/phone", {"phone": "123"}, "phone", 422, "does not exist"),
    ("/profile/phone", {"phone": "+1 555"}, "phone", 422, "does not exist"),
    ("/profile/phone", {"phone": "phone me"}, "phone", 422, "country code"),
    ("/profile/phone", {"phone": "📞📞📞📞📞"}, "phone", 422, "country code"),
    ("/profile/phone", {"phone": TEN_KB}, "phone", 422, "longer than 32"),
    ("/profile/phone", {"phone": "07911 123456"}, "phone", 422, "already your phone"),
    ("/profile/phone", {"phone": "+1 415 555 0123"}, "phone", 409, "belongs to another account"),
    ("/profile/password", {"current_password": "", "password": "a fine new passphrase"}, "current_password", 422,
     REQUIRED),
    ("/profile/password", {"current_password": "not it at all", "password": "a fine new passphrase"},
     "current_password", 422, "not right"),
    ("/profile/password", {"current_password": PASSWORD, "password": "x7#kQ2m"}, "password", 422, "at least 8"),
    ("/profile/password", {"current_password": PASSWORD, "password": "x7#kQ2m" * 18 + "abc"}, "password", 422,
     "at most 128"),
    ("/profile/password", {"current_password": PASSWORD, "password": "password123"}, "password", 422, "most common"),
    ("/profile/password", {"current_password": PASSWORD, "password": "qwertyuiop"}, "password", 422, "most common"),
    ("/profile/password", {"current_password": PASSWORD, "password": "casey@example.com"}, "password", 422,
     "email address"),
    ("/profile/password", {"current_password": TEN_KB, "password": "a fine new passphrase"}, "current_password",
     422, "longer than 128"),
    ("/profile/email/confirm", {"email-code": "abc"}, "email-code", 422, "6-digit code"),
    ("/profile/phone/confirm", {"phone-code": SQL_PAYLOADS[1]}, "phone-code", 422, "6-digit code"),
]


@pytest.mark.parametrize(("path", "data", "field_id", "status", "message"), PROFILE_CASES,
                         ids=[f"{c[0]}:{c[4][:20]}:{i}" for i, c in enumerate(PROFILE_CASES)])
def test_bad_profile_changes_are_refused_and_change_nothing(app, client, redis_client, signed_in_clipper, path,
                                                            data, field_id, status, message):
    if path.endswith("/confirm"):  # the code box shows only while a change waits for its code
        kind = path.split("/")[2]
        new_value = {"email": "casey.new@example.com", "phone": "+12025550143"}[kind]
        assert post(client, f"/profile/{kind}", {kind: new_value}, page="/profile").status_code == 200
    before = state(app, redis_client, user_id=signed_in_clipper.id)
    response = post(client, path, data, page="/profile")
    assert_refused(response, status, field_id, message)
    assert state(app, redis_client, user_id=signed_in_clipper.id) == before
    # The session is still the same one (a refused password change must not rotate the token).
    assert client.get("/profile").status_code == 200


@pytest.mark.parametrize("code", ["", "abcdef", "1234567", TEN_KB, SQL_PAYLOADS[0], SCRIPT])
def test_a_malformed_step_up_code_is_refused_without_spending_a_try(app, client, login_as, redis_client, code):
    user = new_user(app, "clipper", email="casey@example.com")
    login_as(user)
    sent = post(client, "/verify/step-up", {"action": "email"})
    assert sent.status_code == 200 and 'data-step-up="sent"' in sent.get_data(as_text=True)
    before = state(app, redis_client, user_id=user.id)
    assert before["codes"] == 1
    response = post(client, "/verify/step-up", {"code": code})
    assert_refused(response, 422, "code", "6-digit code")
    assert state(app, redis_client, user_id=user.id) == before
    with client.session_transaction() as session:
        assert "step_up" not in session


# --- forgotten password --------------------------------------------------------------------------------

@pytest.mark.parametrize("email", ["", "not-an-email", TEN_KB + "@example.com", *SQL_PAYLOADS, SCRIPT,
                                   "casey @example.com"])
def test_a_bad_forgot_password_email_is_refused_and_sends_nothing(app, client, redis_client, email):
    user = new_user(app, "clipper", email="casey@example.com")
    before = state(app, redis_client, user_id=user.id)
    response = post(client, "/password/forgot", {"email": email})
    assert_refused(response, 422, "email", "valid email" if email and len(email) < 254 else
                   (REQUIRED if not email else "longer than 254"))
    assert state(app, redis_client, user_id=user.id) == before


@pytest.mark.parametrize(("data", "field_id", "message"), [
    ({"code": "", "password": "a fine new passphrase"}, "code", "6-digit code"),
    ({"code": "abcdef", "password": "a fine new passphrase"}, "code", "6-digit code"),
    ({"code": TEN_KB, "password": "a fine new passphrase"}, "code", "6-digit code"),
    ({"code": SQL_PAYLOADS[0], "password": "a fine new passphrase"}, "code", "6-digit code"),
    ({"code": "123456", "password": ""}, "password", REQUIRED),
    ({"code": "123456", "password": "x7#kQ2m"}, "password", "at least 8"),
    ({"code": "123456", "password": "x7#kQ2m" * 18 + "abc"}, "password", "at most 128"),
    ({"code": "123456", "password": "password123"}, "password", "most common"),
    ({"code": "123456", "password": "qwertyuiop"}, "password", "most common"),
    ({"code": "123456", "password": "Casey@Example.com"}, "password", "email address"),
])
def test_a_bad_password_reset_is_refused_and_changes_nothing(app, client, redis_client, data, field_id, message):
    user = new_user(app, "clipper", email="casey@example.com")
    assert post(client, "/password/forgot", {"email": "casey@example.com"}).status_code == 303
    before = state(app, redis_client, user_id=user.id)
    assert before["codes"] == 1
    response = post(client, "/password/reset", data)
    assert_refused(response, 422, field_id, message)
    assert state(app, redis_client, user_id=user.id) == before


# --- sign-in -------------------------------------------------------------------------------------------

@pytest.mark.parametrize(("email", "password", "field_id", "message"), [
    ("' OR 1=1 --", "anything", "email", "valid email"),
    ("casey@example.com", "' OR 1=1 --", "password", "not right"),
    ("casey@example.com' --", PASSWORD, "email", "valid email"),
    ("casey@example.com'--", PASSWORD, "password", "not right"),
    ("casey@example.com", TEN_KB, "password", "longer than 128"),
    (TEN_KB + "@example.com", PASSWORD, "email", "longer than 254"),
])
def test_injection_at_sign_in_does_not_sign_anyone_in(app, client, redis_client, email, password, field_id,
                                                      message):
    user = new_user(app, "clipper", email="casey@example.com")
    before = state(app, redis_client, user_id=user.id)
    response = post(client, "/login", {"email": email, "password": password})
    assert_refused(response, 422, field_id, message)
    assert state(app, redis_client, user_id=user.id) == before
    assert client.get("/profile").headers["Location"].startswith("/login")
