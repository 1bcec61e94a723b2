"""Signing in and out, as a person at the keyboard sees it."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import text

from app.accounts.models import ROLES
from tests.factories import HOMES, PARTIAL, PASSWORD, new_user


def user_row(app, user_id: int) -> dict:
    from app.extensions import db

    with app.app_context():
        return dict(db.session.execute(text("SELECT * FROM users WHERE id = :id"), {"id": user_id}).mappings().one())


def sign_in(client, token, email, password, **extra):
    return client.post("/login", data={"csrf_token": token, "email": email, "password": password, **extra})


def is_signed_in(client) -> bool:
    response = client.get("/profile")
    assert response.status_code in (200, 302)
    return response.status_code == 200


def without_csrf_tokens(html: str) -> str:
    # The signed token embeds a timestamp (seconds), so two requests a second apart differ
    # there; it says nothing about the account.
    html = re.sub(r'(name="csrf_token" type="hidden" value=")[^"]+"', r'\1TOKEN"', html)
    return re.sub(r'("X-CSRFToken": )"[^"]+"', r'\1"TOKEN"', html)


# --- Signing in ------------------------------------------------------------------------------

@pytest.mark.parametrize("role", ["clipper", "brand"])
def test_each_role_signs_in_and_sees_their_home(app, client, csrf_token, role):
    user = new_user(app, role)
    response = sign_in(client, csrf_token(), user.email, PASSWORD)
    assert response.status_code == 303
    assert response.headers["Location"] == HOMES[role]
    home = client.get(HOMES[role])
    html = home.get_data(as_text=True)
    assert home.status_code == 200
    assert "Sign out" in html


@pytest.mark.parametrize("role", ["admin", "support"])
def test_staff_sign_in_leads_to_two_factor_before_their_home(app, client, csrf_token, role):
    user = new_user(app, role)
    response = sign_in(client, csrf_token(), user.email, PASSWORD)
    assert response.headers["Location"] == HOMES[role]
    home = client.get(HOMES[role])
    assert home.status_code == 303
    assert home.headers["Location"] == "/staff/2fa?next=" + HOMES[role]


def test_home_leads_each_role_to_its_own_home(app, login_as):
    texts = {}
    for role in ROLES:
        client = login_as(new_user(app, role), on=app.test_client())
        response = client.get("/home")
        assert response.headers["Location"] == HOMES[role]
        texts[role] = client.get(HOMES[role]).get_data(as_text=True)
    assert "verification queue" in texts["admin"].lower()
    assert "payouts" in texts["support"].lower()
    assert "verification queue" not in texts["clipper"].lower()
    assert "verification queue" not in texts["brand"].lower()


@pytest.mark.parametrize("typed", ["PERSON@EXAMPLE.TEST", "  person@example.test  ", "\tPerson@Example.Test\n"])
def test_email_is_case_insensitive_and_trimmed(app, client, csrf_token, typed):
    new_user(app, "clipper", email="person@example.test")
    response = sign_in(client, csrf_token(), typed, PASSWORD)
    assert response.status_code == 303
    assert is_signed_in(client)


def test_email_is_stored_normalised(app):
    user = new_user(app, "brand", email="  Mixed.Case@Example.TEST ")
    assert user_row(app, user.id)["email"] == "mixed.case@example.test"


def test_password_is_not_trimmed_or_case_folded(app, client, csrf_token):
    user = new_user(app, "clipper", password=" Secret Pass 42 ")
    token = csrf_token()
    assert sign_in(client, token, user.email, "Secret Pass 42").status_code == 422
    assert sign_in(client, token, user.email, " secret pass 42 ").status_code == 422
    assert not is_signed_in(client)
    assert sign_in(client, token, user.email, " Secret Pass 42 ").status_code == 303


def test_unknown_email_and_wrong_password_look_exactly_the_same(app, client, csrf_token):
    token = csrf_token()
    email, password = "someone@example.test", "guessed-password-1"
    unknown = sign_in(client, token, email, password)  # no such account yet
    new_user(app, "clipper", email=email)  # now it exists, with another password
    wrong = sign_in(client, token, email, password)
    assert unknown.status_code == wrong.status_code == 422
    assert unknown.headers["Content-Type"] == wrong.headers["Content-Type"]
    assert without_csrf_tokens(unknown.get_data(as_text=True)) == without_csrf_tokens(wrong.get_data(as_text=True))
    assert "Email or password is not right." in wrong.get_data(as_text=True)


def test_unknown_email_and_wrong_password_fragments_look_exactly_the_same(app, client, csrf_token):
    token = csrf_token()
    email, password = "someone@example.test", "guessed-password-1"
    unknown = client.post("/login", data={"csrf_token": token, "email": email, "password": password}, headers=PARTIAL)
    new_user(app, "clipper", email=email)
    wrong = client.post("/login", data={"csrf_token": token, "email": email, "password": password}, headers=PARTIAL)
    assert unknown.status_code == wrong.status_code == 422
    assert without_csrf_tokens(unknown.get_data(as_text=True)) == without_csrf_tokens(wrong.get_data(as_text=True))


def test_wrong_password_does_not_sign_in(app, client, csrf_token):
    user = new_user(app, "clipper")
    response = sign_in(client, csrf_token(), user.email, PASSWORD + "x")
    assert response.status_code == 422
    assert not is_signed_in(client)


BAD_FORMS = {
    "missing email": ({"password": PASSWORD}, "email", "This field is required."),
    "missing password": ({"email": "{email}"}, "password", "This field is required."),
    "blank email": ({"email": "   ", "password": PASSWORD}, "email", "This field is required."),
    "not an email": ({"email": "not-an-email", "password": PASSWORD}, "email", "Enter a valid email address."),
    "oversized email": ({"email": "a" * 287 + "@example.test", "password": PASSWORD}, "email", "254"),
    "oversized password": ({"email": "{email}", "password": "p" * 200}, "password", "128"),
}


@pytest.mark.parametrize("case", list(BAD_FORMS))
def test_bad_sign_in_form_gets_422_with_field_errors_and_no_sign_in(app, client, csrf_token, case):
    # The account exists and, for the oversized password, really has that password:
    # only the form's limits stand between the request and a sign-in.
    user = new_user(app, "clipper", password="p" * 200 if case == "oversized password" else PASSWORD)
    data, field, error_text = BAD_FORMS[case]
    data = {key: value.replace("{email}", user.email) for key, value in data.items()}
    if case == "oversized email":
        assert len(data["email"]) == 300
    response = client.post("/login", data={"csrf_token": csrf_token(), **data})
    html = response.get_data(as_text=True)
    assert response.status_code == 422
    error = re.search(rf'<small id="{field}-error" class="field-error">([^<]*)</small>', html)
    assert error, f"no error shown next to {field}"
    assert error_text in error.group(1)
    assert re.search(rf'<input[^>]*aria-invalid="true"[^>]*id="{field}"|<input[^>]*id="{field}"[^>]*aria-invalid', html)
    assert not is_signed_in(client)


@pytest.mark.parametrize(
    "email",
    ["x'or'1'='1@example.test", "admin@demo.contentflow.local'--@x.io", "%@example.test", "*@*.*"],
)
def test_injection_shaped_emails_do_not_sign_anyone_in(app, client, csrf_token, email):
    new_user(app, "admin", email="admin@demo.contentflow.local")
    response = sign_in(client, csrf_token(), email, PASSWORD)
    assert response.status_code == 422
    assert not is_signed_in(client)


def test_typed_email_is_echoed_escaped(client, csrf_token):
    hostile = '"><script>alert(1)</script>@example.test'
    response = sign_in(client, csrf_token(), hostile, "whatever")
    html = response.get_data(as_text=True)
    assert response.status_code == 422
    assert "<script>alert(1)" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html or "&#34;&gt;&lt;script" in html


def test_password_is_never_echoed_back(app, client, csrf_token):
    user = new_user(app, "clipper")
    html = sign_in(client, csrf_token(), user.email, "my-secret-typo-123").get_data(as_text=True)
    assert "my-secret-typo-123" not in html


def test_suspended_user_cannot_sign_in(app, client, csrf_token):
    from app.extensions import db

    user = new_user(app, "clipper")
    with app.app_context():
        db.session.execute(text("UPDATE users SET suspended_at = now() WHERE id = :id"), {"id": user.id})
        db.session.commit()
    with app.app_context():
        db.session.execute(text("UPDATE users SET suspension_reason = 'Fake views' WHERE id = :id"), {"id": user.id})
        db.session.commit()
    wrong = sign_in(client, csrf_token(), user.email, PASSWORD + "x")
    assert wrong.status_code == 422  # without the password, nothing about the account is revealed
    assert "suspended" not in wrong.get_data(as_text=True)
    response = sign_in(client, csrf_token(), user.email, PASSWORD)
    assert response.status_code == 403
    assert "This account is suspended: Fake views" in response.get_data(as_text=True)
    assert not is_signed_in(client)


def test_suspension_ends_a_session_already_open(app, client, csrf_token):
    from app.extensions import db

    user = new_user(app, "clipper")
    assert sign_in(client, csrf_token(), user.email, PASSWORD).status_code == 303
    assert is_signed_in(client)
    with app.app_context():
        db.session.execute(text("UPDATE users SET suspended_at = now() WHERE id = :id"), {"id": user.id})
        db.session.commit()
    response = client.get("/profile")
    assert response.status_code == 303 and response.headers["Location"] == "/login"
    assert "Your account is suspended" in client.get("/login").get_data(as_text=True)
    assert not is_signed_in(client)


def test_double_submit_of_the_sign_in_form_lands_on_home(app, client, csrf_token):
    user = new_user(app, "brand")
    token = csrf_token()
    assert sign_in(client, token, user.email, PASSWORD).status_code == 303
    again = sign_in(client, token, user.email, PASSWORD)
    assert again.status_code in (302, 303)
    assert again.headers["Location"] == HOMES["brand"]
    assert is_signed_in(client)


def test_signed_in_user_opening_sign_in_goes_home(app, client, login_as):
    login_as(new_user(app, "clipper"))
    response = client.get("/login")
    assert response.status_code in (302, 303)
    assert response.headers["Location"] == HOMES["clipper"]


# --- Anonymous access and next ---------------------------------------------------------------

def test_home_sends_anonymous_users_to_sign_in_and_back(app, client):
    user = new_user(app, "clipper")
    response = client.get("/profile")
    assert response.status_code == 302
    assert response.headers["Location"] == "/login?next=/profile"
    page = client.get(response.headers["Location"])
    html = page.get_data(as_text=True)
    assert "Please sign in to continue." in html
    assert re.search(r'<input[^>]*name="next"[^>]*value="/profile"', html)
    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', html).group(1)
    signed = sign_in(client, token, user.email, PASSWORD, next="/profile")
    assert signed.headers["Location"] == "/profile"


# --- Signing out -------------------------------------------------------------------------------

def test_logout_signs_out_and_the_old_cookie_stops_working(app, client, csrf_token):
    user = new_user(app, "clipper")
    assert sign_in(client, csrf_token(), user.email, PASSWORD).status_code == 303
    home = client.get("/profile").get_data(as_text=True)
    old_cookie = client.get_cookie("session").value

    # The stolen/copied cookie works before logout ...
    replay = app.test_client()
    replay.set_cookie("session", old_cookie)
    assert replay.get("/profile").status_code == 200

    token = re.search(r'name="csrf_token" value="([^"]+)"', home).group(1)
    response = client.post("/logout", data={"csrf_token": token})
    assert response.status_code == 303
    assert response.headers["Location"] == "/"
    assert "You are signed out." in client.get("/").get_data(as_text=True)
    assert not is_signed_in(client)

    # ... and not after: the server rotated the session token.
    replay_after = app.test_client()
    replay_after.set_cookie("session", old_cookie)
    after = replay_after.get("/profile")
    assert after.status_code == 302
    assert after.headers["Location"].startswith("/login")
    assert user_row(app, user.id)["session_token"] != user.session_token


def test_logout_signs_out_every_other_session_of_the_user(app, csrf_token):
    user = new_user(app, "brand")
    phone, laptop = app.test_client(), app.test_client()
    for device in (phone, laptop):
        token = csrf_token(device)
        assert sign_in(device, token, user.email, PASSWORD).status_code == 303
    token = re.search(r'name="csrf_token" value="([^"]+)"', phone.get("/profile").get_data(as_text=True)).group(1)
    assert phone.post("/logout", data={"csrf_token": token}).status_code == 303
    assert not is_signed_in(laptop)


def test_logout_when_not_signed_in_changes_nothing(client, csrf_token):
    response = client.post("/logout", data={"csrf_token": csrf_token()})
    assert response.status_code == 302
    assert response.headers["Location"].startswith("/login")


# --- Stored credentials --------------------------------------------------------------------------

def test_passwords_are_stored_as_argon2id_and_never_in_plain(app):
    password = "Plaintext-Canary-7731"
    user = new_user(app, "clipper", password=password)
    row = user_row(app, user.id)
    assert row["password_hash"].startswith("$argon2id$")
    for column, value in row.items():
        assert password not in str(value), f"plaintext password in users.{column}"
        assert password.lower() not in str(value).lower()


def test_same_password_gives_different_hashes(app):
    first = user_row(app, new_user(app, "clipper", password="same-password-1").id)
    second = user_row(app, new_user(app, "clipper", password="same-password-1").id)
    assert first["password_hash"] != second["password_hash"]  # salted
