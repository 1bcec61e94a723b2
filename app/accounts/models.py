"""User accounts and one-time codes.

Invariants:
- emails are stored normalised (trimmed, lower-case) and unique; phones are
  E.164 (``+`` and digits) and unique when present; clipper handles are stored
  lower-case and unique;
- ``password_hash`` is argon2id, never a plaintext; an OTP is stored only as an
  HMAC bound to its user and purpose (``otp.code_digest``), never in clear;
- ``session_token`` is what the session cookie names (flask-login alternative
  id): rotating it signs out every existing session of that user;
- a brand carries a company name, a clipper a handle and a country (database
  CHECKs, so no code path can create a half-made account);
- the staff TOTP secret is sealed (Fernet, ``security.seal``) at rest.
"""

from __future__ import annotations

import secrets
from datetime import datetime

from flask_login import UserMixin
from sqlalchemy import BigInteger, CheckConstraint, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from app.db import BigIntPK, IdMixin, TimestampMixin, one_of
from app.extensions import db

ROLES = ("clipper", "brand", "admin", "support")
STAFF_ROLES = frozenset({"admin", "support"})
SELF_SERVICE_ROLES = ("clipper", "brand")

OTP_PURPOSES = ("signup", "login", "password_reset", "email_change", "phone_change")
OTP_CHANNELS = ("email", "sms")
DELIVERY_STATES = ("queued", "sent", "failed")


def new_session_token() -> str:
    return secrets.token_urlsafe(32)



class User(IdMixin, TimestampMixin, UserMixin, db.Model):
    __tablename__ = "users"
    __table_args__ = (
        CheckConstraint("role IN ('clipper', 'brand', 'admin', 'support')", name="role_valid"),
        CheckConstraint("role != 'brand' OR company_name IS NOT NULL", name="brand_has_company"),
        CheckConstraint("role != 'clipper' OR (handle IS NOT NULL AND country IS NOT NULL)",
                        name="clipper_has_handle_country"),
    )

    email: Mapped[str] = mapped_column(String(254), unique=True, nullable=False)
    phone: Mapped[str | None] = mapped_column(String(16), unique=True, nullable=True)
    display_name: Mapped[str] = mapped_column(String(80), nullable=False)
    role: Mapped[str] = mapped_column(String(16), nullable=False)
    company_name: Mapped[str | None] = mapped_column(String(120), nullable=True)
    handle: Mapped[str | None] = mapped_column(String(30), unique=True, nullable=True)
    country: Mapped[str | None] = mapped_column(String(2), nullable=True)
    password_hash: Mapped[str] = mapped_column(String(255), nullable=False)
    password_changed_at: Mapped[datetime | None] = mapped_column(nullable=True)
    session_token: Mapped[str] = mapped_column(
        String(64), unique=True, nullable=False, default=new_session_token
    )
    verified_at: Mapped[datetime | None] = mapped_column(nullable=True)
    suspended_at: Mapped[datetime | None] = mapped_column(nullable=True)
    suspension_reason: Mapped[str | None] = mapped_column(String(500), nullable=True)
    totp_secret_sealed: Mapped[str | None] = mapped_column(Text, nullable=True)
    totp_enrolled_at: Mapped[datetime | None] = mapped_column(nullable=True)
    # The last accepted TOTP time step: a code is accepted once, never replayed.
    totp_last_step: Mapped[int | None] = mapped_column(BigInteger, nullable=True)

    def get_id(self) -> str:  # flask-login stores this in the cookie
        return self.session_token

    @property
    def is_active(self) -> bool:
        return self.suspended_at is None

    @property
    def is_verified(self) -> bool:
        return self.verified_at is not None

    @property
    def is_staff(self) -> bool:
        return self.role in STAFF_ROLES

    def __repr__(self) -> str:
        return f"<User {self.id} {self.role}>"


class OneTimeCode(IdMixin, db.Model):
    """One code sent to one destination for one purpose; the newest live one counts."""

    __tablename__ = "one_time_codes"
    __table_args__ = (
        CheckConstraint(one_of("purpose", OTP_PURPOSES), name="purpose_valid"),
        CheckConstraint(one_of("channel", OTP_CHANNELS), name="channel_valid"),
        CheckConstraint(one_of("delivery_status", DELIVERY_STATES), name="delivery_status_valid"),
        CheckConstraint("attempts >= 0", name="attempts_non_negative"),
        Index("ix_one_time_codes_user_purpose", "user_id", "purpose", "created_at"),
    )

    user_id: Mapped[int] = mapped_column(
        BigIntPK, ForeignKey("users.id", ondelete="CASCADE"), nullable=False,
    )
    purpose: Mapped[str] = mapped_column(String(20), nullable=False)
    channel: Mapped[str] = mapped_column(String(8), nullable=False)
    # Where the code went: the account's email/phone, or the new one being proven.
    destination: Mapped[str] = mapped_column(String(254), nullable=False)
    code_digest: Mapped[str] = mapped_column(String(64), nullable=False)
    attempts: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    created_at: Mapped[datetime] = mapped_column(nullable=False)
    expires_at: Mapped[datetime] = mapped_column(nullable=False)
    used_at: Mapped[datetime | None] = mapped_column(nullable=True)
    # Set when a newer code for the same purpose replaced this one.
    superseded_at: Mapped[datetime | None] = mapped_column(nullable=True)
    delivery_status: Mapped[str] = mapped_column(String(8), nullable=False, default="queued")
    delivery_error: Mapped[str | None] = mapped_column(String(300), nullable=True)
    delivery_attempts: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    sent_at: Mapped[datetime | None] = mapped_column(nullable=True)

    def __repr__(self) -> str:
        return f"<OneTimeCode {self.id} {self.purpose} user={self.user_id}>"
