"""Periodic jobs are registered in one place and handed to RQ's cron."""

from rq.cron import create_cron

from app.core.jobs import HEARTBEAT_KEY, record_cron_heartbeat
from app.jobs import PERIODIC_JOBS, import_dotted, register_periodic_jobs


def test_every_periodic_job_imports_and_registers(app, redis_client):
    with app.app_context():
        assert register_periodic_jobs() == len(PERIODIC_JOBS) > 0
        scheduler = create_cron(redis_client)
    registered = {f"{job.func.__module__}.{job.func.__name__}" for job in scheduler.get_jobs()}
    assert registered == {spec.func for spec in PERIODIC_JOBS}
    for spec in PERIODIC_JOBS:
        assert callable(import_dotted(spec.func))
        assert (spec.interval is None) != (spec.cron is None), f"{spec.func}: give interval or cron"


def test_cron_heartbeat_is_recorded(app, redis_client):
    with app.app_context():
        stamp = record_cron_heartbeat()
    assert redis_client.get(HEARTBEAT_KEY).decode() == stamp
