"""What a valid campaign is: field rules shared by the wizard, edits and submission.

Invariants: ``check`` takes typed values (ints of minor units, aware datetimes,
lists of platform names) for any subset of ``FIELDS`` and returns them cleaned, or
raises ``ValidationError`` naming the first bad field with a message for the user;
cross-field rules (budget vs CPM, caps vs budget, end vs start) are checked against
the merged values, so every step can be checked alone; the brief and requirements
are plain text — HTML tags are refused here and everything else is escaped when
shown; ``missing_for_submission`` lists what a draft still lacks;
``FUNDABLE_STATUSES`` (``may_take_funding``) is the one list of statuses in which a
campaign may take new funding (payments asks here, templates get a flag).
"""

from __future__ import annotations

import re
from datetime import datetime
from urllib.parse import urlsplit

from app.campaigns.models import APPROVAL_MODES, PLATFORMS
from app.db import utcnow
from app.errors import ValidationError
from app.money import CURRENCIES, MAX_MINOR_UNITS, format_money

MAX_TITLE_LENGTH = 120
MAX_BRIEF_LENGTH = 5000
MAX_REQUIREMENTS_LENGTH = 2000
MAX_URL_LENGTH = 2000
MAX_PARTICIPANTS = 100_000
MAX_HOLD_DAYS = 60
MAX_AUTO_APPROVE_HOURS = 720
MAX_VIEWS = 10**12

STEP_FIELDS: dict[str, tuple[str, ...]] = {
    "basics": ("title", "brief", "platforms", "requirements", "destination_url"),
    "budget": ("currency", "cpm_cents", "budget_cents", "min_views_per_post", "max_payout_per_post_cents",
               "max_earnings_per_clipper_cents", "max_participants"),
    "schedule": ("starts_at", "ends_at", "hold_days", "auto_approve_hours", "approval_mode"),
}
FIELDS = tuple(name for names in STEP_FIELDS.values() for name in names)
REQUIRED_FOR_SUBMISSION = ("title", "brief", "platforms", "cpm_cents", "budget_cents", "starts_at", "ends_at")

_TAG = re.compile(r"<\s*/?\s*[A-Za-z!][^>]*>")
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\u202a-\u202e\u2066-\u2069]")
_CONTROL_IN_LINE = re.compile(r"[\x00-\x1f\x7f\u202a-\u202e\u2066-\u2069]")

LABELS = {
    "title": "Title", "brief": "Brief", "pitch": "Pitch", "platforms": "Platforms", "requirements": "Requirements",
    "destination_url": "Destination URL", "currency": "Currency", "cpm_cents": "CPM",
    "budget_cents": "Budget", "min_views_per_post": "Minimum views per post",
    "max_payout_per_post_cents": "Maximum payout per post",
    "max_earnings_per_clipper_cents": "Maximum earnings per clipper",
    "max_participants": "Maximum participants", "starts_at": "Start date", "ends_at": "End date",
    "hold_days": "Hold window", "auto_approve_hours": "Auto-approval window", "approval_mode": "Approval mode",
}


def text_field(name: str, value, max_length: int, *, required: bool, multiline: bool) -> str:
    if value is None:
        value = ""
    if not isinstance(value, str):
        raise ValidationError(f"{LABELS[name]} must be text.", field=name)
    value = value.replace("\r\n", "\n").strip()
    if required and not value:
        raise ValidationError(f"{LABELS[name]} is required.", field=name)
    if len(value) > max_length:
        raise ValidationError(f"{LABELS[name]} is too long: at most {max_length:,} characters "
                              f"(this has {len(value):,}).", field=name)
    if (_CONTROL if multiline else _CONTROL_IN_LINE).search(value):
        raise ValidationError(f"{LABELS[name]} contains control characters; use plain text.", field=name)
    if _TAG.search(value):
        raise ValidationError(f"{LABELS[name]} is plain text: remove HTML tags such as <b> or <script>.",
                              field=name)
    return value


def _whole(name: str, value, *, minimum: int, maximum: int, optional: bool = False) -> int | None:
    if value is None and optional:
        return None
    if isinstance(value, bool) or not isinstance(value, int):
        raise ValidationError(f"{LABELS[name]} must be a whole number.", field=name)
    if value < minimum:
        raise ValidationError(f"{LABELS[name]} must be at least {minimum:,}.", field=name)
    if value > maximum:
        raise ValidationError(f"{LABELS[name]} must be at most {maximum:,}.", field=name)
    return value


def _cents(name: str, value, *, optional: bool = False) -> int | None:
    if value is None and optional:
        return None
    if value is None:
        raise ValidationError(f"{LABELS[name]} is required.", field=name)
    if isinstance(value, bool) or not isinstance(value, int):
        raise ValidationError(f"{LABELS[name]} must be an amount in cents.", field=name)
    if value <= 0:
        raise ValidationError(f"{LABELS[name]} must be more than zero.", field=name)
    if value > MAX_MINOR_UNITS:
        raise ValidationError(f"{LABELS[name]} is too large.", field=name)
    return value


def _platforms(value) -> list[str]:
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, list | tuple) or not value:
        raise ValidationError("Pick at least one platform.", field="platforms")
    for name in value:
        if name not in PLATFORMS:
            raise ValidationError(f"Unknown platform {str(name)[:30]!r}; choose from "
                                  f"{', '.join(PLATFORMS)}.", field="platforms")
    return [name for name in PLATFORMS if name in value]


