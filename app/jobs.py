"""Background jobs: named RQ queues, enqueue-after-commit, retries, cron.

Invariants:
- a job enqueued inside a database transaction reaches Redis only after that
  transaction commits; if it rolls back (or the savepoint it was enqueued in
  does), the job is dropped and never runs;
- job ids are deterministic (``job_id("otp", otp_id)`` -> ``otp-17``): enqueuing the same work
  twice while it is queued or running is a no-op, so jobs are enqueued at most
  once per piece of work and are written to be safe to run twice anyway;
- jobs take IDs and call service functions; they run inside an app context with
  a fresh database session (worker or inline);
- a job is named by its dotted path (``"app.payouts.jobs.settle_payouts"``), so a
  service enqueues its own ``jobs.py`` without importing it (no import circle);
- with ``REDIS_URL`` unset (embedded mode) jobs run inline right after commit;
- periodic jobs are listed in ``PERIODIC_JOBS`` below and nowhere else.
"""

from __future__ import annotations

import importlib
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import structlog
from flask import Flask, current_app
from redis import Redis
from rq import Queue, Retry, Worker
from rq.exceptions import DuplicateJobError
from rq.job import Job, JobStatus
from sqlalchemy import event
from sqlalchemy.orm import Session

log = structlog.get_logger(__name__)

QUEUES = ("otp", "views", "payouts", "default")

# Retry presets. Intervals need a worker started with the scheduler (worker.py does).
RETRY_FAST = Retry(max=3, interval=[5, 20, 60])  # OTP delivery: the user is waiting
RETRY_NETWORK = Retry(max=5, interval=[30, 120, 600, 1800, 3600])  # outside APIs

_PENDING = "contentflow_pending_jobs"
_FINAL = {JobStatus.FINISHED, JobStatus.FAILED, JobStatus.CANCELED, JobStatus.STOPPED}


@dataclass(frozen=True)
class Periodic:
    """A job the cron scheduler enqueues every ``interval`` seconds or on ``cron``."""

    func: str  # dotted path, imported only by the cron process
    queue: str = "default"
    interval: int | None = None
    cron: str | None = None
    kwargs: dict = field(default_factory=dict)


# The one place periodic work is registered (`python worker.py cron` runs these).
PERIODIC_JOBS: tuple[Periodic, ...] = (
    Periodic("app.core.jobs.record_cron_heartbeat", queue="default", interval=60),
    # Hourly tick; runs payouts once in the PAYOUT_WEEKDAY / PAYOUT_HOUR_UTC slot.
    Periodic("app.payouts.jobs.run_scheduled_payouts", queue="payouts", interval=3600),
    Periodic("app.payouts.jobs.sweep_stuck_payouts", queue="payouts", interval=300),
    Periodic("app.tracking.jobs.schedule_view_checks", queue="views", interval=300),
    Periodic("app.tracking.jobs.approve_overdue_submissions", queue="default", interval=600),
    Periodic("app.social.jobs.schedule_token_refreshes", queue="default", interval=300),
    # Pending earnings past their hold window become available (hourly is precise enough for days).
    Periodic("app.earnings.jobs.release_matured_earnings", queue="payouts", interval=3600),
    # Completed campaigns past their last hold window give back the unspent escrow.
    Periodic("app.payments.jobs.refund_closed_campaigns", queue="payouts", interval=3600),
)


@dataclass(frozen=True)
class PendingJob:
    func: str  # dotted path
    args: tuple
    kwargs: dict
    queue: str
    job_id: str
    retry: Retry | None
    timeout: int | None
    savepoint: int | None


_JOB_ID = re.compile(r"^[A-Za-z0-9_-]{1,200}$")
_DOTTED = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)+$")


def job_id(*parts: Any) -> str:
    """Deterministic job id from the work's own identity: ``job_id("payout", 42)`` is
    ``"payout-42"`` (RQ allows letters, digits, ``_`` and ``-``)."""
    if not parts:
        raise ValueError("job_id needs at least one part")
    return _check_job_id("-".join(str(p) for p in parts))


def _check_job_id(value: str) -> str:
    if not _JOB_ID.match(value):
        raise ValueError(f"invalid job id {value!r}: use letters, digits, '_' and '-'")
    return value


def redis_connection(app: Flask | None = None) -> Redis | None:
    app = app or current_app
    url = app.config.get("REDIS_URL")
    if not url:
        return None
    conn = app.extensions.get("redis")
    if conn is None:
        conn = Redis.from_url(url, socket_connect_timeout=2, socket_timeout=5, health_check_interval=30)
        app.extensions["redis"] = conn
    return conn


def queue(name: str) -> Queue:
    if name not in QUEUES:
        raise ValueError(f"unknown queue {name!r}; known: {', '.join(QUEUES)}")
    conn = redis_connection()
    if conn is None:
        raise RuntimeError("REDIS_URL is not set; jobs run inline")
    return Queue(name, connection=conn)


