"""Token refresh: the scheduler claims due accounts once per slot, the real RQ worker refreshes
them against the local provider, refused grants expire the account (and tell the clipper),
outages are retried, and concurrent runs never spend a rotating refresh token twice."""

from __future__ import annotations

import itertools
import threading
from datetime import timedelta
from types import SimpleNamespace

import pytest
import requests
from rq import Queue
from rq.job import Job

from app.db import utcnow
from app.social.models import ConnectedAccount
from tests.factories import new_user
from tests.outside import run_worker

_numbers = itertools.count(1)


def seed_account(app, provider, platform: str, *, expires_in=timedelta(minutes=5), status="connected") -> dict:
    """A clipper whose account was connected earlier: provider-issued tokens, sealed in the row."""
    from app.extensions import db
    from app.security import seal

    user = new_user(app, "clipper")
    platform_user_id = f"{platform}-{next(_numbers)}"
    tokens = provider.issue(platform, platform_user_id)
    with app.app_context():
        row = ConnectedAccount(
            user_id=user.id, platform=platform, handle=f"h{platform_user_id}".replace("_", ""),
            platform_user_id=platform_user_id, status=status, expires_at=utcnow() + expires_in,
            access_token_sealed=seal(tokens["access_token"]),
            refresh_token_sealed=None if platform == "instagram_reels" else seal(tokens["refresh_token"]))
        db.session.add(row)
        db.session.commit()
        account = {"id": row.id, "user_id": user.id, "platform": platform, **tokens}
        db.session.remove()
    return account


def load(app, account_id: int) -> dict:
    from app.extensions import db
    from app.security import unseal

    with app.app_context():
        row = db.session.get(ConnectedAccount, account_id)
        values = {"status": row.status, "expires_at": row.expires_at,
                  "access_token": unseal(row.access_token_sealed) if row.access_token_sealed else None,
                  "refresh_token": unseal(row.refresh_token_sealed) if row.refresh_token_sealed else None}
        db.session.remove()
    return values


def in_app(app, func, *args, **kwargs):
    from app.extensions import db

    with app.app_context():
        try:
            return func(*args, **kwargs)
        finally:
            db.session.remove()


def schedule(app, now=None) -> int:
    from app.social.service import schedule_token_refreshes

    return in_app(app, schedule_token_refreshes, now)


def queued_jobs(redis_client) -> list[Job]:
    return Queue("default", connection=redis_client).get_jobs()


def test_due_tokens_of_every_platform_are_refreshed_by_the_worker(app, provider, worker_env, redis_client):
    from app.social.service import credentials_for

    due = {p: seed_account(app, provider, p) for p in ("tiktok", "youtube_shorts", "instagram_reels", "x")}
    fresh = seed_account(app, provider, "x", expires_in=timedelta(hours=2))
    assert schedule(app) == 4
    [job] = queued_jobs(redis_client)
    assert sorted(job.args[0]) == sorted(a["id"] for a in due.values())

    run_worker("default", env=worker_env)

    for platform, account in due.items():
        now = load(app, account["id"])
        assert now["status"] == "connected"
        assert now["access_token"] != account["access_token"], platform
        assert now["expires_at"] > utcnow() + timedelta(minutes=50), platform
        if platform == "instagram_reels":
            assert now["refresh_token"] is None
        else:  # rotated: the old refresh token is dead at the provider, the new one is ours
            assert account["refresh_token"] not in provider.refresh_tokens
            assert now["refresh_token"] in provider.refresh_tokens
        userinfo = requests.get(f"{provider.url}/{platform}/userinfo", timeout=5,
                                headers={"Authorization": f"Bearer {now['access_token']}"})
        assert userinfo.status_code == 200
    x_now = load(app, due["x"]["id"])
    assert in_app(app, credentials_for, due["x"]["user_id"], "x").access_token == x_now["access_token"]
    assert load(app, fresh["id"])["access_token"] == fresh["access_token"]
    assert [p["grant_type"] for *_, p in provider.calls("refresh")] == ["ig_refresh_token"]


def test_a_refused_grant_expires_the_account_and_tells_the_clipper(app, client, login_as, provider, worker_env):
    from app.notifications.service import recent
    from app.social.service import credentials_for

    account = seed_account(app, provider, "x")
    provider.revoke_refresh_tokens()
    assert schedule(app) == 1
    run_worker("default", env=worker_env)

    assert load(app, account["id"])["status"] == "expired"
    assert in_app(app, credentials_for, account["user_id"], "x") is None
    [notice] = in_app(app, recent, account["user_id"])
    assert notice.text.startswith("Your X connection expired.")
    assert schedule(app, utcnow() + timedelta(minutes=10)) == 0, "an expired account is not refreshed again"
    login_as(SimpleNamespace(session_token=_session_token(app, account["user_id"]), role="clipper"))
    assert "Reconnect X" in client.get("/me/accounts").get_data(as_text=True)


