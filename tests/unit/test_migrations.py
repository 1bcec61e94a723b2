"""Models and migrations agree, and `flask db upgrade` works on PostgreSQL and SQLite."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import create_engine, inspect

from app.extensions import db as database

ROOT = Path(__file__).resolve().parents[2]


def _differences(connection) -> list:
    context = MigrationContext.configure(connection, opts={"compare_type": True})
    return compare_metadata(context, database.metadata)


def test_postgresql_schema_from_migrations_matches_the_models(db):
    with db.engine.connect() as connection:
        assert _differences(connection) == []


def test_flask_db_upgrade_on_sqlite_matches_the_models(tmp_path):
    url = f"sqlite:///{tmp_path / 'fresh.db'}"
    env = {**os.environ, "DATABASE_URL": url, "FLASK_APP": "wsgi", "SECRET_KEY": "x" * 32}
    env.pop("REDIS_URL", None)
    result = subprocess.run([sys.executable, "-m", "flask", "db", "upgrade"], cwd=ROOT, env=env,
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    engine = create_engine(url)
    with engine.connect() as connection:
        assert "users" in inspect(connection).get_table_names()
        assert _differences(connection) == []
    engine.dispose()


def test_upgrade_is_repeatable_and_downgrade_works_on_sqlite(tmp_path):
    url = f"sqlite:///{tmp_path / 'cycle.db'}"
    env = {**os.environ, "DATABASE_URL": url, "FLASK_APP": "wsgi", "SECRET_KEY": "x" * 32}
    for command in (["upgrade"], ["upgrade"], ["downgrade", "base"], ["upgrade"]):
        result = subprocess.run([sys.executable, "-m", "flask", "db", *command], cwd=ROOT, env=env,
                                capture_output=True, text=True, timeout=120)
        assert result.returncode == 0, (command, result.stderr)
