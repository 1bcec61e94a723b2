"""Account rules: sign-up, verification, sign-in, password reset, profile changes.

Invariants: each public function owns its transaction and commits once (a
wrong OTP try is committed by ``otp.check_code`` itself); unknown email and
wrong password are indistinguishable to the caller (both return None after the
same argon2 work), and so are "no such account" and "wrong code" on password
reset; changing the password rotates the session token so every other session
ends; an email or phone changes only after its new owner proves it with a code.
"""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from app.accounts import otp
from app.accounts.models import ROLES, SELF_SERVICE_ROLES, OneTimeCode, User, new_session_token
from app.accounts.passwords import hash_password, needs_rehash, password_problem, verify_password
from app.db import utcnow
from app.errors import ConflictError, NotFoundError, ValidationError
from app.extensions import db

_UNIQUE_FIELDS = {
    "email": "An account with this email already exists. Sign in instead.",
    "phone": "This phone number belongs to another account.",
    "handle": "This handle is already taken on ContentFlow.",
}


def normalise_email(email: str) -> str:
    return (email or "").strip().lower()


def get_user(user_id: int) -> User:
    user = db.session.get(User, user_id)
    if user is None:
        raise NotFoundError("No such account.")
    return user


def get_user_by_session_token(token: str) -> User | None:
    if not token:
        return None
    return db.session.scalar(select(User).where(User.session_token == token))


def get_user_by_email(email: str) -> User | None:
    return db.session.scalar(select(User).where(User.email == normalise_email(email)))


def _check_unique(**values: str | None) -> None:
    for name, value in values.items():
        if value and db.session.scalar(select(User.id).where(getattr(User, name) == value)):
            raise ConflictError(_UNIQUE_FIELDS[name], field=name)


def _commit_unique() -> None:
    """Commit; a unique violation from a concurrent sign-up becomes a ConflictError."""
    try:
        db.session.commit()
    except IntegrityError as exc:
        db.session.rollback()
        text = str(exc.orig).lower()
        field = next((name for name in _UNIQUE_FIELDS if name in text), "email")
        raise ConflictError(_UNIQUE_FIELDS[field], field=field) from exc


def check_password_policy(password: str, email: str) -> None:
    problem = password_problem(password, email=email)
    if problem:
        raise ValidationError(problem, field="password")


def create_user(*, email: str, password: str, display_name: str, role: str, verified: bool = False,
                phone: str | None = None, company_name: str | None = None, handle: str | None = None,
                country: str | None = None) -> User:
    """A user row with every rule checked (used by sign-up, staff creation and seeding)."""
    email = normalise_email(email)
    if role not in ROLES:
        raise ValidationError(f"Unknown role {role!r}.", field="role")
    if not email or "@" not in email:
        raise ValidationError("Enter a valid email address.", field="email")
    handle = handle.lower() if handle else None
    if role == "brand" and not company_name:
        raise ValidationError("Enter your company name.", field="company_name")
    if role == "clipper" and not (handle and country):
        raise ValidationError("Enter your handle and country.", field="handle")
    _check_unique(email=email, phone=phone, handle=handle)
    user = User(
        email=email, display_name=display_name.strip() or email.split("@")[0], role=role,
        phone=phone or None, company_name=company_name or None, handle=handle, country=country or None,
        password_hash=hash_password(password), verified_at=utcnow() if verified else None,
    )
    db.session.add(user)
    return user


def sign_up(*, role: str, email: str, password: str, display_name: str, channel: str = "email",
            phone: str | None = None, company_name: str | None = None, handle: str | None = None,
            country: str | None = None) -> User:
    """Create an unverified clipper or brand and send the sign-up code."""
    if role not in SELF_SERVICE_ROLES:
        raise ValidationError("Only clippers and brands can sign up.", field="role")
    check_password_policy(password, email)
    if channel == "sms" and not phone:
        raise ValidationError("Add your mobile number to get the code by text message.", field="phone")
    user = create_user(email=email, password=password, display_name=display_name, role=role, phone=phone,
                       company_name=company_name, handle=handle, country=country)
    db.session.flush()
    otp.issue_code(user.id, "signup", channel, user.phone if channel == "sms" else user.email)
    _commit_unique()
    return user


def send_code_again(user_id: int, purpose: str, channel: str | None = None) -> OneTimeCode:
    """A fresh code for the same purpose; ``channel`` switches email <-> SMS where possible."""
    user = get_user(user_id)
    previous = otp.latest_code(user_id, purpose)
    if purpose in ("email_change", "phone_change"):
        if previous is None or previous.used_at:
            raise ValidationError("Start the change again from your profile.")
        channel, destination = previous.channel, previous.destination
    else:
        channel = channel or (previous.channel if previous else "email")
        if channel == "sms" and not user.phone:
            raise ValidationError("Add a mobile number to your account to get codes by text message.")
        destination = user.phone if channel == "sms" else user.email
    row = otp.issue_code(user_id, purpose, channel, destination)
    db.session.commit()
    return row


