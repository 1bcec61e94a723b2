"""Settings from the environment (12-factor), with embedded defaults.

Invariant: with no variable set the app runs self-contained — SQLite under
``instance/``, jobs inline, local-disk storage, mail/SMS printed to the log,
payments offline. Setting a variable switches that one part to the real
service; no code path differs otherwise. Every variable is listed in
``SETTINGS`` (and in the README's settings table, checked by a test).
"""

from __future__ import annotations

import os
import re
import secrets
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
INSTANCE = ROOT / "instance"


@dataclass(frozen=True)
class Setting:
    name: str
    default: str | None
    help: str


SETTINGS: tuple[Setting, ...] = (
    Setting("SECRET_KEY", None, "Signs sessions and CSRF tokens. Embedded default: a random key kept in instance/secret_key."),
    Setting("DATABASE_URL", "sqlite:///instance/contentflow.db", "SQLAlchemy URL; postgresql+psycopg://... in production."),
    Setting("REDIS_URL", None, "Redis for RQ queues and rate limits. Unset: jobs run inline, limits in memory."),
    Setting("JOBS_INLINE", None, "Force inline jobs (1) or queued jobs (0); default: inline when REDIS_URL is unset."),
    Setting("STORAGE_BACKEND", "local", "`local` (files under instance/uploads) or `s3`."),
    Setting("S3_BUCKET", None, "Bucket for media when STORAGE_BACKEND=s3."),
    Setting("S3_ENDPOINT_URL", None, "Custom S3 endpoint (MinIO, moto); unset for AWS."),
    Setting("S3_REGION", "us-east-1", "S3 region."),
    Setting("UPLOAD_MAX_VIDEO_BYTES", str(2 * 1024**3), "Largest video upload in bytes (default 2 GiB)."),
    Setting("UPLOAD_MAX_IMAGE_BYTES", str(20 * 1024**2), "Largest image upload in bytes (default 20 MiB)."),
    Setting("UPLOAD_MAX_DOCUMENT_BYTES", str(20 * 1024**2), "Largest PDF upload in bytes (default 20 MiB)."),
    Setting("UPLOAD_URL_EXPIRES_SECONDS", "600", "Lifetime of a presigned upload ticket."),
    Setting("DOWNLOAD_URL_EXPIRES_SECONDS", "300", "Lifetime of a presigned download link."),
    Setting("MAIL_SERVER", None, "SMTP host. Unset: emails are printed to the log."),
    Setting("MAIL_PORT", "25", "SMTP port."),
    Setting("MAIL_USERNAME", None, "SMTP user."),
    Setting("MAIL_PASSWORD", None, "SMTP password."),
    Setting("MAIL_USE_TLS", "0", "STARTTLS on the SMTP connection (1/0)."),
    Setting("MAIL_DEFAULT_SENDER", "ContentFlow <no-reply@contentflow.local>", "From address."),
    Setting("TWILIO_ACCOUNT_SID", None, "Twilio account. Unset: SMS are printed to the log."),
    Setting("TWILIO_AUTH_TOKEN", None, "Twilio auth token."),
    Setting("TWILIO_FROM_NUMBER", None, "Sender number for SMS (E.164)."),
    Setting("TWILIO_API_BASE", None, "Override Twilio's API host (tests point it at a local fake)."),
    Setting("STRIPE_SECRET_KEY", None, "Stripe API key. Unset: payments run offline (admin records funding, support marks payouts paid)."),
    Setting("STRIPE_WEBHOOK_SECRET", None, "Signing secret for Stripe webhooks; several, comma separated, while rolling the secret."),
    Setting("STRIPE_API_BASE", None, "Override Stripe's API host (tests point it at a local fake)."),
    Setting("PAYOUT_MINIMUM_CENTS", "1000", "Smallest available balance (minor units) that is paid out in a payout run."),
    Setting("PLATFORM_FEE_BPS", "1000", "Platform commission on clippers' gross earnings, in basis points (1000 = 10%)."),
    Setting("PAYOUT_WEEKDAY", "mon", "Day of the weekly payout run (mon ... sun)."),
    Setting("PAYOUT_HOUR_UTC", "9", "Hour (0-23, UTC) of the weekly payout run."),
    Setting("PAYOUT_RECONCILE_AFTER_MINUTES", "15", "Stripe payouts pending or in flight longer than this are looked up and retried by the sweeper."),
    Setting("YOUTUBE_API_KEY", None, "YouTube Data API v3 key for view checks. Unset: YouTube posts are verified by hand."),
    Setting("PLATFORM_API_BASE", None, "Send all four platform API clients (YouTube, TikTok, Instagram, X) to this base URL (tests point it at a local fake)."),
    Setting("<PLATFORM>_CLIENT_ID", None, "OAuth client id of a platform clippers connect; <PLATFORM> is its settings prefix in app/social/platforms/registry.py: TIKTOK (Login Kit client key), YOUTUBE (Google OAuth client, scope youtube.readonly), INSTAGRAM (Instagram app id, Instagram Login), X (OAuth 2.0 client, PKCE). Unset: clippers cannot connect that platform."),
    Setting("<PLATFORM>_CLIENT_SECRET", None, "The secret of that platform's OAuth client."),
    Setting("SOCIAL_OAUTH_BASE", None, "Send every OAuth authorize/token/userinfo URL of the four platforms to <base>/<platform>/... (tests point it at a local provider)."),
    Setting("SOCIAL_REFRESH_AHEAD", "1800", "Refresh a connected account's token when it expires within this many seconds."),
    Setting("TOKEN_ENCRYPTION_KEY", None, "Fernet key(s), comma separated, for OAuth tokens at rest. Embedded default: derived from SECRET_KEY."),
    Setting("LOG_LEVEL", "INFO", "Log level."),
    Setting("LOG_FORMAT", "json", "`json` (one JSON object a line) or `console`."),
    Setting("PROMETHEUS_MULTIPROC_DIR", None, "Directory for prometheus-client multiprocess files (set under gunicorn)."),
    Setting("METRICS_TOKEN", None, "If set, /metrics requires `Authorization: Bearer <token>`."),
    Setting("TRUSTED_PROXIES", "0", "How many reverse proxies set X-Forwarded-* (0 = trust none)."),
    Setting("SESSION_COOKIE_SECURE", "0", "Send the session cookie over HTTPS only (1 in production)."),
    Setting("RATELIMIT_ENABLED", "1", "Turn Flask-Limiter off (0) only for local experiments."),
    Setting("DEMO_PASSWORD", "contentflow-demo", "Password given to the demo accounts by `flask seed`."),
)


