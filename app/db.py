"""Declarative base, column types and time helpers shared by every model.

Invariants:
- every constraint and index has a deterministic name (``NAMING_CONVENTION``) so
  Alembic migrations are identical on SQLite and PostgreSQL;
- every datetime is timezone-aware UTC going in and coming out, also on SQLite
  (which stores naive text): ``UTCDateTime`` rejects naive values;
- primary keys are BigInteger on PostgreSQL and INTEGER on SQLite (where only
  ``INTEGER PRIMARY KEY`` autoincrements).
"""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import BigInteger, DateTime, Integer, MetaData
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import DeclarativeBase, Mapped, Session, mapped_column, registry
from sqlalchemy.types import TypeDecorator

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

BigIntPK = BigInteger().with_variant(Integer, "sqlite")


def one_of(column: str, values) -> str:
    """SQL for a CHECK that ``column`` holds one of ``values`` (status, kind and role columns)."""
    return f"{column} IN ({', '.join(repr(v) for v in values)})"


def on_postgresql(session: Session) -> bool:
    """True when ``session`` talks to PostgreSQL (else SQLite, the embedded default)."""
    return session.get_bind().dialect.name == "postgresql"


def dialect_insert(session: Session, model):
    """An INSERT for ``session``'s dialect, so callers can add ``.on_conflict_do_nothing()``
    (insert-or-ignore) or ``.on_conflict_do_update()``: the one copy of this helper."""
    return (postgresql.insert if on_postgresql(session) else sqlite.insert)(model)


def utcnow() -> datetime:
    """The current time as an aware UTC datetime (never naive)."""
    return datetime.now(UTC)


class UTCDateTime(TypeDecorator):
    """A DateTime that only accepts aware values and always returns UTC."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value, dialect):
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTC column; use app.db.utcnow()")
        return value.astimezone(UTC)

    def process_result_value(self, value, dialect):
        if value is None:
            return None
        if value.tzinfo is None:  # SQLite drops the offset
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)


class Base(DeclarativeBase):
    registry = registry(
        metadata=MetaData(naming_convention=NAMING_CONVENTION),
        type_annotation_map={datetime: UTCDateTime},
    )


class IdMixin:
    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True)


class TimestampMixin:
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, nullable=False)
    updated_at: Mapped[datetime] = mapped_column(
        UTCDateTime, default=utcnow, onupdate=utcnow, nullable=False
    )
