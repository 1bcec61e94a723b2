"""Outside channels: email (Flask-Mail over SMTP) and SMS (Twilio).

Invariants: with no MAIL_SERVER / Twilio account configured (embedded mode)
messages are written to the log instead of sent, so the app runs with no
outside service; a failure raises ``DeliveryError`` with ``permanent`` telling
the caller whether retrying can help (a rejected number will never work, a
timeout might). Message bodies are logged only in embedded mode.
"""

from __future__ import annotations

import smtplib
import socket

import structlog
from flask import current_app
from flask_mail import Message

from app.extensions import mail

log = structlog.get_logger(__name__)

SMTP_TIMEOUT_SECONDS = 10
SMS_TIMEOUT_SECONDS = 10


class DeliveryError(Exception):
    def __init__(self, message: str, *, permanent: bool = False):
        super().__init__(message)
        self.permanent = permanent


def send_email(to: str, subject: str, body: str) -> None:
    config = current_app.config
    if config.get("MAIL_TO_LOG"):
        log.info("email_to_log", to=to, subject=subject, body=body)
        return
    message = Message(subject=subject, recipients=[to], body=body)
    previous = socket.getdefaulttimeout()
    socket.setdefaulttimeout(SMTP_TIMEOUT_SECONDS)  # smtplib has no per-call timeout in Flask-Mail
    try:
        mail.send(message)
    except (smtplib.SMTPRecipientsRefused, smtplib.SMTPNotSupportedError, UnicodeEncodeError) as exc:
        # Refused, or an address the server cannot take (non-ASCII without SMTPUTF8): retrying won't help.
        raise DeliveryError("The mail server cannot deliver to this address.", permanent=True) from exc
    except (smtplib.SMTPException, OSError) as exc:
        raise DeliveryError(f"Mail server unavailable: {type(exc).__name__}") from exc
    finally:
        socket.setdefaulttimeout(previous)
    log.info("email_sent", to=to, subject=subject)


def _twilio_client():
    from twilio.http.http_client import TwilioHttpClient
    from twilio.rest import Client

    config = current_app.config
    client = Client(config["TWILIO_ACCOUNT_SID"], config["TWILIO_AUTH_TOKEN"],
                    http_client=TwilioHttpClient(timeout=SMS_TIMEOUT_SECONDS))
    if config.get("TWILIO_API_BASE"):
        client.api.base_url = config["TWILIO_API_BASE"].rstrip("/")
    return client


def sms_configured() -> bool:
    config = current_app.config
    return bool(config.get("TWILIO_ACCOUNT_SID") and config.get("TWILIO_AUTH_TOKEN"))


def send_sms(to: str, body: str) -> str | None:
    """Send ``body`` to the E.164 number ``to``; returns the provider's message id."""
    if not sms_configured():
        log.info("sms_to_log", to=to, body=body)
        return None
    from requests import RequestException
    from twilio.base.exceptions import TwilioException, TwilioRestException

    try:
        message = _twilio_client().messages.create(
            to=to, from_=current_app.config["TWILIO_FROM_NUMBER"], body=body
        )
    except TwilioRestException as exc:
        permanent = 400 <= exc.status < 500 and exc.status != 429
        raise DeliveryError(f"SMS provider said {exc.status} ({exc.code})", permanent=permanent) from exc
    except (TwilioException, RequestException) as exc:
        raise DeliveryError(f"SMS provider unreachable: {type(exc).__name__}") from exc
    log.info("sms_sent", to=to, sid=message.sid)
    return message.sid
