"""Payout runs: who is eligible, what moves in the ledger, and concurrent runs making one payout."""

from __future__ import annotations

import threading
from datetime import UTC, datetime

import pytest
from sqlalchemy import func, select

from app.db import utcnow
from app.ledger.models import LedgerTransaction
from app.ledger.service import check_integrity
from app.payouts import service
from app.payouts.jobs import run_scheduled_payouts
from app.payouts.models import Payout, PayoutEvent
from app.payouts.run import run_payouts
from tests.factories import fund_clipper, make_user, manual_clipper
from tests.payouts.conftest import balances


def _payouts(db) -> list[Payout]:
    db.session.expire_all()
    return list(db.session.scalars(select(Payout).order_by(Payout.id)))


def test_run_pays_the_whole_available_balance_into_flight(db):
    clipper = manual_clipper(2_345)

    run = run_payouts()

    [payout] = _payouts(db)
    assert (payout.user_id, payout.amount_cents, payout.currency) == (clipper.id, 2_345, "USD")
    assert (payout.method, payout.status, payout.run_id) == ("manual", "pending", run.id)
    assert (run.payouts_created, run.total_cents) == (1, 2_345)
    assert balances(clipper.id) == {"available": 0, "in_flight": 2_345, "paid": 0}
    hold = db.session.scalar(select(LedgerTransaction)
                             .where(LedgerTransaction.idempotency_key == f"payout-{payout.id}-hold"))
    assert hold.kind == "payout_hold" and (hold.ref_type, hold.ref_id) == ("payout", payout.id)
    assert db.session.scalar(select(PayoutEvent.action).where(PayoutEvent.payout_id == payout.id)) == "payout_pending"
    assert check_integrity() == []


def test_only_eligible_clippers_are_paid(db, app, monkeypatch):
    monkeypatch.setitem(app.config, "PAYOUT_MINIMUM_CENTS", 1_000)
    eligible = manual_clipper(1_000)
    manual_clipper(999)  # below the minimum
    held = manual_clipper(5_000)
    service.place_hold(held.id, "Views look bought", by=None)
    suspended = manual_clipper(5_000)
    from app.accounts.models import User

    user = db.session.get(User, suspended.id)
    user.suspended_at = utcnow()
    db.session.commit()
    unverified = make_user("clipper", verified=False)
    service.save_manual_method(unverified.id, "paypal", {"paypal_email": "u@paypal.test"})
    fund_clipper(unverified.id, 5_000)
    no_method = make_user("clipper")
    fund_clipper(no_method.id, 5_000)

    run_payouts()

    assert [(p.user_id, p.amount_cents) for p in _payouts(db)] == [(eligible.id, 1_000)]
    assert balances(held.id)["available"] == 5_000


def test_second_run_waits_for_the_open_payout_and_a_released_hold_lets_money_through(db):
    clipper = manual_clipper(3_000)
    run_payouts()
    fund_clipper(clipper.id, 4_000, key="more-earnings")

    assert run_payouts().payouts_created == 0, "one open payout per clipper"
    [payout] = _payouts(db)
    service.mark_paid(payout.id, "PP-1", actor_id=make_user("support").id)
    hold = service.place_hold(clipper.id, "Checking", by=None)
    assert run_payouts().payouts_created == 0
    service.release_hold(hold.id, by=make_user("admin").id)

    assert run_payouts().payouts_created == 1
    assert [p.amount_cents for p in _payouts(db)] == [3_000, 4_000]
    assert balances(clipper.id) == {"available": 0, "in_flight": 4_000, "paid": 3_000}


def test_runs_in_chunks_give_each_clipper_one_payout(db):
    clippers = [manual_clipper(1_000 + n) for n in range(7)]

    run = run_payouts(chunk_size=3)

    assert run.payouts_created == 7 and run.total_cents == sum(1_000 + n for n in range(7))
    assert sorted(p.user_id for p in _payouts(db)) == sorted(c.id for c in clippers)
    assert check_integrity() == []


def test_100_concurrent_runs_for_one_clipper_make_one_payout(app, db):
    clipper = manual_clipper(7_700)
    barrier = threading.Barrier(100)
    errors: list[BaseException] = []

    def one_run():
        with app.app_context():
            try:
                barrier.wait(timeout=30)
                run_payouts()
            except BaseException as error:  # noqa: BLE001 - collected and asserted below
                errors.append(error)
            finally:
                from app.extensions import db as database

                database.session.remove()

    threads = [threading.Thread(target=one_run) for _ in range(100)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)

    assert errors == []
    [payout] = _payouts(db)
    assert payout.amount_cents == 7_700
    assert balances(clipper.id) == {"available": 0, "in_flight": 7_700, "paid": 0}
    assert db.session.scalar(select(func.count()).select_from(LedgerTransaction)
                             .where(LedgerTransaction.kind == "payout_hold")) == 1
    assert check_integrity() == []


@pytest.mark.parametrize("when, runs", [(datetime(2026, 11, 23, 9, 30, tzinfo=UTC), True),  # Monday 09:30
                                        (datetime(2026, 11, 23, 10, 0, tzinfo=UTC), False),
                                        (datetime(2026, 11, 24, 9, 0, tzinfo=UTC), False)])
def test_scheduled_run_happens_once_in_its_weekly_slot(db, when, runs):
    manual_clipper(2_000)

    first = run_scheduled_payouts(now=when)
    second = run_scheduled_payouts(now=when)

    assert first == (1 if runs else None)
    assert second is None
    assert len(_payouts(db)) == (1 if runs else 0)


def test_a_failed_payout_tells_the_clipper_by_email(app, db, mailbox, outside_services):
    from tests.outside import run_worker

    clipper = manual_clipper(1_900)
    run_payouts()
    [payout] = _payouts(db)
    service.mark_failed(payout.id, "PayPal account closed", actor_id=make_user("support").id)
    assert mailbox.to(clipper.email) == [], "sent by the worker, after commit"

    run_worker("default", env=outside_services)

    [message] = mailbox.wait_for(clipper.email)
    body = message.get_payload(decode=True).decode()
    assert message["Subject"] == "Your ContentFlow payout did not go through"
    assert "$19.00" in body and "PayPal account closed" in body
    assert balances(clipper.id)["available"] == 1_900


def test_bad_requests_change_nothing(db):
    from app.errors import ConflictError, NotFoundError, ValidationError

    manual_clipper(1_500)
    run_payouts()
    [payout] = _payouts(db)
    support_id = make_user("support").id

    with pytest.raises(ValidationError):
        service.mark_paid(payout.id, "   ", actor_id=support_id)
    with pytest.raises(ValidationError):
        service.mark_paid(payout.id, "x" * 121, actor_id=support_id)
    with pytest.raises(NotFoundError):
        service.mark_paid(payout.id + 1000, "REF", actor_id=support_id)
    db.session.rollback()
    service.mark_paid(payout.id, "REF-1", actor_id=support_id)
    with pytest.raises(ConflictError):
        service.mark_failed(payout.id, "too late", actor_id=support_id)
    db.session.rollback()

    [payout] = _payouts(db)
    assert (payout.status, payout.reference) == ("paid", "REF-1")
    assert balances(payout.user_id) == {"available": 0, "in_flight": 0, "paid": 1_500}
    assert check_integrity() == []
