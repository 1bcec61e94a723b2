"""One-time codes: guessing, expiry (time travel), single use, binding to user and purpose,
and what a database dump reveals."""

from __future__ import annotations

import os
import random
import re
import subprocess
from datetime import timedelta

import pytest
from sqlalchemy import select

from app.accounts import otp
from app.accounts.models import OneTimeCode
from tests.factories import PASSWORD, make_user


@pytest.fixture
def issued(db):
    """A user with one live sign-up code; returns (user_id, code)."""
    user = make_user("clipper", verified=False)
    row = otp.issue_code(user.id, "signup", "email", user.email)
    db.session.commit()
    return user.id, plain_code(row.id)


def plain_code(code_id: int) -> str:
    """The code as the user gets it: what the queued delivery job would decrypt and send."""
    from rq.job import Job

    from app.jobs import redis_connection
    from app.security import unseal

    job = Job.fetch(f"otp-{code_id}", connection=redis_connection())
    assert job.args[0] == code_id
    return unseal(job.args[1])


def test_codes_are_six_digits_from_the_whole_range():
    codes = {otp.new_code() for _ in range(2000)}
    assert all(re.fullmatch(r"\d{6}", code) for code in codes)
    assert len(codes) > 1990  # no small pool
    assert min(codes) < "100000" and max(codes) > "900000"  # leading zeros kept, whole range used


def test_the_right_code_verifies_once(db, issued):
    user_id, code = issued
    row = otp.check_code(user_id, "signup", code)
    db.session.commit()
    assert row.used_at is not None
    with pytest.raises(otp.CodeError, match="no active code"):
        otp.check_code(user_id, "signup", code)


def test_a_thousand_random_guesses_never_succeed_and_five_wrong_tries_kill_the_code(db, issued):
    user_id, code = issued
    rng = random.Random(1234)
    successes, messages = 0, []
    for _ in range(1000):
        guess = f"{rng.randrange(10**6):06d}"
        try:
            otp.check_code(user_id, "signup", guess)
            successes += 1
            db.session.commit()
        except otp.CodeError as exc:
            messages.append(exc.message)
    assert successes == 0
    row = db.session.scalar(select(OneTimeCode))
    assert row.attempts == otp.MAX_ATTEMPTS  # counting stopped at the limit
    assert messages[0] == "That code is not right. 4 tries left."
    assert "no longer works" in messages[4] and "no longer works" in messages[-1]
    # The real code is dead too.
    with pytest.raises(otp.CodeError, match="no longer works"):
        otp.check_code(user_id, "signup", code)


def test_the_fifth_wrong_try_is_the_last(db, issued):
    user_id, code = issued
    wrong = "000000" if code != "000000" else "111111"
    for _ in range(4):
        with pytest.raises(otp.CodeError, match="tr(y|ies) left"):
            otp.check_code(user_id, "signup", wrong)
    # After 4 wrong tries the right code still works ...
    otp.check_code(user_id, "signup", code)


def test_code_expires_after_ten_minutes(db, issued):
    user_id, code = issued
    row = db.session.scalar(select(OneTimeCode))
    assert row.expires_at - row.created_at == timedelta(minutes=10)
    with pytest.raises(otp.CodeError, match="expired"):
        otp.check_code(user_id, "signup", code, now=row.created_at + timedelta(minutes=10, seconds=1))
    # The expiry check did not consume anything: at 9:59 it still works.
    assert otp.check_code(user_id, "signup", code, now=row.created_at + timedelta(minutes=9, seconds=59))


def test_a_code_is_bound_to_its_user_and_purpose(db, issued):
    user_id, code = issued
    other = make_user("brand", verified=False)
    otp.issue_code(other.id, "signup", "email", other.email)
    otp.issue_code(user_id, "password_reset", "email", "x@example.com")
    db.session.commit()
    with pytest.raises(otp.CodeError):
        otp.check_code(other.id, "signup", code)  # another user's code
    with pytest.raises(otp.CodeError):
        otp.check_code(user_id, "password_reset", code)  # another purpose
    otp.check_code(user_id, "signup", code)  # still fine where it belongs


