"""A local fake of the part of the Stripe API ContentFlow uses; the real stripe SDK talks to it over HTTP.

Invariants:
- answers in Stripe's shapes: ids with Stripe's prefixes (``cs_test_``, ``pi_``,
  ``ch_``, ``re_``, ``acct_``, ``tr_``, ``evt_``), lists as ``{"object": "list",
  "data", "has_more", "url"}`` newest first, errors as ``{"error": {"type",
  "code", "message", "param"}}``; request bodies are form-encoded the way the SDK
  sends them (``metadata[campaign_id]=7``, ``line_items[0][price_data][currency]=usd``);
- ``Authorization: Bearer <api_key>`` is required (401 otherwise, key masked);
- ``Idempotency-Key`` works like Stripe's: the first request's answer is stored
  once the endpoint started executing (successes *and* definite 4xx such as
  ``balance_insufficient``; not auth or parameter-validation failures); the same
  key with the same method, path and params replays it (``Idempotent-Replayed:
  true``); with different params -> 400 ``idempotency_error``; while the first is
  still running -> 409 ``idempotency_error`` (which the SDK retries);
- faults sit in front of that layer, like a failing proxy (``fail_next``):
  ``*_after_commit`` runs the request — its result is stored under the key — and
  then loses the answer; ``*_before_commit`` loses it without running; ``429``
  refuses without running; ``timeout`` commits and answers after ``slow_seconds``;
- money moves like Stripe's: a completed checkout adds its total to the
  available balance; transfers and refunds take from it; a transfer larger than
  the balance is refused (``balance_insufficient``), as is one to an account
  whose ``transfers`` capability is not active;
- every request is recorded (``requests``); ``reset()`` empties everything.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import re
import secrets
import string
import threading
import time
from collections import defaultdict, deque
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qsl, urlsplit

from tests.fake_stripe_resources import StripeRequestError, StripeResources, stripe_error

API_KEY = "sk_test_fakeContentFlow0000000000000000"
WEBHOOK_SECRET = "whsec_fakeContentFlowSigningSecret000000"
FAULT_MODES = ("500_before_commit", "500_after_commit", "drop_before_commit", "drop_after_commit",
               "429", "timeout")


def sign_payload(payload: bytes, secret: str, timestamp: int | None = None) -> str:
    """The ``Stripe-Signature`` header Stripe would send: ``t=<ts>,v1=<HMAC-SHA256 of "<ts>.<payload>">``."""
    timestamp = int(time.time()) if timestamp is None else timestamp
    signed = f"{timestamp}.".encode() + payload
    digest = hmac.new(secret.encode(), signed, hashlib.sha256).hexdigest()
    return f"t={timestamp},v1={digest}"


def decode_form(body: str) -> dict[str, Any]:
    """Stripe-style nested form fields (``a[b][0][c]=v``) into dicts and lists."""
    root: dict[str, Any] = {}
    for key, value in parse_qsl(body, keep_blank_values=True):
        parts = re.findall(r"[^\[\]]+", key)
        node = root
        for part in parts[:-1]:
            node = node.setdefault(part, {})
        node[parts[-1]] = value
    return _lists_from_indexes(root)


def _lists_from_indexes(node: Any) -> Any:
    if not isinstance(node, dict):
        return node
    converted = {key: _lists_from_indexes(value) for key, value in node.items()}
    if converted and all(key.isdigit() for key in converted):
        return [converted[key] for key in sorted(converted, key=int)]
    return converted


@dataclass
class Recorded:
    method: str
    path: str
    route: str
    idempotency_key: str | None
    params: dict[str, Any]
    status: int | None = None  # None: the connection was dropped
    replayed: bool = False
    fault: str | None = None


@dataclass
class Fault:
    mode: str
    should_retry: bool | None = None  # sets Stripe-Should-Retry on the 429/500 answer


@dataclass
class StoredAnswer:
    fingerprint: str
    status: int | None = None  # None while the first request is still running
    body: Any = None


ROUTES: tuple[tuple[str, re.Pattern[str], str], ...] = tuple(
    (method, re.compile(pattern), label) for method, pattern, label in (
        ("POST", r"/v1/checkout/sessions", "POST /v1/checkout/sessions"),
        ("GET", r"/v1/checkout/sessions/(?P<id>[^/]+)", "GET /v1/checkout/sessions/{id}"),
        ("GET", r"/v1/payment_intents/(?P<id>[^/]+)", "GET /v1/payment_intents/{id}"),
        ("POST", r"/v1/refunds", "POST /v1/refunds"),
        ("POST", r"/v1/accounts", "POST /v1/accounts"),
        ("GET", r"/v1/accounts/(?P<id>[^/]+)", "GET /v1/accounts/{id}"),
        ("POST", r"/v1/account_links", "POST /v1/account_links"),
        ("POST", r"/v1/transfers", "POST /v1/transfers"),
        ("GET", r"/v1/transfers", "GET /v1/transfers"),
        ("GET", r"/v1/transfers/(?P<id>[^/]+)", "GET /v1/transfers/{id}"),
        ("GET", r"/v1/balance", "GET /v1/balance"),
        ("GET", r"/v1/events/(?P<id>[^/]+)", "GET /v1/events/{id}"),
    )
)


class _Dropped(Exception):
    """Close the connection without an answer."""


class FakeStripe(StripeResources):
    """State, idempotency and fault injection; the resources themselves live in ``StripeResources``."""

    def __init__(self, api_key: str = API_KEY):
        self.api_key = api_key
        self.lock = threading.RLock()
        self.url = ""
        self.slow_seconds = 1.5  # how late a "timeout" answer comes: longer than the tests' read timeout
        self.processing_seconds = 0.0  # widen race windows: how long a POST holds its key "in progress"
        self.reset()

    def reset(self) -> None:
        with self.lock:
            super().reset()
            self.requests: list[Recorded] = []
            self.faults: dict[str, deque[Fault]] = defaultdict(deque)
            self.idempotency: dict[str, StoredAnswer] = {}
            self.processing_seconds = 0.0
            # Make a race certain rather than likely: the first POST of a key holds it "in progress"
            # until another request has collided with it (409), for at most 10 s.
            self.hold_until_collision = False
            self.collided = threading.Event()

    # --- for tests ----------------------------------------------------------------------------

    def fail_next(self, route: str, mode: str, times: int = 1, *, should_retry: bool | None = None) -> None:
        """Make the next ``times`` calls of ``route`` (e.g. ``"POST /v1/transfers"``) fail as ``mode``."""
        if mode not in FAULT_MODES:
            raise ValueError(f"unknown fault mode {mode!r}; one of {FAULT_MODES}")
        if route not in {label for _, _, label in ROUTES}:
            raise ValueError(f"unknown route {route!r}")
        with self.lock:
            self.faults[route].extend(Fault(mode, should_retry) for _ in range(times))

    def calls(self, route: str | None = None) -> list[Recorded]:
        with self.lock:
            return [r for r in self.requests if route is None or r.route == route]

    def webhook(self, event: dict[str, Any], secret: str = WEBHOOK_SECRET,
                timestamp: int | None = None) -> tuple[bytes, str]:
        """(raw body, Stripe-Signature header) for delivering ``event`` to our webhook route."""
        payload = json.dumps(event, indent=2).encode()  # Stripe pretty-prints; we must verify the raw bytes
        return payload, sign_payload(payload, secret, timestamp)

    # --- HTTP ---------------------------------------------------------------------------------

    def handle(self, handler: BaseHTTPRequestHandler) -> None:
        split = urlsplit(handler.path)
        length = int(handler.headers.get("Content-Length") or 0)
        body = handler.rfile.read(length).decode() if length else ""
        params = decode_form(body if handler.command == "POST" else split.query)
        route, path_args = self._route(handler.command, split.path)
        key = handler.headers.get("Idempotency-Key") if handler.command == "POST" else None
        record = Recorded(handler.command, split.path, route, key, params)
        with self.lock:
            self.requests.append(record)
            fault = self.faults[route].popleft() if self.faults.get(route) else None
        record.fault = fault.mode if fault else None
        try:
            status, answer, headers = self._answer(handler, route, path_args, params, key, fault, record)
        except _Dropped:
            handler.close_connection = True
            return
        record.status = status
        if fault and fault.mode == "timeout":
            time.sleep(self.slow_seconds)
        _send(handler, status, answer, headers)

    def _answer(self, handler, route, path_args, params, key, fault, record) -> tuple[int, Any, dict[str, str]]:
        headers: dict[str, str] = {"Request-Id": "req_" + _random_id(14)}
        if fault and fault.should_retry is not None:
            headers["Stripe-Should-Retry"] = "true" if fault.should_retry else "false"
        if handler.headers.get("Authorization") != f"Bearer {self.api_key}":
            sent = (handler.headers.get("Authorization") or "").removeprefix("Bearer ")
            return 401, stripe_error("invalid_request_error", f"Invalid API Key provided: {_mask(sent)}"), headers
        mode = fault.mode if fault else None
        if mode == "429":
            return 429, stripe_error("invalid_request_error", "Too many requests hit the API too quickly. We "
                                     "recommend an exponential backoff of your requests.", code="rate_limit"), headers
        if mode == "500_before_commit":
            return 500, _api_error(), headers
        if mode == "drop_before_commit":
            raise _Dropped
        status, answer, replayed = self._execute_once(route, path_args, params, key, handler)
        record.replayed = replayed
        if replayed:
            headers["Idempotent-Replayed"] = "true"
        if mode == "500_after_commit":
            return 500, _api_error(), headers
        if mode == "drop_after_commit":
            raise _Dropped
        return status, answer, headers

    def _execute_once(self, route, path_args, params, key, handler) -> tuple[int, Any, bool]:
        """Run the endpoint at most once per idempotency key; later calls get the stored answer."""
        if not key:
            status, answer, _ = self._execute(route, path_args, params)
            return status, answer, False
        fingerprint = json.dumps([handler.command, urlsplit(handler.path).path, params], sort_keys=True)
        with self.lock:
            stored = self.idempotency.get(key)
            if stored is None:
                self.idempotency[key] = StoredAnswer(fingerprint)
            elif stored.fingerprint != fingerprint:
                return 400, stripe_error(
                    "idempotency_error", "Keys for idempotent requests can only be used with the same parameters "
                    f"they were first used with. Try using a key other than '{key}' if you meant to execute a "
                    "different request."), False
            elif stored.status is None:
                self.collided.set()
                return 409, stripe_error(
                    "idempotency_error", "There is currently another in-progress request using this Idempotent "
                    f"Key (that probably means you submitted twice, and the other request is still going "
                    f"through): '{key}'. Please try again later."), False
            else:
                return stored.status, stored.body, True
        if self.processing_seconds:
            time.sleep(self.processing_seconds)
        if self.hold_until_collision:
            self.collided.wait(timeout=10)
        with self.lock:
            status, answer, executed = self._execute(route, path_args, params)
            if executed:
                self.idempotency[key] = StoredAnswer(fingerprint, status, answer)
            else:
                del self.idempotency[key]
        return status, answer, False

    def _execute(self, route, path_args, params) -> tuple[int, Any, bool]:
        """(status, body, executed): ``executed`` is False for answers Stripe would not store."""
        handler = self.handlers().get(route)
        if handler is None:
            return 404, stripe_error("invalid_request_error", f"Unrecognized request URL ({route})."), False
        with self.lock:
            try:
                return 200, handler(params, **path_args), True
            except StripeRequestError as error:
                return error.status, error.body, error.executed

    @staticmethod
    def _route(method: str, path: str) -> tuple[str, dict[str, str]]:
        for route_method, pattern, label in ROUTES:
            match = pattern.fullmatch(path)
            if match and route_method == method:
                return label, match.groupdict()
        return f"{method} {path}", {}


def _random_id(length: int = 24) -> str:
    return "".join(secrets.choice(string.ascii_letters + string.digits) for _ in range(length))


def _mask(key: str) -> str:
    return (key[:8] + "*" * 12 + key[-4:]) if len(key) > 12 else "****"


def _api_error() -> dict[str, Any]:
    return stripe_error("api_error", "An unknown error occurred")


def _send(handler: BaseHTTPRequestHandler, status: int, body: Any, headers: dict[str, str]) -> None:
    payload = json.dumps(body).encode()
    try:
        handler.send_response(status)
        handler.send_header("Content-Type", "application/json")
        handler.send_header("Content-Length", str(len(payload)))
        for name, value in headers.items():
            handler.send_header(name, value)
        handler.end_headers()
        handler.wfile.write(payload)
    except (BrokenPipeError, ConnectionResetError):
        pass  # the client gave up (read timeout) before the late answer came


class _Handler(BaseHTTPRequestHandler):
    server: _Server

    def do_GET(self):  # noqa: N802 - http.server's naming
        self.server.fake.handle(self)

    def do_POST(self):  # noqa: N802
        self.server.fake.handle(self)

    def log_message(self, format, *args):  # noqa: A002 - quiet: the fake records requests itself
        pass


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    request_queue_size = 256  # 100 concurrent SDK calls must not overflow the listen backlog
    fake: FakeStripe


class FakeStripeServer:
    """The fake on a free loopback port, serving each connection in its own thread."""

    def __init__(self, fake: FakeStripe | None = None):
        self.fake = fake or FakeStripe()
        self.server = _Server(("127.0.0.1", 0), _Handler)
        self.server.fake = self.fake
        self.fake.url = f"http://127.0.0.1:{self.server.server_port}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        return self.fake.url

    def start(self) -> FakeStripeServer:
        self.thread.start()
        return self

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()