def enqueue_after_commit(
    func: str,
    *args: Any,
    id: str,
    queue: str = "default",
    retry: Retry | None = None,
    timeout: int | None = None,
    **kwargs: Any,
) -> None:
    """Enqueue the job at dotted path ``func`` with ``(*args, **kwargs)`` once the current
    transaction commits."""
    from app.extensions import db

    # Checked now: after commit it would be too late to tell the caller.
    if queue not in QUEUES:
        raise ValueError(f"unknown queue {queue!r}")
    if not isinstance(func, str) or not _DOTTED.match(func):
        raise ValueError(f"job {func!r} must be given as a dotted path such as 'app.payouts.jobs.settle_payouts'")
    _check_job_id(id)
    session = db.session()
    nested = session.get_nested_transaction()
    session.info.setdefault(_PENDING, []).append(
        PendingJob(func, args, kwargs, queue, id, retry, timeout, _identity(nested))
    )


def _identity(obj: object | None) -> int | None:
    # enqueue_after_commit's ``id`` parameter shadows the builtin there.
    return None if obj is None else id(obj)


def _dispatch(app: Flask, pending: PendingJob) -> Job | None:
    if app.config.get("JOBS_INLINE"):
        _run_inline(app, pending)
        return None
    q = Queue(pending.queue, connection=redis_connection(app))
    options = dict(job_id=pending.job_id, retry=pending.retry, unique=True)
    if pending.timeout:
        options["job_timeout"] = pending.timeout
    try:
        return q.enqueue(pending.func, args=pending.args, kwargs=pending.kwargs, **options)
    except DuplicateJobError:
        existing = Job.fetch(pending.job_id, connection=q.connection)
        if existing.get_status(refresh=True) not in _FINAL:
            log.info("job_already_queued", job_id=pending.job_id)
            return existing
        existing.delete()  # the earlier run is over: this is new work under the same id
        return q.enqueue(pending.func, args=pending.args, kwargs=pending.kwargs, **options)


def _run_inline(app: Flask, pending: PendingJob) -> None:
    # A fresh app context gives the job its own session, like a worker would.
    with app.app_context():
        from app.extensions import db

        structlog.contextvars.bind_contextvars(job_id=pending.job_id)
        try:
            import_dotted(pending.func)(*pending.args, **pending.kwargs)
        except Exception:
            db.session.rollback()
            log.exception("inline_job_failed", job=pending.func)
        finally:
            structlog.contextvars.unbind_contextvars("job_id")
            db.session.remove()


def init_app(app: Flask) -> None:
    """Wire the session events that hold jobs until commit (once per process)."""
    if getattr(init_app, "_wired", False):
        return
    init_app._wired = True

    @event.listens_for(Session, "after_commit")
    def _after_commit(session: Session) -> None:
        pending = session.info.pop(_PENDING, None)
        if not pending:
            return
        flask_app = current_app._get_current_object()
        for job in pending:
            try:
                _dispatch(flask_app, job)
            except Exception:
                # The data is committed; the sweeper for that work re-enqueues it.
                log.exception("enqueue_failed", job_id=job.job_id)

    @event.listens_for(Session, "after_soft_rollback")
    def _after_soft_rollback(session: Session, previous_transaction) -> None:
        pending = session.info.get(_PENDING)
        if not pending:
            return
        if previous_transaction.nested:
            dropped = id(previous_transaction)
            session.info[_PENDING] = [j for j in pending if j.savepoint != dropped]
        else:
            session.info.pop(_PENDING, None)


class AppWorker(Worker):
    """An RQ worker whose work horse runs each job in a fresh app context."""

    flask_app: Flask | None = None

    def perform_job(self, job, queue, execution) -> bool:  # runs in the forked horse
        from app.extensions import db

        app = self.flask_app
        assert app is not None, "AppWorker.flask_app must be set (see worker.py)"
        with app.app_context():
            # The horse inherited the parent's pooled sockets: never reuse them here.
            db.engine.dispose(close=False)
            structlog.contextvars.bind_contextvars(job_id=job.id)
            try:
                return super().perform_job(job, queue, execution)
            finally:
                structlog.contextvars.unbind_contextvars("job_id")
                db.session.remove()


def import_dotted(path: str) -> Callable:
    module, _, name = path.rpartition(".")
    return getattr(importlib.import_module(module), name)


def register_periodic_jobs() -> int:
    """Hand ``PERIODIC_JOBS`` to RQ's built-in cron; returns how many."""
    from rq import cron

    for spec in PERIODIC_JOBS:
        cron.register(
            import_dotted(spec.func), spec.queue,
            interval=spec.interval, cron=spec.cron, kwargs=spec.kwargs or None,
        )
    return len(PERIODIC_JOBS)