def test_a_new_code_supersedes_the_old_one(db, issued):
    user_id, old_code = issued
    row = otp.issue_code(user_id, "signup", "email", "x@example.com")
    db.session.commit()
    new_code = plain_code(row.id)
    if new_code != old_code:
        with pytest.raises(otp.CodeError):
            otp.check_code(user_id, "signup", old_code)
    otp.check_code(user_id, "signup", new_code)


@pytest.mark.parametrize("junk", ["", "12345", "1234567", "12 456", "١٢٣٤٥٦", "abcdef", "' OR 1=1", "9" * 10_000])
def test_junk_codes_fail_and_count_as_tries(db, issued, junk):
    user_id, _code = issued
    with pytest.raises(otp.CodeError):
        otp.check_code(user_id, "signup", junk)
    assert db.session.scalar(select(OneTimeCode.attempts)) == 1


def test_parallel_guesses_are_counted_one_by_one(app, issued):
    """20 guesses at once on PostgreSQL: the row lock serialises them, so at most 5 are judged."""
    from concurrent.futures import ThreadPoolExecutor

    from app.extensions import db

    user_id, code = issued
    wrong = [f"{n:06d}" for n in range(20) if f"{n:06d}" != code][:20]

    def guess(value):
        with app.app_context():
            try:
                otp.check_code(user_id, "signup", value)
                db.session.commit()
                return "ok"
            except otp.CodeError as exc:
                return exc.message
            finally:
                db.session.remove()

    with ThreadPoolExecutor(max_workers=10) as pool:
        results = list(pool.map(guess, wrong))
    judged = [r for r in results if "left" in r or r.startswith("Too many")]
    assert sum("left" in r for r in results) == 4  # 4 "n tries left", then only "too many"
    assert len(judged) == len(results)
    with app.app_context():
        assert db.session.scalar(select(OneTimeCode.attempts)) == otp.MAX_ATTEMPTS


def test_database_dump_holds_no_plaintext_password_or_code(app, client, mailbox, outside_services):
    from tests.accounts.test_signup_flow import signup
    from tests.outside import run_worker

    password = "Dump-Canary-Passphrase-42"
    signup(client, "clipper", password=password)
    run_worker("otp", env=outside_services)
    code = mailbox.code_for("casey@example.com")
    url = os.environ["TEST_DATABASE_URL"].replace("postgresql+psycopg://", "postgresql://")
    dump = subprocess.run([f"{os.environ['TEST_PG_BIN']}/pg_dump", "--data-only", url],
                          capture_output=True, text=True, check=True).stdout
    assert "casey@example.com" in dump  # the dump really has the account
    assert password not in dump
    assert not re.search(rf"(?<![0-9a-f]){code}(?![0-9a-f])", dump), "OTP in clear in the dump"
    hashes = re.findall(r"\$argon2[a-z]+\$[^\t\n]+", dump)
    assert hashes and all(h.startswith("$argon2id$v=19$m=19456,t=2,p=1$") for h in hashes)


def test_rehash_on_login_when_parameters_change(app, client, csrf_token):
    from argon2 import PasswordHasher, Type

    from app.extensions import db

    weak = PasswordHasher(time_cost=1, memory_cost=8 * 1024, parallelism=1, type=Type.ID).hash(PASSWORD)
    with app.app_context():
        user = make_user("brand")
        user.password_hash = weak
        db.session.commit()
        email, user_id = user.email, user.id
    response = client.post("/login", data={"csrf_token": csrf_token(), "email": email, "password": PASSWORD})
    assert response.status_code == 303
    with app.app_context():
        from app.accounts.models import User

        assert db.session.get(User, user_id).password_hash.startswith("$argon2id$v=19$m=19456,t=2,p=1$")


def test_redis_never_holds_the_code_in_clear(db, issued, redis_client):
    """The queued job carries the code sealed; its pickled arguments never show it."""
    import zlib

    _user_id, code = issued
    jobs = list(redis_client.scan_iter("rq:job:*"))
    assert jobs
    for key in jobs:
        data = zlib.decompress(redis_client.hget(key, "data"))
        assert code.encode() not in data and b"gAAAAA" in data  # a Fernet token instead
