"""User accounts.

Invariants: emails are stored normalised (trimmed, lower-case) and unique;
``password_hash`` is argon2id and never a plaintext; ``session_token`` is what
the session cookie names (flask-login alternative id) — rotating it signs out
every existing session of that user; ``role`` is one of ``ROLES``.
"""

from __future__ import annotations

import secrets
from datetime import datetime

from flask_login import UserMixin
from sqlalchemy import CheckConstraint, String
from sqlalchemy.orm import Mapped, mapped_column

from app.db import IdMixin, TimestampMixin
from app.extensions import db

ROLES = ("clipper", "brand", "admin", "support")
STAFF_ROLES = frozenset({"admin", "support"})


def new_session_token() -> str:
    return secrets.token_urlsafe(32)


class User(IdMixin, TimestampMixin, UserMixin, db.Model):
    __tablename__ = "users"
    __table_args__ = (
        CheckConstraint("role IN ('clipper', 'brand', 'admin', 'support')", name="role_valid"),
    )

    email: Mapped[str] = mapped_column(String(254), unique=True, nullable=False)
    display_name: Mapped[str] = mapped_column(String(80), nullable=False)
    role: Mapped[str] = mapped_column(String(16), nullable=False)
    password_hash: Mapped[str] = mapped_column(String(255), nullable=False)
    session_token: Mapped[str] = mapped_column(
        String(64), unique=True, nullable=False, default=new_session_token
    )
    verified_at: Mapped[datetime | None] = mapped_column(nullable=True)
    suspended_at: Mapped[datetime | None] = mapped_column(nullable=True)

    def get_id(self) -> str:  # flask-login stores this in the cookie
        return self.session_token

    @property
    def is_active(self) -> bool:
        return self.suspended_at is None

    @property
    def is_staff(self) -> bool:
        return self.role in STAFF_ROLES

    def __repr__(self) -> str:
        return f"<User {self.id} {self.role}>"
