"""Sign-up -> code -> verified, for both self-service roles, through the real RQ worker,
real Redis, a real SMTP server and the twilio SDK against a local fake Twilio."""

from __future__ import annotations

import re

from sqlalchemy import select

from app.accounts.models import OneTimeCode, User
from tests.conftest import csrf_token_from
from tests.factories import HOMES, PASSWORD
from tests.outside import run_worker

CLIPPER = {
    "display_name": "Casey Clips", "handle": "@casey.clips", "country": "GB", "email": "Casey@Example.COM",
    "phone": "07911 123456", "channel": "email", "password": PASSWORD,
}
BRAND = {"company_name": "Bright Co", "display_name": "Bree", "email": "bree@bright.example", "password": PASSWORD}


def signup(client, role: str, **fields):
    page = client.get(f"/signup/{role}")
    assert page.status_code == 200
    data = {**(CLIPPER if role == "clipper" else BRAND), **fields}
    return client.post(f"/signup/{role}", data={"csrf_token": csrf_token_from(page.get_data(as_text=True)), **data})


def verify(client, code: str):
    page = client.get("/verify")
    return client.post("/verify", data={"csrf_token": csrf_token_from(page.get_data(as_text=True)), "code": code})


def the_user(app, email: str) -> User:
    from app.extensions import db

    with app.app_context():
        user = db.session.scalar(select(User).where(User.email == email))
        db.session.expunge_all()
        return user


def test_clipper_signs_up_gets_the_code_by_email_through_the_worker_and_is_verified(
        app, client, mailbox, outside_services):
    response = signup(client, "clipper")
    assert response.status_code == 303 and response.headers["Location"] == "/verify"
    user = the_user(app, "casey@example.com")
    assert user is not None and user.verified_at is None
    assert user.handle == "casey.clips" and user.country == "GB" and user.phone == "+447911123456"
    # Unverified: every other page sends the user back to the code page.
    assert client.get(HOMES["clipper"]).headers["Location"] == "/verify"
    assert mailbox.to("casey@example.com") == []  # not sent before the worker runs

    run_worker("otp", env=outside_services)
    code = mailbox.code_for("casey@example.com")
    assert mailbox.to("casey@example.com")[0]["Subject"] == "Your ContentFlow sign-up code"
    status = client.get("/verify").get_data(as_text=True)
    assert 'data-delivery="sent"' in status and "c•••@example.com" in status

    response = verify(client, code)
    assert response.status_code == 303 and response.headers["Location"] == HOMES["clipper"]
    assert the_user(app, "casey@example.com").verified_at is not None
    assert client.get(HOMES["clipper"]).status_code == 200


def test_clipper_can_take_the_code_by_sms_through_the_twilio_sdk(app, client, sms_gateway, outside_services):
    assert signup(client, "clipper", channel="sms").status_code == 303
    run_worker("otp", env=outside_services)
    [message] = sms_gateway.to("+447911123456")
    assert message["from"] == sms_gateway.FROM
    assert verify(client, sms_gateway.code_for("+447911123456")).headers["Location"] == HOMES["clipper"]


def test_brand_signs_up_and_is_verified_by_email(app, client, mailbox, outside_services):
    response = signup(client, "brand")
    assert response.headers["Location"] == "/verify"
    run_worker("otp", env=outside_services)
    code = mailbox.code_for("bree@bright.example")
    assert verify(client, code).headers["Location"] == HOMES["brand"]
    user = the_user(app, "bree@bright.example")
    assert user.role == "brand" and user.company_name == "Bright Co" and user.verified_at


def test_a_failed_sms_is_retried_then_shown_with_the_email_way_out(app, client, sms_gateway, mailbox,
                                                                      outside_services, redis_client):
    from app.extensions import db

    sms_gateway.fail_next(503, 503, 503, 503)  # more failures than retries
    assert signup(client, "clipper", channel="sms").status_code == 303
    # Retries are scheduled by RQ; run them now instead of waiting for their intervals.
    for _ in range(4):
        run_worker("otp", env=outside_services)
        _release_scheduled(redis_client)
    with app.app_context():
        row = db.session.scalar(select(OneTimeCode))
        assert row.delivery_status == "failed" and row.delivery_attempts == 4
        assert "503" in row.delivery_error
    page = client.get("/verify").get_data(as_text=True)
    assert 'data-delivery="failed"' in page and "try email instead" in page
    # The way out works: a code by email.
    token = csrf_token_from(page)
    response = client.post("/verify/resend", data={"csrf_token": token, "channel": "email"})
    assert response.status_code == 200
    run_worker("otp", env=outside_services)
    assert verify(client, mailbox.code_for("casey@example.com")).headers["Location"] == HOMES["clipper"]


def _release_scheduled(redis_client):
    """Move RQ's scheduled retries to the queue now (time travel instead of sleeping)."""
    from rq import Queue
    from rq.registry import ScheduledJobRegistry

    queue = Queue("otp", connection=redis_client)
    registry = ScheduledJobRegistry(queue=queue)
    for job_id in registry.get_job_ids():
        registry.remove(job_id)
        queue.enqueue_job(queue.fetch_job(job_id))


def test_the_code_page_polls_while_the_code_is_on_its_way(app, client):
    signup(client, "brand")
    html = client.get("/verify").get_data(as_text=True)
    assert 'data-delivery="queued"' in html
    assert re.search(r'hx-get="/verify/status" hx-trigger="every 2s"', html)


def test_the_code_page_says_when_the_code_is_dead(app, client):
    from datetime import timedelta

    from app.extensions import db

    signup(client, "brand")
    with app.app_context():
        row = db.session.scalar(select(OneTimeCode))
        row.expires_at = row.created_at - timedelta(seconds=1)
        db.session.commit()
    html = client.get("/verify").get_data(as_text=True)
    assert 'data-delivery="dead"' in html and "every 2s" not in html