def _env(name: str, default: str | None = None) -> str | None:
    value = os.environ.get(name)
    return value if value not in (None, "") else default


# <PLATFORM>_CLIENT_ID / _CLIENT_SECRET of any platform: the registry of platforms (a domain this
# core module must not import) names the prefixes, so a new platform needs no line here.
_OAUTH_CLIENT_SETTING = re.compile(r"^[A-Z][A-Z0-9]*_CLIENT_(ID|SECRET)$")


def _platform_oauth_clients() -> dict[str, str]:
    return {name: value for name, value in os.environ.items() if _OAUTH_CLIENT_SETTING.match(name) and value}


def _flag(name: str, default: str = "0") -> bool:
    return (_env(name, default) or "0").strip().lower() in {"1", "true", "yes", "on"}


def _int(name: str, default: int) -> int:
    value = _env(name)
    if value is None:
        return default
    try:
        number = int(value)
    except ValueError:
        raise RuntimeError(f"{name} must be a whole number, got {value!r}") from None
    if number <= 0:
        raise RuntimeError(f"{name} must be positive, got {number}")
    return number


def _choice(name: str, default: str, choices: tuple[str, ...]) -> str:
    value = (_env(name, default) or default).strip().lower()
    if value not in choices:
        raise RuntimeError(f"{name} must be one of {', '.join(choices)}, got {value!r}")
    return value


def _secret_key() -> str:
    key = _env("SECRET_KEY")
    if key:
        return key
    # Embedded mode: keep one random key per checkout so sessions survive restarts.
    INSTANCE.mkdir(exist_ok=True)
    path = INSTANCE / "secret_key"
    if not path.exists():
        path.write_text(secrets.token_urlsafe(48))
        path.chmod(0o600)
    return path.read_text().strip()


def _database_url() -> str:
    url = _env("DATABASE_URL", "sqlite:///instance/contentflow.db")
    assert url is not None
    if url.startswith("postgres://"):  # Heroku-style URLs
        url = "postgresql://" + url[len("postgres://"):]
    if url.startswith("postgresql://"):
        url = "postgresql+psycopg://" + url[len("postgresql://"):]
    if url.startswith("sqlite:///") and not url.startswith("sqlite:////"):
        rel = url[len("sqlite:///"):]
        if rel and rel != ":memory:":
            path = ROOT / rel
            path.parent.mkdir(parents=True, exist_ok=True)
            url = f"sqlite:///{path}"
    return url


