"""`flask seed` builds the demo world through the services: two brands' campaigns in each
state, the demo clipper's applications, a post with a verified count and a pending CPM
change; a second run creates nothing; the public feed shows the published campaigns.
Run as `make run` runs it (a fresh SQLite file, subprocesses) and on PostgreSQL."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from sqlalchemy import create_engine, text

from app.demo import DEMO_CAMPAIGNS, DEMO_POST_VIEWS

ROOT = Path(__file__).resolve().parents[2]
PUBLISHED = {spec.title for spec in DEMO_CAMPAIGNS if spec.state == "published"}
EXPECTED_STATES = {spec.title: spec.state for spec in DEMO_CAMPAIGNS}


def _flask(url: str, *args: str) -> str:
    env = {**os.environ, "DATABASE_URL": url, "FLASK_APP": "wsgi", "SECRET_KEY": "x" * 32}
    for name in ("REDIS_URL", "S3_BUCKET", "STRIPE_SECRET_KEY"):
        env.pop(name, None)  # the embedded defaults, as on a newcomer's machine
    result = subprocess.run([sys.executable, "-m", "flask", *args], cwd=ROOT, env=env, capture_output=True,
                            text=True, timeout=120)
    assert result.returncode == 0, result.stderr[-3000:]
    return result.stdout


def _world(connection) -> dict:
    rows = connection.execute(text("SELECT title, status FROM campaigns")).all()
    return {
        "campaigns": dict(rows),
        "applications": connection.execute(text("SELECT status FROM campaign_applications")).scalars().all(),
        "verified": connection.execute(text("SELECT views FROM view_snapshots WHERE status = 'verified'"))
        .scalars().all(),
        "pending_changes": connection.execute(text(
            "SELECT count(*) FROM campaign_change_requests WHERE status = 'pending'")).scalar(),
        "escrow": connection.execute(text(
            "SELECT count(*) FROM ledger_accounts WHERE purpose = 'campaign_escrow' AND balance_cents > 0")).scalar(),
    }


def _check_world(world: dict) -> None:
    assert world["campaigns"] == EXPECTED_STATES
    assert sorted(world["applications"]) == ["applied", "approved", "approved"]
    assert world["verified"] == [DEMO_POST_VIEWS]
    assert world["pending_changes"] == 1
    assert world["escrow"] == sum(spec.state != "draft" for spec in DEMO_CAMPAIGNS)  # funded offline


def test_seed_twice_on_a_fresh_sqlite_file(tmp_path):
    url = f"sqlite:///{tmp_path / 'demo.db'}"
    _flask(url, "db", "upgrade")
    first = _flask(url, "seed")
    assert "5 new account(s)" in first and "verified views" in first
    for title in EXPECTED_STATES:
        assert f"campaign “{title}”" in first
    engine = create_engine(url)
    with engine.connect() as connection:
        before = _world(connection)
    second = _flask(url, "seed")
    assert "0 new account(s), 0 new demo item(s)" in second and "+ " not in second
    with engine.connect() as connection:
        after = _world(connection)
    engine.dispose()
    _check_world(before)
    assert after == before


def test_seed_twice_on_postgresql_and_the_feed_shows_the_demo(app, db, client):
    runner = app.test_cli_runner()
    first = runner.invoke(args=["seed"])
    assert first.exit_code == 0, first.output
    assert "13 new demo item(s)" in first.output
    with db.engine.connect() as connection:
        before = _world(connection)
    second = runner.invoke(args=["seed"])
    assert second.exit_code == 0, second.output
    assert "0 new demo item(s)" in second.output
    with db.engine.connect() as connection:
        assert _world(connection) == before
    _check_world(before)

    feed = client.get("/campaigns").get_data(as_text=True)
    for title in EXPECTED_STATES:
        assert (title in feed) == (title in PUBLISHED), title
