"""Jobs reach Redis only after commit, and run exactly once on a real RQ worker."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from rq import Queue, Retry

from app.accounts.models import User
from app.jobs import enqueue_after_commit, job_id
from tests.factories import make_user
from tests.outside import run_worker

ROOT = Path(__file__).resolve().parents[2]


def _new_row() -> User:
    return User(email=f"row{os.urandom(4).hex()}@example.test", display_name="Row", role="brand", company_name="Row Co",
                password_hash="$argon2id$placeholder")


def test_job_enqueued_in_rolled_back_transaction_never_runs(db, redis_client):
    db.session.add(_new_row())
    enqueue_after_commit("tests.jobs.sample_jobs.record_marker", "marker:rollback", id=job_id("test", "rollback"))
    db.session.rollback()

    assert Queue("default", connection=redis_client).count == 0
    run_worker("default")
    assert redis_client.get("marker:rollback") is None
    assert db.session.query(User).count() == 0


def test_committed_job_runs_exactly_once_on_a_real_worker(db, redis_client):
    db.session.add(_new_row())
    enqueue_after_commit("tests.jobs.sample_jobs.record_marker", "marker:commit", id=job_id("test", "commit"))
    assert Queue("default", connection=redis_client).count == 0, "nothing may reach Redis before commit"
    db.session.commit()
    assert Queue("default", connection=redis_client).count == 1

    run_worker("default")
    run_worker("default")  # a second worker pass finds nothing left to do
    assert int(redis_client.get("marker:commit")) == 1


def test_worker_job_reads_committed_rows_in_its_own_session(db, redis_client):
    user = make_user("brand", email="owner@example.test")
    enqueue_after_commit("tests.jobs.sample_jobs.record_user_email", user.id, "marker:email",
                         id=job_id("email", user.id))
    db.session.commit()

    run_worker("default")
    assert redis_client.get("marker:email") == b"owner@example.test"


def test_same_job_id_is_enqueued_once_while_queued(db, redis_client):
    for _ in range(3):
        enqueue_after_commit("tests.jobs.sample_jobs.record_marker", "marker:dedupe", id=job_id("dedupe", 7))
        db.session.commit()
    assert Queue("default", connection=redis_client).count == 1

    run_worker("default")
    assert int(redis_client.get("marker:dedupe")) == 1

    # Once the earlier run is over, the same id is new work and runs again.
    enqueue_after_commit("tests.jobs.sample_jobs.record_marker", "marker:dedupe", id=job_id("dedupe", 7))
    db.session.commit()
    run_worker("default")
    assert int(redis_client.get("marker:dedupe")) == 2


def test_rolled_back_savepoint_drops_only_its_own_jobs(db, redis_client):
    enqueue_after_commit("tests.jobs.sample_jobs.record_marker", "marker:outer", id=job_id("outer", 1))
    savepoint = db.session.begin_nested()
    enqueue_after_commit("tests.jobs.sample_jobs.record_marker", "marker:inner", id=job_id("inner", 1))
    savepoint.rollback()
    db.session.commit()

    run_worker("default")
    assert int(redis_client.get("marker:outer")) == 1
    assert redis_client.get("marker:inner") is None


def test_jobs_go_to_their_named_queue(db, redis_client):
    enqueue_after_commit("tests.jobs.sample_jobs.record_marker", "marker:otp", id=job_id("otp", 1), queue="otp")
    db.session.commit()
    assert Queue("otp", connection=redis_client).count == 1
    assert Queue("default", connection=redis_client).count == 0

    run_worker("default")
    assert redis_client.get("marker:otp") is None, "a default-queue worker must not take otp jobs"
    run_worker("otp")
    assert int(redis_client.get("marker:otp")) == 1


def test_unknown_queue_is_refused(db):
    with pytest.raises(ValueError, match="unknown queue"):
        enqueue_after_commit("tests.jobs.sample_jobs.record_marker", "x", id="x", queue="nope")


def test_failed_job_is_retried_by_the_worker(db, redis_client):
    enqueue_after_commit("tests.jobs.sample_jobs.fail_once", "marker:retry", id=job_id("retry", 1), retry=Retry(max=2))
    db.session.commit()
    run_worker("default")
    assert int(redis_client.get("marker:retry")) == 2


def test_inline_mode_runs_after_commit_and_never_after_rollback(app, db, redis_client, monkeypatch):
    monkeypatch.setitem(app.config, "JOBS_INLINE", True)
    enqueue_after_commit("tests.jobs.sample_jobs.record_marker", "marker:inline-rb", id=job_id("inline", 1))
    db.session.rollback()
    assert redis_client.get("marker:inline-rb") is None

    enqueue_after_commit("tests.jobs.sample_jobs.record_marker", "marker:inline", id=job_id("inline", 2))
    assert redis_client.get("marker:inline") is None, "inline jobs also wait for the commit"
    db.session.commit()
    assert int(redis_client.get("marker:inline")) == 1
    assert Queue("default", connection=redis_client).count == 0


def test_worker_refuses_unknown_queue_names():
    result = subprocess.run(
        [sys.executable, "worker.py", "--burst", "nope"], cwd=ROOT, capture_output=True, text=True,
        env={**os.environ, "REDIS_URL": os.environ["TEST_REDIS_URL"], "DATABASE_URL": os.environ["TEST_DATABASE_URL"]},
        timeout=60,
    )
    assert result.returncode == 2
    assert "unknown queue" in result.stderr