def load() -> dict:
    """Read the environment now and return a Flask config mapping."""
    redis_url = _env("REDIS_URL")
    jobs_inline_env = _env("JOBS_INLINE")
    jobs_inline = (jobs_inline_env in {"1", "true", "yes"}) if jobs_inline_env else not redis_url
    db_url = _database_url()
    engine_options: dict = {"pool_pre_ping": True}
    if db_url.startswith("postgresql"):
        engine_options["connect_args"] = {"connect_timeout": 5}
    return {
        "SECRET_KEY": _secret_key(),
        "SQLALCHEMY_DATABASE_URI": db_url,
        "SQLALCHEMY_ENGINE_OPTIONS": engine_options,
        "REDIS_URL": redis_url,
        "JOBS_INLINE": jobs_inline,
        "STORAGE_BACKEND": _env("STORAGE_BACKEND", "local"),
        "S3_BUCKET": _env("S3_BUCKET"),
        "S3_ENDPOINT_URL": _env("S3_ENDPOINT_URL"),
        "S3_REGION": _env("S3_REGION", "us-east-1"),
        "UPLOAD_DIR": str(INSTANCE / "uploads"),
        "UPLOAD_MAX_VIDEO_BYTES": _int("UPLOAD_MAX_VIDEO_BYTES", 2 * 1024**3),
        "UPLOAD_MAX_IMAGE_BYTES": _int("UPLOAD_MAX_IMAGE_BYTES", 20 * 1024**2),
        "UPLOAD_MAX_DOCUMENT_BYTES": _int("UPLOAD_MAX_DOCUMENT_BYTES", 20 * 1024**2),
        "UPLOAD_URL_EXPIRES_SECONDS": _int("UPLOAD_URL_EXPIRES_SECONDS", 600),
        "DOWNLOAD_URL_EXPIRES_SECONDS": _int("DOWNLOAD_URL_EXPIRES_SECONDS", 300),
        "MAIL_SERVER": _env("MAIL_SERVER"),
        "MAIL_PORT": int(_env("MAIL_PORT", "25") or 25),
        "MAIL_USERNAME": _env("MAIL_USERNAME"),
        "MAIL_PASSWORD": _env("MAIL_PASSWORD"),
        "MAIL_USE_TLS": _flag("MAIL_USE_TLS"),
        "MAIL_DEFAULT_SENDER": _env("MAIL_DEFAULT_SENDER", "ContentFlow <no-reply@contentflow.local>"),
        "MAIL_TO_LOG": not _env("MAIL_SERVER"),
        "TWILIO_ACCOUNT_SID": _env("TWILIO_ACCOUNT_SID"),
        "TWILIO_AUTH_TOKEN": _env("TWILIO_AUTH_TOKEN"),
        "TWILIO_FROM_NUMBER": _env("TWILIO_FROM_NUMBER"),
        "TWILIO_API_BASE": _env("TWILIO_API_BASE"),
        "STRIPE_SECRET_KEY": _env("STRIPE_SECRET_KEY"),
        "STRIPE_WEBHOOK_SECRET": _env("STRIPE_WEBHOOK_SECRET"),
        "STRIPE_API_BASE": _env("STRIPE_API_BASE"),
        "PAYMENTS_MODE": "stripe" if _env("STRIPE_SECRET_KEY") else "offline",
        "PAYOUT_MINIMUM_CENTS": _int("PAYOUT_MINIMUM_CENTS", 1000),
        "PLATFORM_FEE_BPS": _int("PLATFORM_FEE_BPS", 1000),
        "PAYOUT_WEEKDAY": _choice("PAYOUT_WEEKDAY", "mon", ("mon", "tue", "wed", "thu", "fri", "sat", "sun")),
        "PAYOUT_HOUR_UTC": int(_choice("PAYOUT_HOUR_UTC", "9", tuple(str(h) for h in range(24)))),
        "PAYOUT_RECONCILE_AFTER_MINUTES": _int("PAYOUT_RECONCILE_AFTER_MINUTES", 15),
        "YOUTUBE_API_KEY": _env("YOUTUBE_API_KEY"),
        "PLATFORM_API_BASE": _env("PLATFORM_API_BASE"),
        "TOKEN_ENCRYPTION_KEY": _env("TOKEN_ENCRYPTION_KEY"),
        **_platform_oauth_clients(),
        "SOCIAL_OAUTH_BASE": _env("SOCIAL_OAUTH_BASE"),
        "SOCIAL_REFRESH_AHEAD": _int("SOCIAL_REFRESH_AHEAD", 1800),
        "LOG_LEVEL": (_env("LOG_LEVEL", "INFO") or "INFO").upper(),
        "LOG_FORMAT": _env("LOG_FORMAT", "json"),
        "PROMETHEUS_MULTIPROC_DIR": _env("PROMETHEUS_MULTIPROC_DIR"),
        "METRICS_TOKEN": _env("METRICS_TOKEN"),
        "TRUSTED_PROXIES": int(_env("TRUSTED_PROXIES", "0") or 0),
        "SESSION_COOKIE_SECURE": _flag("SESSION_COOKIE_SECURE"),
        "SESSION_COOKIE_HTTPONLY": True,
        "SESSION_COOKIE_SAMESITE": "Lax",
        "REMEMBER_COOKIE_SECURE": _flag("SESSION_COOKIE_SECURE"),
        "REMEMBER_COOKIE_HTTPONLY": True,
        "REMEMBER_COOKIE_SAMESITE": "Lax",
        "RATELIMIT_ENABLED": _flag("RATELIMIT_ENABLED", "1"),
        "RATELIMIT_STORAGE_URI": redis_url or "memory://",
        "RATELIMIT_HEADERS_ENABLED": True,
        "DEMO_PASSWORD": _env("DEMO_PASSWORD", "contentflow-demo"),
        # Uploads go straight to object storage; form posts stay small.
        "MAX_CONTENT_LENGTH": 1 * 1024 * 1024,
        "WTF_CSRF_TIME_LIMIT": 8 * 3600,
        "SEND_FILE_MAX_AGE_DEFAULT": 3600,
    }
