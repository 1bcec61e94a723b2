"""Shared value types of the platform layer: platforms, parsed posts, metrics, credentials.

Invariants:
- ``PLATFORMS`` / ``PLATFORM_LABELS`` are the keys and labels of ``registry.REGISTRY``
  (the one list of platforms);
- a ``ParsedPost`` only holds parts validated by a per-platform regex, and its
  ``canonical_url`` is built by us from those parts, never copied from input;
- ``PostMetrics`` counts are non-negative ints (``views`` always known, others
  ``None`` when the platform does not report them) and ``published_at`` is an
  aware UTC datetime or ``None``;
- ``PostUrlError`` carries a ``code`` (stable, for tests and templates) and a
  user-facing ``message``; each code has its own message.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from app.errors import ValidationError
from app.social.platforms.registry import KEYS, LABELS, site_list

PLATFORMS: tuple[str, ...] = KEYS

PLATFORM_LABELS: dict[str, str] = LABELS


def platform_label(platform: str) -> str:
    return PLATFORM_LABELS[platform]


@dataclass(frozen=True)
class ParsedPost:
    platform: str
    post_id: str
    canonical_url: str
    author_handle: str | None = None


@dataclass(frozen=True)
class PostMetrics:
    views: int
    likes: int | None = None
    comments: int | None = None
    author_id: str | None = None
    author_handle: str | None = None
    published_at: datetime | None = None

    def __post_init__(self):
        for name in ("views", "likes", "comments"):
            value = getattr(self, name)
            if value is not None and (not isinstance(value, int) or isinstance(value, bool) or value < 0):
                raise ValueError(f"{name} must be a non-negative int, got {value!r}")
        if self.published_at is not None:
            if self.published_at.tzinfo is None:
                raise ValueError("published_at must be timezone-aware")
            object.__setattr__(self, "published_at", self.published_at.astimezone(UTC))


@dataclass(frozen=True)
class PlatformCredentials:
    """What a call may use: a user's OAuth token, an API key, the platform's id of the user."""

    access_token: str | None = None
    api_key: str | None = None
    platform_user_id: str | None = None

    def __repr__(self) -> str:  # never print secrets, even in a traceback
        token = "set" if self.access_token else None
        key = "set" if self.api_key else None
        return f"PlatformCredentials(access_token={token}, api_key={key}, platform_user_id={self.platform_user_id!r})"


# One message per refusal; the submission form shows it next to the link field.
POST_URL_MESSAGES: dict[str, str] = {
    "empty": "Paste the link to your post.",
    "too_long": "That link is too long to be a post link. Copy the link from the app's Share button.",
    "malformed": "That does not look like a valid link. Copy it again from the app's Share button.",
    "scheme": "Only web links (https://...) to a post are accepted.",
    "other_site": f"That link is not from {site_list()}. Paste the link to your post there.",
    "short_link": "Short links can't be checked. Open the link in your browser and paste the full link "
                  "from the address bar.",
    "not_a_post": "That link points to a profile or page, not to a single post. Paste the link to the post itself.",
    "platform_not_targeted": "This campaign does not accept {platform} posts. It accepts: {allowed}.",
}


class PostUrlError(ValidationError):
    """A submitted post link was refused; ``code`` says why, ``message`` tells the user."""

    def __init__(self, code: str, **details: str):
        super().__init__(POST_URL_MESSAGES[code].format(**details), field="post_url")
        self.code = code
