"""Object keys and file names: what may be stored where, and under which name.

Invariants:
- every key this app mints has the shape ``<prefix>/<32 hex>/<safe name>``; a key
  of any other shape is refused before it reaches a backend, so a key can never
  climb out of its prefix (``..``, absolute paths, backslashes, percent-encoding,
  control or non-ASCII characters all fail the one strict pattern);
- a safe name is ASCII letters, digits, ``.``, ``_`` and ``-``, never starts with a
  dot, never contains ``..``, keeps the original extension and is at most
  ``MAX_NAME_LENGTH`` characters — whatever the user's file was called;
- ``content_disposition`` always says ``attachment`` and carries the user's name
  only as a quoted ASCII fallback plus an RFC 6266 / 5987 ``filename*``.
"""

from __future__ import annotations

import re
import unicodedata
import uuid
from urllib.parse import quote

from app.errors import ValidationError

MAX_NAME_LENGTH = 100
MAX_EXTENSION_LENGTH = 10
MAX_PREFIX_LENGTH = 200

_PREFIX = re.compile(r"[a-z0-9][a-z0-9_-]*(?:/[a-z0-9][a-z0-9_-]*)*")
_SAFE_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_-]*(?:\.[A-Za-z0-9_-]+)*")
_KEY_TAIL = re.compile(r"/[0-9a-f]{32}/(?P<name>[A-Za-z0-9][A-Za-z0-9._-]*)")
_NOT_SLUG = re.compile(r"[^A-Za-z0-9]+")
_NOT_ALNUM = re.compile(r"[^a-z0-9]")
_HEADER_UNSAFE = re.compile(r'["\\\x00-\x1f\x7f]')


def check_prefix(prefix: str) -> str:
    """Return ``prefix`` (like ``campaigns/42/assets``) or refuse it."""
    if not isinstance(prefix, str) or len(prefix) > MAX_PREFIX_LENGTH or not _PREFIX.fullmatch(prefix):
        raise ValidationError("That storage location is not valid.", field="key")
    return prefix


def sanitise_filename(filename: str | None) -> str:
    """An ASCII slug of ``filename`` that keeps its extension (``Mon clip été.MP4`` ->
    ``Mon-clip-ete.mp4``); ``file`` when nothing usable is left."""
    text = filename if isinstance(filename, str) else ""
    # Browsers on Windows may send a whole path; only the last part is the name.
    text = text.replace("\\", "/").rsplit("/", 1)[-1]
    text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode("ascii")
    stem, dot, extension = text.rpartition(".")
    if not dot:
        stem, extension = text, ""
    extension = _NOT_ALNUM.sub("", extension.lower())[:MAX_EXTENSION_LENGTH]
    stem = _NOT_SLUG.sub("-", stem).strip("-") or "file"
    suffix = f".{extension}" if extension else ""
    stem = stem[: MAX_NAME_LENGTH - len(suffix)].rstrip("-") or "file"
    return stem + suffix


def make_key(prefix: str, filename: str | None) -> str:
    return f"{check_prefix(prefix)}/{uuid.uuid4().hex}/{sanitise_filename(filename)}"


def is_safe_key(key: object) -> bool:
    """True if ``key`` has the shape ``make_key`` produces (under any valid prefix)."""
    if not isinstance(key, str) or len(key) > MAX_PREFIX_LENGTH + 34 + MAX_NAME_LENGTH:
        return False
    head, _, _ = key.rpartition("/")
    prefix, _, _ = head.rpartition("/")
    return bool(_PREFIX.fullmatch(prefix)) and _tail_is_safe(key[len(prefix):])


def _tail_is_safe(tail: str) -> bool:
    match = _KEY_TAIL.fullmatch(tail)
    if not match:
        return False
    name = match.group("name")
    return len(name) <= MAX_NAME_LENGTH and bool(_SAFE_NAME.fullmatch(name))


def check_key(key: object) -> str:
    if not is_safe_key(key):
        raise ValidationError("That file reference is not valid.", field="key")
    assert isinstance(key, str)
    return key


def check_key_under(key: object, prefix: str) -> str:
    """Return ``key`` if it was minted under exactly ``prefix``, else refuse it."""
    check_prefix(prefix)
    if not isinstance(key, str) or not key.startswith(prefix + "/") or not is_safe_key(key):
        raise ValidationError("That file does not belong here.", field="key")
    if not _tail_is_safe(key[len(prefix):]):
        # e.g. prefix "campaigns/4" and a key under "campaigns/4/other/<hex>/x".
        raise ValidationError("That file does not belong here.", field="key")
    return key


def content_disposition(filename: str | None) -> str:
    """``attachment`` with a safe quoted ASCII name and, if needed, ``filename*``."""
    text = filename if isinstance(filename, str) and filename.strip() else "download"
    text = text[: MAX_NAME_LENGTH * 2]
    # A display name, not a path: slashes are characters to replace, not to split on.
    ascii_name = _HEADER_UNSAFE.sub("", sanitise_filename(text.replace("/", "-").replace("\\", "-")))
    value = f'attachment; filename="{ascii_name}"'
    if text != ascii_name:
        cleaned = _HEADER_UNSAFE.sub("", text)
        value += "; filename*=UTF-8''" + quote(cleaned, safe="")
    return value
