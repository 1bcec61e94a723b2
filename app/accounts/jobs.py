"""Jobs of the accounts domain (RQ queue ``otp``).

Invariant: ``deliver_code`` takes the code row's id and the sealed code; it is
safe to run twice, late, or for a code that was replaced (it then sends
nothing). A failure that retrying can fix is re-raised so RQ retries it; the
row shows ``failed`` once no retry is left, so the user is told at once.
"""

from __future__ import annotations

import structlog
from rq import get_current_job

from app.accounts import otp
from app.notifications.gateways import DeliveryError, send_email, send_sms
from app.security import unseal

log = structlog.get_logger(__name__)

SUBJECTS = {
    "signup": "Your ContentFlow sign-up code",
    "login": "Your ContentFlow sign-in code",
    "password_reset": "Your ContentFlow password reset code",
    "email_change": "Confirm your new ContentFlow email",
    "phone_change": "Confirm your new ContentFlow phone number",
}


def _retries_left() -> int:
    job = get_current_job()
    return int(job.retries_left or 0) if job is not None else 0


def deliver_code(code_id: int, sealed_code: str) -> str:
    row = otp.deliverable(code_id)
    if row is None:
        return "skipped"
    code = unseal(sealed_code)
    minutes = int(otp.CODE_TTL.total_seconds() // 60)
    text = f"{code} is your ContentFlow code. It expires in {minutes} minutes. Never share it."
    try:
        if row.channel == "sms":
            send_sms(row.destination, text)
        else:
            send_email(row.destination, SUBJECTS[row.purpose],
                       f"{text}\n\nIf you did not ask for this code, ignore this email.\n")
    except DeliveryError as exc:
        final = exc.permanent or _retries_left() == 0
        otp.record_delivery(code_id, ok=False, error=str(exc), final=final)
        log.warning("otp_delivery_failed", code_id=code_id, channel=row.channel, final=final, error=str(exc))
        if final:
            return "failed"
        raise
    otp.record_delivery(code_id, ok=True)
    return "sent"
