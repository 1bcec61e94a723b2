"""gunicorn settings: sync workers (fastest on 2 cores here), JSON logs, and
Prometheus multiprocess bookkeeping so /metrics sums every worker."""

import os
import shutil
import tempfile

bind = os.environ.get("GUNICORN_BIND", "0.0.0.0:8000")
workers = int(os.environ.get("WEB_CONCURRENCY", "4"))
worker_class = "sync"
timeout = 30
graceful_timeout = 20
accesslog = None  # the app logs one JSON "request" line per request
forwarded_allow_ips = os.environ.get("FORWARDED_ALLOW_IPS", "127.0.0.1")

multiproc_dir = os.environ.setdefault(
    "PROMETHEUS_MULTIPROC_DIR", os.path.join(tempfile.gettempdir(), "contentflow-prometheus")
)

logconfig_dict = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"json": {"()": "app.observability.log_formatter"}},
    # Named like the app's own handler, so create_app() replaces it instead of adding a second one.
    "handlers": {
        "contentflow": {"class": "logging.StreamHandler", "formatter": "json", "stream": "ext://sys.stderr"},
    },
    "root": {"level": "INFO", "handlers": ["contentflow"]},
    "loggers": {
        "gunicorn.error": {"handlers": [], "level": "INFO", "propagate": True},
        "gunicorn.access": {"handlers": [], "level": "WARNING", "propagate": False},
    },
}


def on_starting(server):
    # Stale files from an earlier run would inflate the counters.
    shutil.rmtree(multiproc_dir, ignore_errors=True)
    os.makedirs(multiproc_dir, exist_ok=True)


def child_exit(server, worker):
    from prometheus_client import multiprocess

    multiprocess.mark_process_dead(worker.pid)
