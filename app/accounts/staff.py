"""Staff accounts (admin, support) and their TOTP second factor.

Invariants: staff are created only by the CLI (never by sign-up); a staff
session is complete only after a TOTP code (``session["mfa"]`` names the
session token it was given for, so a new token needs a new code); the secret
is sealed at rest and shown once, at enrolment; a code (time step) is accepted
at most once, so a code seen over a shoulder cannot be replayed.
"""

from __future__ import annotations

import io

import pyotp
import segno
from sqlalchemy import update

from app.accounts import service
from app.accounts.models import STAFF_ROLES, User
from app.db import utcnow
from app.errors import ValidationError
from app.extensions import db
from app.security import seal, unseal

ISSUER = "ContentFlow"
VALID_WINDOW = 1  # accept the previous and next 30 s step for clock drift


def create_staff(*, role: str, email: str, display_name: str, password: str) -> User:
    if role not in STAFF_ROLES:
        raise ValidationError("Staff role must be admin or support.", field="role")
    service.check_password_policy(password, email)
    user = service.create_user(email=email, password=password, display_name=display_name,
                               role=role, verified=True)
    db.session.commit()
    return user


def new_secret() -> str:
    return pyotp.random_base32()


def provisioning_uri(email: str, secret: str) -> str:
    return pyotp.TOTP(secret).provisioning_uri(name=email, issuer_name=ISSUER)


def qr_svg(uri: str) -> bytes:
    buffer = io.BytesIO()
    segno.make(uri, error="m").save(buffer, kind="svg", scale=5, dark="#111", light="#fff",
                                    title="Authenticator set-up code")
    return buffer.getvalue()


def _matching_step(secret: str, code: str, last_step: int | None) -> int | None:
    totp = pyotp.TOTP(secret)
    now = utcnow()
    current = totp.timecode(now)
    for step in range(current - VALID_WINDOW, current + VALID_WINDOW + 1):
        if last_step is not None and step <= last_step:
            continue
        if pyotp.utils.strings_equal(totp.generate_otp(step), code):
            return step
    return None


def _accept_step(user_id: int, step: int) -> bool:
    # Compare-and-set: two requests racing with the same code cannot both win.
    result = db.session.execute(
        update(User)
        .where(User.id == user_id, (User.totp_last_step.is_(None)) | (User.totp_last_step < step))
        .values(totp_last_step=step)
    )
    return result.rowcount == 1


def enrol_totp(user_id: int, secret: str, code: str) -> User:
    user = service.get_user(user_id)
    if user.totp_enrolled_at is not None:
        raise ValidationError("An authenticator is already set up for this account.")
    step = _matching_step(secret, code, None)
    if step is None:
        raise ValidationError("That code does not match. Check the time on your phone and try again.",
                              field="code")
    user.totp_secret_sealed = seal(secret)
    user.totp_enrolled_at = utcnow()
    _accept_step(user_id, step)
    db.session.commit()
    return user


def verify_totp(user_id: int, code: str) -> User:
    user = service.get_user(user_id)
    if not user.totp_secret_sealed:
        raise ValidationError("Set up your authenticator first.")
    step = _matching_step(unseal(user.totp_secret_sealed), code, user.totp_last_step)
    if step is None or not _accept_step(user_id, step):
        db.session.rollback()
        raise ValidationError("That code is not right, or was already used. Wait for the next one.",
                              field="code")
    db.session.commit()
    return user
