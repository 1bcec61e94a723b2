"""Two admins never work the same row: conditional claims with a lease, SKIP LOCKED for "next"."""

from __future__ import annotations

import threading
from datetime import timedelta

import pytest

from app.db import utcnow
from app.errors import ConflictError
from app.tracking import claims, snapshots
from tests.factories import approved_post, new_user, pending_count


def run_together(app, targets) -> list:
    barrier = threading.Barrier(len(targets), timeout=30)  # never hangs if a thread dies first
    results: list = [None] * len(targets)

    def run(i, fn):
        with app.app_context():
            barrier.wait()
            results[i] = fn()

    threads = [threading.Thread(target=run, args=(i, fn), daemon=True) for i, fn in enumerate(targets)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert not any(t.is_alive() for t in threads), "a thread hung (lock wait?)"
    return results


def test_concurrent_take_next_gives_every_admin_a_different_row(app, world):
    posts = [approved_post(world, i % 2, n=i) for i in range(6)]
    for sid in posts:
        pending_count(sid, 100, app=app)
    admins = [new_user(app, "admin") for _ in range(6)]
    results = run_together(app, [lambda a=a: claims.claim_next(a.id) for a in admins])
    assert sorted(results) == sorted(posts)
    # Everything is taken now: a seventh admin gets nothing rather than someone else's row.
    late = new_user(app, "admin")
    with app.app_context():
        assert claims.claim_next(late.id) is None


def test_two_admins_racing_for_one_row_one_wins(app, world):
    sid = approved_post(world)
    pending_count(sid, 100, app=app)
    for _ in range(5):
        first, second = new_user(app, "admin"), new_user(app, "admin")
        results = run_together(app, [lambda a=first: claims.claim(sid, a.id), lambda b=second: claims.claim(sid, b.id)])
        assert sorted(results) == [False, True]
        winner = first if results[0] else second
        with app.app_context():
            claims.release(sid, winner.id)


def test_a_lease_expires_and_frees_the_row(app, world):
    sid = approved_post(world)
    snapshot_id = pending_count(sid, 100, app=app)
    ada, bob = new_user(app, "admin"), new_user(app, "admin")
    start = utcnow()
    with app.app_context():
        assert claims.claim(sid, ada.id, now=start)
        assert not claims.claim(sid, bob.id, now=start + claims.LEASE - timedelta(seconds=1))
        with pytest.raises(ConflictError, match="Another admin"):
            snapshots.verify(snapshot_id, bob.id, now=start + timedelta(minutes=1))
        assert claims.claim_next(bob.id, now=start + timedelta(minutes=1)) is None
        assert claims.claim(sid, bob.id, now=start + claims.LEASE + timedelta(seconds=1))
        with pytest.raises(ConflictError):
            snapshots.verify(snapshot_id, ada.id, now=start + claims.LEASE + timedelta(seconds=2))
        assert snapshots.verify(snapshot_id, bob.id, now=start + claims.LEASE + timedelta(seconds=2)).status == \
            "verified"


def test_taking_a_new_row_releases_the_old_one(app, world):
    first, second = approved_post(world, n=1), approved_post(world, n=2)
    for sid in (first, second):
        pending_count(sid, 10, app=app)
    ada, bob = new_user(app, "admin"), new_user(app, "admin")
    with app.app_context():
        assert claims.claim(first, ada.id)
        assert claims.claim(second, ada.id)
        assert claims.claim(first, bob.id)  # ada let go of it
