"""The storage contract both backends keep, and the checks they share.

Invariants:
- ``presign_upload`` hands out a ticket only for a known kind, one of that kind's
  content types and a declared size in ``1..kind.max_bytes``; the ticket binds the
  key, the content type and the declared size (``max_bytes``) and expires;
- ``confirm_upload`` is the only door to "this upload is real": it refuses a key not
  minted under the caller's prefix without touching storage, and it reads the
  object's real size and type from storage (never from the client). An object that
  exists but breaks a rule (empty, too large, not the expected size, a type the kind
  does not allow) is deleted before the refusal, so no junk is kept;
- nothing here writes to the database: the caller records the asset after
  ``confirm_upload`` returns.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from app.errors import ValidationError
from app.storage.keys import check_key, check_key_under, make_key

MIB = 1024 * 1024


@dataclass(frozen=True)
class UploadKind:
    name: str
    max_bytes: int
    content_types: tuple[str, ...]
    label: str


@dataclass(frozen=True)
class UploadTicket:
    """What the browser needs to send one file: POST ``fields`` + ``file`` to ``url``."""

    url: str
    fields: dict[str, str]
    key: str
    expires_at: datetime
    max_bytes: int

    def as_json(self) -> dict[str, Any]:
        return {
            "url": self.url, "fields": self.fields, "key": self.key,
            "expires_at": self.expires_at.isoformat(), "max_bytes": self.max_bytes,
        }


@dataclass(frozen=True)
class StoredObject:
    key: str
    size_bytes: int
    content_type: str
    etag: str


@dataclass(frozen=True)
class ObjectHead:
    """What a backend reports about a stored object (backends return ``None`` for a missing one)."""

    size_bytes: int
    content_type: str
    etag: str


def upload_kinds(config: Mapping[str, Any]) -> dict[str, UploadKind]:
    return {
        "video": UploadKind("video", int(config["UPLOAD_MAX_VIDEO_BYTES"]),
                            ("video/mp4", "video/quicktime", "video/webm"), "video"),
        "image": UploadKind("image", int(config["UPLOAD_MAX_IMAGE_BYTES"]),
                            ("image/png", "image/jpeg", "image/webp"), "image"),
        "document": UploadKind("document", int(config["UPLOAD_MAX_DOCUMENT_BYTES"]),
                               ("application/pdf",), "PDF document"),
    }


def human_size(size_bytes: int) -> str:
    for unit, factor in (("GiB", 1024 * MIB), ("MiB", MIB), ("KiB", 1024)):
        if size_bytes >= factor:
            value = size_bytes / factor
            return f"{value:.0f} {unit}" if value == int(value) else f"{value:.1f} {unit}"
    return f"{size_bytes} bytes"


def normalise_content_type(content_type: object) -> str:
    if not isinstance(content_type, str):
        return ""
    return content_type.split(";", 1)[0].strip().lower()


class Storage:
    """Base of both backends. Subclasses implement the ``_``-prefixed primitives."""

    backend_name = "base"

    def __init__(self, config: Mapping[str, Any]):
        self.kinds = upload_kinds(config)
        self.upload_expires_seconds = int(config["UPLOAD_URL_EXPIRES_SECONDS"])
        self.download_expires_seconds = int(config["DOWNLOAD_URL_EXPIRES_SECONDS"])

    # --- public API -----------------------------------------------------------------

    def new_key(self, prefix: str, filename: str | None) -> str:
        """``<prefix>/<uuid4 hex>/<sanitised filename>``, e.g. under ``campaigns/42/assets``."""
        return make_key(prefix, filename)

    def kind(self, name: str) -> UploadKind:
        kind = self.kinds.get(name) if isinstance(name, str) else None
        if kind is None:
            raise ValidationError("That kind of file cannot be uploaded here.", field="file")
        return kind

    def presign_upload(self, key: str, kind: str, content_type: str, size_bytes: int,
                       *, expires_in: int | None = None) -> UploadTicket:
        upload_kind = self.kind(kind)
        check_key(key)
        content_type = self.check_upload_request(upload_kind, content_type, size_bytes)
        seconds = self._expiry(expires_in, self.upload_expires_seconds)
        return self._presign_upload(key, upload_kind, content_type, size_bytes, seconds)

    def check_upload_request(self, kind: UploadKind, content_type: object, size_bytes: object) -> str:
        """Return the normalised content type, or refuse the declared file."""
        normalised = normalise_content_type(content_type)
        if normalised not in kind.content_types:
            allowed = ", ".join(kind.content_types)
            raise ValidationError(f"This {kind.label} type is not accepted. Use one of: {allowed}.", field="file")
        if isinstance(size_bytes, bool) or not isinstance(size_bytes, int):
            raise ValidationError("The file size is missing or not a number.", field="file")
        if size_bytes <= 0:
            raise ValidationError("The file is empty.", field="file")
        if size_bytes > kind.max_bytes:
            raise ValidationError(
                f"The file is too large: a {kind.label} may be at most {human_size(kind.max_bytes)}.", field="file",
            )
        return normalised

    def confirm_upload(self, key: str, *, prefix: str, kind: str,
                       expected_size: int | None = None) -> StoredObject:
        """Check the stored object against the rules; return it, or delete it and refuse."""
        check_key_under(key, prefix)
        upload_kind = self.kind(kind)
        head = self._head(key)
        if head is None:
            raise ValidationError("The upload did not arrive. Please upload the file again.", field="file")
        problem = self._problem_with(head, upload_kind, expected_size)
        if problem:
            self._delete(key)
            raise ValidationError(problem, field="file")
        return StoredObject(key=key, size_bytes=head.size_bytes,
                            content_type=normalise_content_type(head.content_type), etag=head.etag)

    def presign_download(self, key: str, filename: str | None, expires: int | None = None) -> str:
        """A short-lived URL that downloads ``key`` as an attachment named ``filename``."""
        check_key(key)
        seconds = self._expiry(expires, self.download_expires_seconds)
        return self._presign_download(key, filename, seconds)

    def delete(self, key: str) -> None:
        self._delete(check_key(key))

    def head(self, key: str) -> ObjectHead | None:
        """Size, type and etag of a stored object, or ``None`` if there is none."""
        return self._head(check_key(key))

    def exists(self, key: str) -> bool:
        return self.head(key) is not None

    # --- shared rules -------------------------------------------------------------------

    @staticmethod
    def _problem_with(head: ObjectHead, kind: UploadKind, expected_size: int | None) -> str | None:
        if head.size_bytes <= 0:
            return "The uploaded file is empty."
        if head.size_bytes > kind.max_bytes:
            return f"The uploaded file is too large: a {kind.label} may be at most {human_size(kind.max_bytes)}."
        if expected_size is not None and head.size_bytes != expected_size:
            return "The uploaded file is not the file that was announced. Please upload it again."
        if normalise_content_type(head.content_type) not in kind.content_types:
            return f"The uploaded file is not an accepted {kind.label} type."
        return None

    @staticmethod
    def _expiry(requested: int | None, default: int) -> int:
        seconds = default if requested is None else requested
        if isinstance(seconds, bool) or not isinstance(seconds, int) or not 1 <= seconds <= 7 * 24 * 3600:
            raise ValueError(f"link lifetime must be 1 s .. 7 days, got {seconds!r}")
        return seconds

    # --- backend primitives -------------------------------------------------------------

    def _presign_upload(self, key: str, kind: UploadKind, content_type: str, size_bytes: int,
                        seconds: int) -> UploadTicket:
        raise NotImplementedError

    def _presign_download(self, key: str, filename: str | None, seconds: int) -> str:
        raise NotImplementedError

    def _head(self, key: str) -> ObjectHead | None:
        raise NotImplementedError

    def _delete(self, key: str) -> None:
        raise NotImplementedError
