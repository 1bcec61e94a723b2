"""ContentFlow application factory.

``create_app(config)`` reads settings from the environment (``app.config.load``),
applies ``config`` overrides (tests), then wires extensions, blueprints, error
handlers and CLI commands. Nothing here holds business rules.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from flask import Flask
from sqlalchemy import event
from sqlalchemy.engine import Engine
from werkzeug.middleware.proxy_fix import ProxyFix

from app import config as settings


def create_app(config: Mapping[str, Any] | None = None) -> Flask:
    app = Flask(__name__, template_folder="../templates", static_folder="../static")
    app.config.update(settings.load())
    if config:
        app.config.update(config)

    from app.observability import configure_logging

    configure_logging(app.config["LOG_LEVEL"], app.config["LOG_FORMAT"])
    if app.config["TRUSTED_PROXIES"]:
        n = app.config["TRUSTED_PROXIES"]
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=n, x_proto=n, x_host=n)

    register_extensions(app)
    register_event_handlers(app)
    register_blueprints(app)
    register_errorhandlers(app)
    register_cli(app)
    return app


def register_extensions(app: Flask) -> None:
    from app import jobs, money
    from app.extensions import csrf, db, limiter, login_manager, mail, migrate, oauth
    from app.observability import register_request_hooks
    from app.security import register_security_headers
    from app.storage import upload_origins

    db.init_app(app)
    migrate.init_app(app, db, directory=str(settings.ROOT / "migrations"), render_as_batch=True)
    login_manager.init_app(app)
    csrf.init_app(app)
    limiter.init_app(app)
    mail.init_app(app)
    oauth.init_app(app)
    jobs.init_app(app)
    money.init_app(app)  # the `money` Jinja filter
    register_request_hooks(app)
    register_security_headers(app, upload_origins(app.config))

    import app.accounts.models  # noqa: F401  (register models with the metadata)
    import app.audit.models  # noqa: F401
    import app.campaigns.models  # noqa: F401
    import app.earnings.models  # noqa: F401
    import app.ledger.models  # noqa: F401
    import app.notifications.models  # noqa: F401
    import app.payments.models  # noqa: F401
    import app.payouts.models  # noqa: F401
    import app.social.models  # noqa: F401
    import app.submissions.models  # noqa: F401
    import app.tracking.models  # noqa: F401


def register_event_handlers(app: Flask) -> None:
    """The one table of what follows from what (``app/events.py``): a lower domain publishes,
    the handlers of higher domains run in the publisher's transaction, in this order."""
    from app import events
    from app.earnings import service as earnings
    from app.tracking import service as tracking

    events.wire(app, {
        events.SubmissionSubmitted: [tracking.on_submission_submitted],  # tracking starts
        events.SnapshotVerified: [earnings.on_snapshot_verified],  # a verified count becomes money
        events.SubmissionRemoved: [earnings.on_submission_removed],  # a removed post gives it back
        events.ClipRecorded: [tracking.on_clip_recorded],  # the same clip file elsewhere raises signals
    })


@event.listens_for(Engine, "connect")
def _sqlite_pragmas(dbapi_connection, _record):
    # SQLite enforces foreign keys only when asked, per connection.
    if type(dbapi_connection).__module__.startswith("sqlite3"):
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA busy_timeout=5000")
        cursor.close()


def register_blueprints(app: Flask) -> None:
    from app.accounts.profile_routes import bp as profile_bp
    from app.accounts.routes import bp as accounts_bp
    from app.accounts.staff_routes import bp as staff_auth_bp
    from app.accounts.step_up import bp as step_up_bp
    from app.admin.campaign_review import bp as campaign_review_bp
    from app.campaigns.routes import bp as campaigns_bp
    from app.core.routes import bp as core_bp
    from app.earnings.routes import bp as earnings_bp
    from app.navigation import items_for
    from app.notifications.routes import bp as notifications_bp
    from app.payments.routes import bp as payments_bp
    from app.payouts.routes import bp as payouts_bp
    from app.pwa.routes import bp as pwa_bp
    from app.pwa.routes import register_template_helpers
    from app.social.routes import bp as social_bp
    from app.storage.routes import bp as storage_bp
    from app.submissions.routes import bp as submissions_bp
    from app.tracking.post_routes import bp as posts_bp
    from app.tracking.routes import bp as tracking_bp

    app.register_blueprint(core_bp)
    app.register_blueprint(accounts_bp)
    app.register_blueprint(pwa_bp)
    app.register_blueprint(storage_bp)
    app.register_blueprint(payments_bp)
    for domain_bp in (profile_bp, staff_auth_bp, step_up_bp, campaigns_bp, campaign_review_bp, notifications_bp,
                      tracking_bp, payouts_bp, social_bp, submissions_bp, posts_bp, earnings_bp):
        app.register_blueprint(domain_bp)
    register_template_helpers(app)
    app.jinja_env.globals["nav_items_for"] = items_for


def register_errorhandlers(app: Flask) -> None:
    from app.errors import register_errorhandlers as register

    register(app)


def register_cli(app: Flask) -> None:
    from app.cli import seed_command, users_command

    app.cli.add_command(seed_command)
    app.cli.add_command(users_command)
