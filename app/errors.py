"""Domain errors and how every error reaches the user.

Invariants: a ``DomainError`` carries a message safe to show the user and maps
to a 4xx status, never 500; every error renders as the full page, or — for an
htmx partial request — as just the error fragment, with the same status code;
an unexpected exception is logged with the request id and answered with a 500
page that reveals nothing.
"""

from __future__ import annotations

import structlog
from flask import Flask, jsonify, request
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import HTTPException

log = structlog.get_logger(__name__)


class DomainError(Exception):
    """A rule was broken; ``message`` is shown to the user as is."""

    status_code = 400
    title = "That did not work"

    def __init__(self, message: str, *, field: str | None = None):
        super().__init__(message)
        self.message = message
        self.field = field


class ValidationError(DomainError):
    status_code = 422
    title = "Please check your input"


class PermissionDeniedError(DomainError):
    status_code = 403
    title = "Not allowed"


class NotFoundError(DomainError):
    status_code = 404
    title = "Not found"


class ConflictError(DomainError):
    status_code = 409
    title = "Conflict"


def attach_to_form(form, exc: DomainError, aliases: dict[str, str] | None = None) -> None:
    """Show a service's error next to the field it names (``aliases`` maps a service field
    to the form field that carries it), or at the top of the form."""
    name = (aliases or {}).get(exc.field, exc.field) if exc.field else None
    field = getattr(form, name, None) if name else None
    if field is not None:
        field.errors = [*field.errors, exc.message]
    else:
        form.form_errors.append(exc.message)


# Titles and texts for the error pages; a user should always know what to do next.
ERROR_PAGES = {
    400: ("Bad request", "The request could not be understood. Go back and try again."),
    401: ("Please sign in", "You need to sign in to see this page."),
    403: ("Not allowed", "Your account cannot open this page."),
    404: ("Page not found", "There is nothing here. Check the address or go back home."),
    405: ("Not allowed here", "That action is not available on this page."),
    409: ("Conflict", "Someone else changed this at the same time. Reload and try again."),
    413: ("Too large", "What you sent is too large. Upload large files directly instead."),
    422: ("Please check your input", "Some of what you entered is not valid."),
    429: ("Too many requests", "You are going a bit fast. Wait a minute and try again."),
    500: ("Something went wrong", "We hit an error and have been told about it. Try again in a moment."),
    503: ("Temporarily unavailable", "We are down for a moment. Try again shortly."),
}


def _wants_json() -> bool:
    best = request.accept_mimetypes.best_match(["text/html", "application/json"])
    return best == "application/json" and not request.headers.get("HX-Request")


def render_error(status: int, message: str | None = None, title: str | None = None):
    from app.htmx import render

    default_title, default_text = ERROR_PAGES.get(status, ERROR_PAGES[500])
    title = title or default_title
    message = message or default_text
    if _wants_json():
        return jsonify(error={"status": status, "title": title, "message": message}), status
    response = render(
        "errors/error.html", block="content", status=status,
        error_status=status, error_title=title, error_message=message,
    )
    return response


def register_errorhandlers(app: Flask) -> None:
    @app.errorhandler(DomainError)
    def handle_domain_error(error: DomainError):
        return render_error(error.status_code, error.message, error.title)

    @app.errorhandler(CSRFError)
    def handle_csrf_error(error: CSRFError):
        return render_error(
            400,
            "This form has expired or was not sent from our site. Reload the page and try again.",
            "Form expired",
        )

    @app.errorhandler(HTTPException)
    def handle_http_error(error: HTTPException):
        status = error.code or 500
        message = None
        if status == 429:
            message = f"Too many attempts. Limit: {error.description}. Wait a bit and try again."
        response = render_error(status, message)
        if status == 405 and hasattr(error, "valid_methods") and error.valid_methods:
            response = app.make_response(response)
            response.headers["Allow"] = ", ".join(error.valid_methods)
        return response

    @app.errorhandler(Exception)
    def handle_unexpected(error: Exception):
        if isinstance(error, HTTPException):  # pragma: no cover - handled above
            return handle_http_error(error)
        log.exception("unhandled_error", error_type=type(error).__name__)
        from app.extensions import db

        db.session.rollback()
        return render_error(500)
