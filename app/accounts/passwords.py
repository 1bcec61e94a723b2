"""Password hashing with argon2id (argon2-cffi, OWASP parameters).

Invariant: only argon2id hashes are stored; ``verify`` takes the same time
whether or not the account exists (callers pass ``None`` to hash a dummy);
an acceptable password has 8-128 characters and is not in the shipped list of
the most common passwords (``password_problem``).
"""

from __future__ import annotations

from functools import lru_cache

from argon2 import PasswordHasher, Type
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

# OWASP: m >= 19 MiB, t >= 2, p = 1.
HASHER = PasswordHasher(time_cost=2, memory_cost=19 * 1024, parallelism=1, type=Type.ID)
_DUMMY_HASH = HASHER.hash("timing-equaliser-not-a-password")


def hash_password(password: str) -> str:
    return HASHER.hash(password)


def verify_password(stored_hash: str | None, password: str) -> bool:
    try:
        return HASHER.verify(stored_hash or _DUMMY_HASH, password) and stored_hash is not None
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False


def needs_rehash(stored_hash: str) -> bool:
    return HASHER.check_needs_rehash(stored_hash)


MIN_LENGTH = 8
MAX_LENGTH = 128


@lru_cache(maxsize=1)
def _common_passwords() -> frozenset[str]:
    # zxcvbn ships the 30,000 most common passwords from public breach corpora.
    from zxcvbn.frequency_lists import FREQUENCY_LISTS

    return frozenset(FREQUENCY_LISTS["passwords"])


def password_problem(password: str, *, email: str | None = None) -> str | None:
    """Why ``password`` is not acceptable, or None. Lengths count characters."""
    if len(password) < MIN_LENGTH:
        return f"Use at least {MIN_LENGTH} characters."
    if len(password) > MAX_LENGTH:
        return f"Use at most {MAX_LENGTH} characters."
    if not password.strip():
        return "A password cannot be only spaces."
    lowered = password.lower()
    if lowered in _common_passwords():
        return "This password is one of the most common ones. Choose another."
    if email and lowered in {email.lower(), email.split("@")[0].lower()}:
        return "Do not use your email address as your password."
    return None