def _url(value) -> str | None:
    if value in (None, ""):
        return None
    if not isinstance(value, str) or len(value) > MAX_URL_LENGTH:
        raise ValidationError("The destination URL is too long.", field="destination_url")
    parts = urlsplit(value.strip())
    if parts.scheme not in ("http", "https") or not parts.netloc or _CONTROL_IN_LINE.search(value):
        raise ValidationError("Enter a full web address starting with https://.", field="destination_url")
    return value.strip()


def _choice(name: str, value, choices: tuple[str, ...]) -> str:
    if value not in choices:
        raise ValidationError(f"{LABELS[name]} must be one of: {', '.join(choices)}.", field=name)
    return value


def _date(name: str, value) -> datetime | None:
    if value is None:
        return None
    if not isinstance(value, datetime) or value.tzinfo is None:
        raise ValidationError(f"{LABELS[name]} must be a date.", field=name)
    return value


_CHECKS = {
    "title": lambda v: text_field("title", v, MAX_TITLE_LENGTH, required=True, multiline=False),
    "brief": lambda v: text_field("brief", v, MAX_BRIEF_LENGTH, required=True, multiline=True),
    "platforms": _platforms,
    "requirements": lambda v: text_field("requirements", v, MAX_REQUIREMENTS_LENGTH, required=False, multiline=True),
    "destination_url": _url,
    "currency": lambda v: _choice("currency", v, tuple(CURRENCIES)),
    "cpm_cents": lambda v: _cents("cpm_cents", v),
    "budget_cents": lambda v: _cents("budget_cents", v),
    "min_views_per_post": lambda v: _whole("min_views_per_post", v, minimum=0, maximum=MAX_VIEWS),
    "max_payout_per_post_cents": lambda v: _cents("max_payout_per_post_cents", v, optional=True),
    "max_earnings_per_clipper_cents": lambda v: _cents("max_earnings_per_clipper_cents", v, optional=True),
    "max_participants": lambda v: _whole("max_participants", v, minimum=1, maximum=MAX_PARTICIPANTS,
                                         optional=True),
    "starts_at": lambda v: _date("starts_at", v),
    "ends_at": lambda v: _date("ends_at", v),
    "hold_days": lambda v: _whole("hold_days", v, minimum=0, maximum=MAX_HOLD_DAYS),
    "auto_approve_hours": lambda v: _whole("auto_approve_hours", v, minimum=1, maximum=MAX_AUTO_APPROVE_HOURS),
    "approval_mode": lambda v: _choice("approval_mode", v, APPROVAL_MODES),
}


def check(values: dict, current: dict | None = None) -> dict:
    """Cleaned ``values``; ``current`` holds the campaign's other values for cross-field rules."""
    unknown = set(values) - set(FIELDS)
    if unknown:
        raise ValidationError(f"Unknown campaign field {sorted(unknown)[0]!r}.")
    cleaned = {name: _CHECKS[name](values[name]) for name in FIELDS if name in values}
    merged = {**(current or {}), **cleaned}
    _cross_checks(merged)
    return cleaned


def _cross_checks(merged: dict) -> None:
    cpm, budget, currency = merged.get("cpm_cents"), merged.get("budget_cents"), merged.get("currency") or "USD"
    if cpm and budget and budget < cpm:
        raise ValidationError(
            f"The budget must pay for at least 1,000 views: at least {format_money(cpm, currency)} at this CPM.",
            field="budget_cents")
    for cap in ("max_payout_per_post_cents", "max_earnings_per_clipper_cents"):
        if budget and merged.get(cap) and merged[cap] > budget:
            raise ValidationError(f"{LABELS[cap]} cannot be more than the budget.", field=cap)
    per_post, per_clipper = merged.get("max_payout_per_post_cents"), merged.get("max_earnings_per_clipper_cents")
    if per_post and per_clipper and per_post > per_clipper:
        raise ValidationError("Maximum payout per post cannot be more than maximum earnings per clipper.",
                              field="max_payout_per_post_cents")
    starts, ends = merged.get("starts_at"), merged.get("ends_at")
    if starts and ends and ends <= starts:
        raise ValidationError("The end date must be after the start date.", field="ends_at")


def missing_for_submission(values: dict) -> list[str]:
    """Labels of what a draft still lacks before it can be submitted (empty: complete)."""
    missing = [LABELS[name] for name in REQUIRED_FOR_SUBMISSION if not values.get(name)]
    ends = values.get("ends_at")
    if ends and ends <= utcnow():
        missing.append("an end date in the future")
    return missing


# -- funding ------------------------------------------------------------------------------

# Which campaign statuses may take new funding (offline or by card).
FUNDABLE_STATUSES = ("draft", "pending_review", "published", "paused")


def may_take_funding(campaign) -> bool:
    return campaign.status in FUNDABLE_STATUSES


def check_may_take_funding(campaign) -> None:
    """Raise ``ValidationError`` (the message the brand or admin sees) unless the campaign may take funding."""
    if not may_take_funding(campaign):
        raise ValidationError(f"A {campaign.status.replace('_', ' ')} campaign cannot take new funding.")
