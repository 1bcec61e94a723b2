"""Local stand-ins for the outside services the accounts domain talks to.

- ``Mailbox``: a real SMTP server (aiosmtpd) on 127.0.0.1; Flask-Mail delivers to it.
- ``FakeTwilio``: an HTTP server answering Twilio's Messages API the way Twilio does
  (basic auth, form body, 201 JSON); the real twilio SDK talks to it. It can be told to
  fail the next requests with a status code.
- ``run_worker``: one burst of the real RQ worker process with this environment.
"""

from __future__ import annotations

import email
import json
import os
import re
import subprocess
import sys
import threading
import time
import uuid
from base64 import b64decode
from pathlib import Path

from aiosmtpd.controller import Controller
from werkzeug.serving import make_server
from werkzeug.wrappers import Request, Response

ROOT = Path(__file__).resolve().parents[1]
CODE = re.compile(r"\b(\d{6})\b")


def free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class Mailbox:
    def __init__(self):
        self.messages: list[email.message.Message] = []
        self._lock = threading.Lock()
        self.controller = Controller(self, hostname="127.0.0.1", port=free_port())

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):  # noqa: N802
        # Like a real server, refuse mailboxes that do not exist (tests use "bounce..." for that).
        if address.startswith("bounce"):
            return "550 5.1.1 No such user"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):  # noqa: N802 (aiosmtpd's hook name)
        message = email.message_from_bytes(envelope.content)
        message["X-Envelope-To"] = ", ".join(envelope.rcpt_tos)
        with self._lock:
            self.messages.append(message)
        return "250 Message accepted"

    @property
    def port(self) -> int:
        return self.controller.port

    def start(self):
        self.controller.start()
        return self

    def stop(self):
        self.controller.stop()

    def clear(self):
        with self._lock:
            self.messages.clear()

    def to(self, address: str) -> list[email.message.Message]:
        with self._lock:
            return [m for m in self.messages if address in m["X-Envelope-To"]]

    def wait_for(self, address: str, count: int = 1, timeout: float = 15.0) -> list[email.message.Message]:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            found = self.to(address)
            if len(found) >= count:
                return found
            time.sleep(0.05)
        raise AssertionError(f"no email for {address} within {timeout}s (have {len(self.to(address))})")

    def code_for(self, address: str, count: int = 1) -> str:
        body = self.wait_for(address, count)[-1].get_payload(decode=True).decode()
        return CODE.search(body).group(1)


class FakeTwilio:
    ACCOUNT_SID = "AC" + "f" * 32
    AUTH_TOKEN = "fake-twilio-token"
    FROM = "+15005550006"

    def __init__(self):
        self.messages: list[dict] = []
        self.failures: list[int] = []
        self.requests = 0
        self._lock = threading.Lock()
        self.server = make_server("127.0.0.1", 0, self.wsgi, threaded=True)
        self.url = f"http://127.0.0.1:{self.server.server_port}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def wsgi(self, environ, start_response):
        request = Request(environ)
        response = self.handle(request)
        return response(environ, start_response)

    def handle(self, request: Request) -> Response:
        with self._lock:
            self.requests += 1
            failure = self.failures.pop(0) if self.failures else None
        path = f"/2010-04-01/Accounts/{self.ACCOUNT_SID}/Messages.json"
        if request.method != "POST" or request.path != path:
            return self._error(404, 20404, "The requested resource was not found")
        auth = request.headers.get("Authorization", "")
        expected = f"{self.ACCOUNT_SID}:{self.AUTH_TOKEN}"
        if not auth.startswith("Basic ") or b64decode(auth[6:]).decode() != expected:
            return self._error(401, 20003, "Authenticate")
        if failure:
            return self._error(failure, 30001 if failure >= 500 else 21211, "Injected failure")
        to, body = request.form.get("To", ""), request.form.get("Body", "")
        if not re.fullmatch(r"\+[1-9]\d{6,14}", to):
            return self._error(400, 21211, f"The 'To' number {to} is not a valid phone number.")
        sid = "SM" + uuid.uuid4().hex
        with self._lock:
            self.messages.append({"sid": sid, "to": to, "from": request.form.get("From"), "body": body})
        payload = {"sid": sid, "account_sid": self.ACCOUNT_SID, "to": to, "from": request.form.get("From"),
                   "body": body, "status": "queued", "num_segments": "1", "direction": "outbound-api",
                   "uri": f"{path[:-5]}/{sid}.json", "error_code": None, "error_message": None}
        return Response(json.dumps(payload), status=201, content_type="application/json")

    @staticmethod
    def _error(status: int, code: int, message: str) -> Response:
        body = {"code": code, "message": message, "more_info": f"https://www.twilio.com/docs/errors/{code}",
                "status": status}
        return Response(json.dumps(body), status=status, content_type="application/json")

    def fail_next(self, *statuses: int) -> None:
        with self._lock:
            self.failures.extend(statuses)

    def clear(self) -> None:
        with self._lock:
            self.messages.clear()
            self.failures.clear()
            self.requests = 0

    def to(self, number: str) -> list[dict]:
        with self._lock:
            return [m for m in self.messages if m["to"] == number]

    def code_for(self, number: str) -> str:
        return CODE.search(self.to(number)[-1]["body"]).group(1)

    def start(self):
        self.thread.start()
        return self

    def stop(self):
        self.server.shutdown()


def outside_config(mailbox: Mailbox, twilio: FakeTwilio) -> dict:
    """App config (and, upper-cased, environment) pointing mail and SMS at the fakes."""
    return {
        "MAIL_SERVER": "127.0.0.1", "MAIL_PORT": mailbox.port, "MAIL_TO_LOG": False,
        "MAIL_SUPPRESS_SEND": False,  # Flask-Mail would not send under TESTING otherwise
        "TWILIO_ACCOUNT_SID": FakeTwilio.ACCOUNT_SID, "TWILIO_AUTH_TOKEN": FakeTwilio.AUTH_TOKEN,
        "TWILIO_FROM_NUMBER": FakeTwilio.FROM, "TWILIO_API_BASE": twilio.url,
    }


def worker_env(extra: dict | None = None) -> dict:
    env = {
        **os.environ,
        "DATABASE_URL": os.environ["TEST_DATABASE_URL"],
        "REDIS_URL": os.environ["TEST_REDIS_URL"],
        "SECRET_KEY": "test-secret-key-not-for-production",
        "PYTHONPATH": str(ROOT),
    }
    for key, value in (extra or {}).items():
        if key not in ("MAIL_TO_LOG", "MAIL_SUPPRESS_SEND"):
            env[key] = str(value)
    return env


def run_worker(*queues: str, env: dict | None = None) -> subprocess.CompletedProcess:
    """One burst of the real worker (worker.py) against the test PostgreSQL and Redis."""
    result = subprocess.run(
        [sys.executable, "worker.py", "--burst", *(queues or ("default",))],
        cwd=ROOT, env=worker_env(env), capture_output=True, text=True, timeout=120,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    return result
