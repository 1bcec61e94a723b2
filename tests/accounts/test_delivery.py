"""The OTP delivery job: permanent failures are final at once, a replaced code is not sent."""

from __future__ import annotations

from sqlalchemy import select

from app.accounts import otp
from app.accounts.jobs import deliver_code
from app.accounts.models import OneTimeCode
from app.security import seal
from tests.factories import make_user


def _row(db, destination: str, channel: str = "email") -> OneTimeCode:
    user = make_user("brand", verified=False)
    row = otp.issue_code(user.id, "signup", channel, destination)
    db.session.commit()
    return row


def test_an_address_the_mail_server_refuses_fails_permanently_without_retrying(db, mailbox):
    row = _row(db, "bounce@example.com")  # the SMTP server answers 550 No such user
    assert deliver_code(row.id, seal("123456")) == "failed"
    db.session.expire_all()
    stored = db.session.get(OneTimeCode, row.id)
    assert stored.delivery_status == "failed" and "cannot deliver" in stored.delivery_error
    assert mailbox.messages == []


def test_a_rejected_phone_number_fails_permanently(db, sms_gateway):
    row = _row(db, "+15550000000", channel="sms")  # the fake refuses it as Twilio would (21211)
    sms_gateway.fail_next(400)
    assert deliver_code(row.id, seal("123456")) == "failed"
    db.session.expire_all()
    assert db.session.get(OneTimeCode, row.id).delivery_status == "failed"


def test_a_superseded_code_is_never_sent(db, mailbox):
    row = _row(db, "first@example.com")
    otp.issue_code(row.user_id, "signup", "email", "first@example.com")
    db.session.commit()
    assert deliver_code(row.id, seal("123456")) == "skipped"
    assert mailbox.messages == []


def test_a_sent_code_is_not_sent_twice(db, mailbox):
    row = _row(db, "twice@example.com")
    assert deliver_code(row.id, seal("654321")) == "sent"
    assert deliver_code(row.id, seal("654321")) == "skipped"
    assert len(mailbox.to("twice@example.com")) == 1
    assert db.session.scalar(select(OneTimeCode.delivery_attempts)) == 1
