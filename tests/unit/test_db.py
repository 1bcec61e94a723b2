"""Time columns are timezone-aware UTC in and out; constraint names are stable."""

from datetime import UTC, datetime, timedelta, timezone

import pytest
from sqlalchemy import inspect
from sqlalchemy.exc import StatementError

from app.accounts.models import User
from app.db import utcnow
from tests.factories import make_user


def test_utcnow_is_aware_utc():
    now = utcnow()
    assert now.tzinfo is not None and now.utcoffset() == timedelta(0)


def test_datetimes_round_trip_as_utc(db):
    user = make_user()
    tokyo = timezone(timedelta(hours=9))
    user.suspended_at = datetime(2026, 1, 2, 9, 0, tzinfo=tokyo)
    db.session.commit()
    db.session.expire_all()
    reloaded = db.session.get(User, user.id)
    assert reloaded.suspended_at == datetime(2026, 1, 2, 0, 0, tzinfo=UTC)
    assert reloaded.suspended_at.tzinfo is not None
    assert reloaded.created_at.tzinfo is not None


def test_naive_datetimes_are_refused(db):
    user = make_user()
    user.suspended_at = datetime(2026, 1, 2, 9, 0)
    with pytest.raises(StatementError, match="naive datetime"):
        db.session.commit()
    db.session.rollback()


def test_constraints_follow_the_naming_convention(db):
    inspector = inspect(db.engine)
    assert inspector.get_pk_constraint("users")["name"] == "pk_users"
    unique_names = {c["name"] for c in inspector.get_unique_constraints("users")}
    assert {"uq_users_email", "uq_users_session_token"} <= unique_names
    check_names = {c["name"] for c in inspector.get_check_constraints("users")}
    assert "ck_users_role_valid" in check_names
