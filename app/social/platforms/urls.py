"""The common, platform-independent half of post-link parsing: is this a safe web link?

Invariants (pure string work; nothing here opens a connection or resolves a name):
- input is stripped, capped at ``MAX_URL_LENGTH`` characters and may not contain
  whitespace or control characters;
- only ``http``/``https``; a missing scheme is read as ``https`` (users paste
  ``www.tiktok.com/...``), any other scheme (``javascript:``, ``data:``) is refused;
- no user info (``user@host``) and no port — both are ways to dress an arbitrary
  host up as a platform's;
- the host is lower-cased ASCII; IP literals, ``localhost`` and anything without a
  dot are refused as "other site" before a platform is even looked up; so are
  non-ASCII (IDN lookalike) hosts, since no platform host is one.
"""

from __future__ import annotations

import ipaddress
import re
from dataclasses import dataclass
from urllib.parse import parse_qs, urlsplit

from app.social.platforms.posts import PostUrlError

MAX_URL_LENGTH = 2048

_SCHEME = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*:")
_HOST = re.compile(r"^(?:[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$")


@dataclass(frozen=True)
class PostUrl:
    """A link that passed the common checks: lower-case host, raw path split into segments."""

    host: str
    segments: tuple[str, ...]
    query: dict[str, list[str]]

    def query_value(self, name: str) -> str | None:
        values = self.query.get(name)
        return values[0] if values and len(values) == 1 else None


def split_post_url(raw: object) -> PostUrl:
    if not isinstance(raw, str) or not raw.strip():
        raise PostUrlError("empty")
    text = raw.strip()
    if len(text) > MAX_URL_LENGTH:
        raise PostUrlError("too_long")
    if any(ch.isspace() or ord(ch) < 32 or ord(ch) == 127 for ch in text):
        raise PostUrlError("malformed")
    if text.startswith("//"):
        text = "https:" + text
    elif not _SCHEME.match(text) or _looks_like_host_and_port(text):
        text = "https://" + text
    try:
        parts = urlsplit(text)
        port = parts.port  # raises ValueError for a non-numeric or out-of-range port
    except ValueError as error:
        raise PostUrlError("malformed") from error
    if parts.scheme.lower() not in ("http", "https"):
        raise PostUrlError("scheme")
    if "@" in parts.netloc or port is not None or parts.netloc.endswith(":"):
        raise PostUrlError("malformed")
    host = parts.netloc.lower()
    if not host:
        raise PostUrlError("malformed")
    if not host.isascii() or _is_ip_literal(host) or not _HOST.match(host):
        raise PostUrlError("other_site")
    segments = tuple(segment for segment in parts.path.split("/") if segment)
    return PostUrl(host=host, segments=segments, query=parse_qs(parts.query, keep_blank_values=True))


def _looks_like_host_and_port(text: str) -> bool:
    # "tiktok.com:443/..." parses as scheme "tiktok.com"; a real scheme has no dot.
    scheme = text.split(":", 1)[0]
    return "." in scheme


def _is_ip_literal(host: str) -> bool:
    candidate = host[1:-1] if host.startswith("[") and host.endswith("]") else host
    try:
        ipaddress.ip_address(candidate)
    except ValueError:
        # Other numeric forms (0x7f.1, 2130706433) fail _HOST: a top-level label has letters only.
        return False
    return True
