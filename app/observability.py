"""Logs, request ids and Prometheus metrics.

Invariants:
- every log line is one JSON object (``LOG_FORMAT=json``), including lines from
  Flask, werkzeug, RQ and gunicorn, because all go through structlog's formatter;
- every line logged while handling a request carries that request's id, which
  is also returned in ``X-Request-ID`` (a well-formed incoming id is kept so a
  load balancer's id follows the request);
- metrics are correct with several gunicorn workers: with
  ``PROMETHEUS_MULTIPROC_DIR`` set, /metrics aggregates every worker's files.
"""

from __future__ import annotations

import logging
import os
import re
import sys
import time
import uuid

import structlog
from flask import Flask, g, request

_REQUEST_ID = re.compile(r"^[A-Za-z0-9._-]{8,64}$")

SHARED_PROCESSORS = [
    structlog.contextvars.merge_contextvars,
    structlog.stdlib.add_log_level,
    structlog.stdlib.add_logger_name,
    structlog.processors.TimeStamper(fmt="iso", utc=True),
]


def log_formatter(fmt: str = "json") -> logging.Formatter:
    renderer = (
        structlog.dev.ConsoleRenderer(colors=False)
        if fmt == "console"
        else structlog.processors.JSONRenderer()
    )
    return structlog.stdlib.ProcessorFormatter(
        foreign_pre_chain=SHARED_PROCESSORS,
        processors=[
            structlog.stdlib.ProcessorFormatter.remove_processors_meta,
            structlog.processors.format_exc_info,
            renderer,
        ],
    )


def configure_logging(level: str = "INFO", fmt: str = "json") -> None:
    """Route structlog and stdlib logging through one JSON formatter on stderr."""
    processors = [
        *SHARED_PROCESSORS,
        structlog.processors.StackInfoRenderer(),
        structlog.stdlib.ProcessorFormatter.wrap_for_formatter,
    ]
    if structlog.is_configured():
        # Loggers cached on first use hold the processor list itself: configuring again
        # (a second app in one process) must change that list, not swap in a new one.
        current = structlog.get_config()["processors"]
        current[:] = processors
        processors = current
    structlog.configure(
        processors=processors,
        logger_factory=structlog.stdlib.LoggerFactory(),
        wrapper_class=structlog.stdlib.BoundLogger,
        cache_logger_on_first_use=True,
    )
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(log_formatter(fmt))
    handler.set_name("contentflow")
    root = logging.getLogger()
    root.handlers = [h for h in root.handlers if h.get_name() != "contentflow"]
    root.addHandler(handler)
    root.setLevel(level)
    # werkzeug's own access lines duplicate our "request" line.
    logging.getLogger("werkzeug").setLevel(logging.WARNING)
    logging.getLogger("alembic.runtime.plugins").setLevel(logging.WARNING)


log = structlog.get_logger("contentflow.http")


_METRICS: dict = {}


def _metrics():
    # Created lazily: prometheus_client picks its multiprocess mode from the
    # environment at import time, which gunicorn.conf.py sets first.
    if not _METRICS:
        from prometheus_client import Counter, Histogram

        _METRICS["requests"] = Counter(
            "contentflow_http_requests_total", "HTTP requests", ["method", "endpoint", "status"]
        )
        _METRICS["latency"] = Histogram(
            "contentflow_http_request_duration_seconds", "HTTP request latency",
            ["method", "endpoint"],
            buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10),
        )
    return _METRICS["requests"], _METRICS["latency"]


def register_request_hooks(app: Flask) -> None:
    requests_total, latency = _metrics()

    def bind_request_id():
        incoming = request.headers.get("X-Request-ID", "")
        rid = incoming if _REQUEST_ID.match(incoming) else uuid.uuid4().hex
        g.request_id = rid
        g.request_started = time.perf_counter()
        structlog.contextvars.clear_contextvars()
        structlog.contextvars.bind_contextvars(request_id=rid)

    # First of all before_request hooks, so CSRF and rate-limit rejections are logged with the id.
    app.before_request_funcs.setdefault(None, []).insert(0, bind_request_id)

    @app.after_request
    def log_request(response):
        rid = g.get("request_id")
        if rid:
            response.headers["X-Request-ID"] = rid
        started = g.get("request_started")
        elapsed = time.perf_counter() - started if started else 0.0
        endpoint = request.url_rule.endpoint if request.url_rule else "unmatched"
        if endpoint != "core.metrics":
            requests_total.labels(request.method, endpoint, str(response.status_code)).inc()
            latency.labels(request.method, endpoint).observe(elapsed)
        log.info(
            "request", method=request.method, path=request.path, status=response.status_code,
            endpoint=endpoint, duration_ms=round(elapsed * 1000, 2), pid=os.getpid(),
        )
        return response

    @app.teardown_request
    def unbind_request_id(_exc):
        structlog.contextvars.clear_contextvars()


def metrics_payload() -> tuple[bytes, str]:
    from prometheus_client import CONTENT_TYPE_LATEST, REGISTRY, CollectorRegistry, generate_latest

    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        from prometheus_client import multiprocess

        registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(registry)
        return generate_latest(registry), CONTENT_TYPE_LATEST
    return generate_latest(REGISTRY), CONTENT_TYPE_LATEST