def _session_token(app, user_id: int) -> str:
    from app.accounts.models import User
    from app.extensions import db

    with app.app_context():
        token = db.session.get(User, user_id).session_token
        db.session.remove()
    return token


@pytest.mark.parametrize("fault", [503, 500])
def test_an_unreachable_provider_is_retried_by_rq(app, provider, worker_env, redis_client, fault):
    account = seed_account(app, provider, "tiktok")
    provider.fail_next(fault)
    assert schedule(app) == 1
    [job] = queued_jobs(redis_client)

    run_worker("default", env=worker_env)
    assert load(app, account["id"])["access_token"] == account["access_token"]
    queue = Queue("default", connection=redis_client)
    job = Job.fetch(job.id, connection=redis_client)
    assert job.id in queue.scheduled_job_registry.get_job_ids()
    assert job.retries_left == 4  # RETRY_NETWORK: 5 tries, one spent

    # Time passes (the scheduler would move it back); the provider is fine again.
    queue.scheduled_job_registry.remove(job)
    queue.enqueue_job(job)
    run_worker("default", env=worker_env)
    assert load(app, account["id"])["access_token"] != account["access_token"]
    assert Job.fetch(job.id, connection=redis_client).get_status() == "finished"


def test_concurrent_refreshes_of_one_account_call_the_provider_once(app, provider):
    from app.social.service import refresh_account_tokens

    account = seed_account(app, provider, "x")
    provider.fail_next(("slow", 0.4))  # hold the first refresh at the provider
    outcomes, barrier = [], threading.Barrier(2)

    def refresh():
        barrier.wait()
        outcomes.append(in_app(app, refresh_account_tokens, account["id"]))

    threads = [threading.Thread(target=refresh) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(10)
    assert sorted(outcomes) == ["not_due", "refreshed"]
    assert len(provider.calls("token")) == 1
    assert load(app, account["id"])["refresh_token"] in provider.refresh_tokens


def test_the_refresh_job_is_safe_to_run_twice(app, provider):
    from app.social.jobs import refresh_tokens

    account = seed_account(app, provider, "youtube_shorts")
    assert in_app(app, refresh_tokens, [account["id"]]) == {account["id"]: "refreshed"}
    assert in_app(app, refresh_tokens, [account["id"]]) == {account["id"]: "not_due"}
    assert len(provider.calls("token")) == 1


def test_two_schedulers_at_once_enqueue_one_job_per_slot(app, provider, redis_client):
    due = [seed_account(app, provider, "tiktok") for _ in range(3)]
    seed_account(app, provider, "tiktok", expires_in=timedelta(hours=3))
    seed_account(app, provider, "x", status="expired")
    now = utcnow()
    counts, barrier = [], threading.Barrier(2)

    def run():
        barrier.wait()
        counts.append(schedule(app, now))

    threads = [threading.Thread(target=run) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(10)
    assert sorted(counts) == [0, 3]
    [job] = queued_jobs(redis_client)
    assert sorted(job.args[0]) == sorted(a["id"] for a in due)
    assert job.id.startswith("social_refresh-")
    assert schedule(app, now) == 0

    # The next slot claims them again (nothing refreshed them); the job id differs.
    assert schedule(app, now + timedelta(minutes=5)) == 3
    assert len({j.id for j in queued_jobs(redis_client)}) == 2


def test_a_slow_provider_times_out_and_nothing_changes(app, provider, monkeypatch):
    from app.social import oauth
    from app.social.service import refresh_account_tokens

    monkeypatch.setattr(oauth, "TIMEOUT", (1, 0.3))
    account = seed_account(app, provider, "x")
    provider.fail_next(("slow", 1.0))
    with pytest.raises(oauth.ProviderUnavailableError):
        in_app(app, refresh_account_tokens, account["id"])
    after = load(app, account["id"])
    assert (after["status"], after["access_token"]) == ("connected", account["access_token"])


def test_the_refresh_scheduler_is_a_periodic_job():
    from app.jobs import PERIODIC_JOBS

    [spec] = [s for s in PERIODIC_JOBS if s.func == "app.social.jobs.schedule_token_refreshes"]
    from app.social.service import REFRESH_SLOT_SECONDS

    assert spec.interval == REFRESH_SLOT_SECONDS


def test_a_token_past_expiry_is_withheld_until_refreshed(app, provider):
    from app.social.service import credentials_for, refresh_account_tokens

    account = seed_account(app, provider, "x", expires_in=timedelta(minutes=-1))
    assert in_app(app, credentials_for, account["user_id"], "x") is None
    assert in_app(app, refresh_account_tokens, account["id"]) == "refreshed"
    fresh_token = load(app, account["id"])["access_token"]
    assert in_app(app, credentials_for, account["user_id"], "x").access_token == fresh_token
