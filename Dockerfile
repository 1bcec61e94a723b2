# syntax=docker/dockerfile:1
#
# ContentFlow image: gunicorn web process (the same image also runs the RQ worker and cron).
#
# Database migrations are NOT run at container start, so several web containers can
# start at once without racing on Alembic. Run them as a separate release command:
#
#     docker compose run --rm web flask --app wsgi db upgrade
#
# (docker-compose.yml does the same through its one-shot `migrate` service.)

# ---------------------------------------------------------------------------
# Stage 1: front-end vendor files (htmx, Pico CSS) from npm -> /src/static/vendor/
# ---------------------------------------------------------------------------
FROM node:20-bookworm-slim AS assets
WORKDIR /src
COPY package.json package-lock.json ./
COPY scripts/vendor.mjs scripts/vendor.mjs
RUN npm ci --ignore-scripts && node scripts/vendor.mjs

# ---------------------------------------------------------------------------
# Stage 2: runtime
# ---------------------------------------------------------------------------
FROM python:3.11-slim-bookworm

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PROMETHEUS_MULTIPROC_DIR=/tmp/prometheus

# Non-root runtime user with a fixed uid/gid.
RUN groupadd --system --gid 10001 app \
 && useradd --system --uid 10001 --gid app --home-dir /app --no-create-home \
        --shell /usr/sbin/nologin app

WORKDIR /app

# Dependencies first so code changes don't invalidate the pip layer.
COPY requirements.txt ./
RUN pip install -r requirements.txt

# Application code (owned by root, read-only for the app user).
COPY app/ app/
COPY migrations/ migrations/
COPY static/ static/
COPY templates/ templates/
COPY worker.py wsgi.py gunicorn.conf.py manifest.webmanifest ./
COPY --from=assets /src/static/vendor static/vendor

# Only the instance dir and the prometheus multiprocess dir are writable.
RUN mkdir -p /app/instance /tmp/prometheus \
 && chown app:app /app/instance /tmp/prometheus

USER app

EXPOSE 8000

HEALTHCHECK --interval=30s --timeout=5s --start-period=20s --retries=3 \
    CMD ["python", "-c", "import urllib.request; urllib.request.urlopen('http://127.0.0.1:8000/healthz', timeout=4)"]

CMD ["gunicorn", "-c", "gunicorn.conf.py", "wsgi:app"]