def verify_account(user_id: int, code: str) -> User:
    user = get_user(user_id)
    if user.verified_at is None:
        otp.check_code(user_id, "signup", code)
        user.verified_at = utcnow()
        db.session.commit()
    return user


def authenticate(email: str, password: str) -> User | None:
    """The user for these credentials, or None (same work either way)."""
    user = get_user_by_email(email)
    if not verify_password(user.password_hash if user else None, password):
        return None
    if needs_rehash(user.password_hash):
        user.password_hash = hash_password(password)
        db.session.commit()
    return user


def sign_out_everywhere(user_id: int) -> None:
    """Rotate the session token: every cookie naming the old one is now anonymous."""
    user = db.session.get(User, user_id)
    if user is not None:
        user.session_token = new_session_token()
        db.session.commit()


def _set_password(user: User, password: str) -> None:
    user.password_hash = hash_password(password)
    user.password_changed_at = utcnow()
    user.session_token = new_session_token()


def start_password_reset(email: str) -> None:
    """Email a reset code if the account exists and is active; say nothing either way."""
    user = get_user_by_email(email)
    if user is None or not user.is_active:
        return
    otp.issue_code(user.id, "password_reset", "email", user.email)
    db.session.commit()


def reset_password(email: str, code: str, password: str) -> User:
    user = get_user_by_email(email)
    if user is None or not user.is_active:
        raise otp.CodeError("There is no active code. Send a new one.", field="code")
    check_password_policy(password, user.email)
    otp.check_code(user.id, "password_reset", code)
    _set_password(user, password)
    if user.verified_at is None:  # the code proved the email
        user.verified_at = utcnow()
    db.session.commit()
    return user


def change_password(user_id: int, current_password: str, password: str) -> User:
    """New password; returns the user with a new session token (other sessions end)."""
    user = get_user(user_id)
    if not verify_password(user.password_hash, current_password):
        raise ValidationError("Your current password is not right.", field="current_password")
    check_password_policy(password, user.email)
    _set_password(user, password)
    db.session.commit()
    return user


def change_display_name(user_id: int, display_name: str) -> User:
    user = get_user(user_id)
    user.display_name = display_name.strip()
    db.session.commit()
    return user


# kind -> (OTP purpose, channel the code goes by, what to call it)
CONTACT_CHANGES = {
    "email": ("email_change", "email", "email"),
    "phone": ("phone_change", "sms", "phone number"),
}


def request_contact_change(user_id: int, kind: str, value: str) -> OneTimeCode:
    """Send a code to the new email/phone; nothing changes until it comes back."""
    purpose, channel, name = CONTACT_CHANGES[kind]
    user = get_user(user_id)
    value = normalise_email(value) if kind == "email" else value
    if value == getattr(user, kind):
        raise ValidationError(f"That is already your {name}.", field=kind)
    _check_unique(**{kind: value})
    row = otp.issue_code(user.id, purpose, channel, value)
    db.session.commit()
    return row


def confirm_contact_change(user_id: int, kind: str, code: str) -> User:
    """Apply the email/phone change the code was sent for, once the code checks out."""
    row = otp.check_code(user_id, CONTACT_CHANGES[kind][0], code)
    user = get_user(user_id)
    setattr(user, kind, row.destination)
    _commit_unique()
    return user


def pending_change(user_id: int, purpose: str) -> OneTimeCode | None:
    row = otp.latest_code(user_id, purpose)
    if row is None or row.used_at or row.expires_at < utcnow() or row.attempts >= otp.MAX_ATTEMPTS:
        return None
    return row


def start_step_up(user_id: int, channel: str = "email") -> OneTimeCode:
    """Send a "login" code to the account's own email (or phone) before a sensitive change."""
    user = get_user(user_id)
    if channel == "sms" and not user.phone:
        raise ValidationError("Add a mobile number to get codes by text message.")
    row = otp.issue_code(user.id, "login", channel, user.phone if channel == "sms" else user.email)
    db.session.commit()
    return row


def confirm_step_up(user_id: int, code: str) -> None:
    otp.check_code(user_id, "login", code)
    db.session.commit()


def suspend_user(user_id: int, reason: str) -> User:
    reason = (reason or "").strip()
    if not reason or len(reason) > 500:
        raise ValidationError("Give a reason of at most 500 characters.", field="reason")
    user = get_user(user_id)
    # The token stays: the next request of a live session meets the gate, which
    # signs it out and shows the reason (a rotated token would just look logged out).
    user.suspended_at, user.suspension_reason = utcnow(), reason
    db.session.commit()
    return user


def reinstate_user(user_id: int) -> User:
    user = get_user(user_id)
    user.suspended_at, user.suspension_reason = None, None
    db.session.commit()
    return user
