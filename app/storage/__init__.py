"""Object storage for media: S3 (presigned POST/GET via boto3) or local disk (embedded).

Invariants:
- one ``Storage`` per app (``get_storage()``, kept in ``app.extensions``), chosen by
  STORAGE_BACKEND; both backends keep the same contract (``app.storage.base``);
- the browser sends file bytes straight to storage with a short-lived ticket; the app
  believes an upload only after ``confirm_upload`` has read the stored object's real
  size and type, and the caller records the asset row only after that returns;
- keys are minted by ``new_key`` under a caller-chosen prefix (``campaigns/42/assets``)
  and a key outside the caller's prefix is refused (``app.storage.keys``);
- downloads are short-lived signed URLs that always answer as an attachment.

Typical use by a service::

    storage = get_storage()
    key = storage.new_key(f"campaigns/{campaign.id}/assets", filename)
    ticket = storage.presign_upload(key, "video", content_type, size_bytes)   # -> browser
    ...
    stored = storage.confirm_upload(key, prefix=f"campaigns/{campaign.id}/assets", kind="video")
    # record the asset row from ``stored`` (key, size_bytes, content_type, etag), commit
    url = storage.presign_download(asset.key, asset.original_filename)
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from flask import current_app

from app.storage.base import ObjectHead, Storage, StoredObject, UploadKind, UploadTicket, upload_kinds
from app.storage.keys import content_disposition, sanitise_filename

__all__ = [
    "ObjectHead", "Storage", "StoredObject", "UploadKind", "UploadTicket", "content_disposition", "create_storage",
    "get_storage", "sanitise_filename", "upload_kinds", "upload_origins",
]

EXTENSION_KEY = "contentflow.storage"


def create_storage(config: Mapping[str, Any]) -> Storage:
    backend = config.get("STORAGE_BACKEND") or "local"
    if backend == "s3":
        from app.storage.s3 import S3Storage

        return S3Storage(config)
    if backend == "local":
        from app.storage.local import LocalStorage

        return LocalStorage(config)
    raise RuntimeError(f"STORAGE_BACKEND must be 'local' or 's3', not {backend!r}")


def get_storage() -> Storage:
    """The app's storage backend, built on first use."""
    storage = current_app.extensions.get(EXTENSION_KEY)
    if storage is None:
        storage = current_app.extensions[EXTENSION_KEY] = create_storage(current_app.config)
    return storage


def upload_origins(config: Mapping[str, Any]) -> tuple[str, ...]:
    """Other origins the browser must be allowed to POST uploads to (CSP connect-src/form-action)."""
    if config.get("STORAGE_BACKEND") == "s3":
        from app.storage.s3 import s3_upload_origins

        return s3_upload_origins(config)
    return ()
