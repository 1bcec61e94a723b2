"""Account rules: create users, authenticate, sign out everywhere.

Invariants: each function owns its transaction and commits once; unknown
email and wrong password are indistinguishable to the caller (both return
None after the same argon2 work); signing out rotates the session token so
an old cookie stops working server-side.
"""

from __future__ import annotations

from sqlalchemy import select

from app.accounts.models import ROLES, User, new_session_token
from app.accounts.passwords import hash_password, needs_rehash, verify_password
from app.db import utcnow
from app.errors import ConflictError, ValidationError
from app.extensions import db

ROLE_HOME = {
    "clipper": "core.dashboard",
    "brand": "core.dashboard",
    "admin": "core.dashboard",
    "support": "core.dashboard",
}


def normalise_email(email: str) -> str:
    return (email or "").strip().lower()


def get_user_by_session_token(token: str) -> User | None:
    if not token:
        return None
    return db.session.scalar(select(User).where(User.session_token == token))


def create_user(
    *, email: str, password: str, display_name: str, role: str, verified: bool = False
) -> User:
    email = normalise_email(email)
    if role not in ROLES:
        raise ValidationError(f"Unknown role {role!r}.", field="role")
    if not email or "@" not in email:
        raise ValidationError("Enter a valid email address.", field="email")
    if db.session.scalar(select(User.id).where(User.email == email)):
        raise ConflictError("An account with this email already exists.", field="email")
    user = User(
        email=email, display_name=display_name.strip() or email.split("@")[0], role=role,
        password_hash=hash_password(password), verified_at=utcnow() if verified else None,
    )
    db.session.add(user)
    db.session.commit()
    return user


def authenticate(email: str, password: str) -> User | None:
    """The user for these credentials, or None (same work either way)."""
    user = db.session.scalar(select(User).where(User.email == normalise_email(email)))
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
