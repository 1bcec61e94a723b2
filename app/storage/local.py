"""Local-disk backend for embedded mode: same contract as S3, served by the app itself.

Invariants:
- objects live under ``<UPLOAD_DIR>/objects/<key>`` and their metadata (content type,
  MD5 etag) under ``<UPLOAD_DIR>/meta/<key>.json``; only keys of the minted shape reach
  the disk, and every path is checked to resolve inside its root;
- an upload or download URL carries a token signed with ``SECRET_KEY`` (its own salt
  per purpose) naming one key, the allowed content type, the declared size and an
  expiry; the token is the only authority (like an S3 signature), so a tampered token
  is refused (403) and an expired one is refused (410) before any byte is read;
- an upload is written to a temporary file while counting bytes and only moved into
  place when complete, non-empty and within the declared size — like S3's policy, a
  refused upload leaves nothing behind; the metadata is written before the object, so
  an object never exists without its type.

Links are built with ``url_for`` and are relative (``/storage/...``): call the presign
methods inside a request, or set SERVER_NAME for jobs that need links.
"""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
import time
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import IO, Any

from flask import url_for
from itsdangerous import BadSignature, URLSafeSerializer

from app.errors import DomainError, PermissionDeniedError, ValidationError
from app.storage.base import ObjectHead, Storage, UploadKind, UploadTicket, human_size, normalise_content_type
from app.storage.keys import check_key

CHUNK_BYTES = 1024 * 1024
UPLOAD_SALT = "contentflow.storage.upload"
DOWNLOAD_SALT = "contentflow.storage.download"


class LinkExpiredError(DomainError):
    status_code = 410
    title = "Link expired"


class UploadTooLargeError(DomainError):
    status_code = 413
    title = "Too large"


@dataclass(frozen=True)
class UploadGrant:
    key: str
    kind: str
    content_type: str
    max_bytes: int


@dataclass(frozen=True)
class DownloadGrant:
    key: str
    filename: str | None


class LocalStorage(Storage):
    backend_name = "local"

    def __init__(self, config: Mapping[str, Any]):
        super().__init__(config)
        root = Path(config["UPLOAD_DIR"]).resolve()
        self.objects_root = root / "objects"
        self.meta_root = root / "meta"
        self.tmp_root = root / "tmp"
        self._upload_tokens = URLSafeSerializer(config["SECRET_KEY"], salt=UPLOAD_SALT)
        self._download_tokens = URLSafeSerializer(config["SECRET_KEY"], salt=DOWNLOAD_SALT)

    # --- tokens ---------------------------------------------------------------------------

    def _presign_upload(self, key: str, kind: UploadKind, content_type: str, size_bytes: int,
                        seconds: int) -> UploadTicket:
        expires = time.time() + seconds
        token = self._upload_tokens.dumps(
            {"k": key, "t": kind.name, "c": content_type, "m": size_bytes, "e": round(expires, 3)}
        )
        return UploadTicket(
            url=url_for("storage.local_upload", token=token), fields={"Content-Type": content_type},
            key=key, expires_at=datetime.fromtimestamp(expires, UTC), max_bytes=size_bytes,
        )

    def _presign_download(self, key: str, filename: str | None, seconds: int) -> str:
        token = self._download_tokens.dumps({"k": key, "n": filename, "e": round(time.time() + seconds, 3)})
        return url_for("storage.local_download", token=token)

    @staticmethod
    def _read_token(serializer: URLSafeSerializer, token: str) -> dict:
        try:
            data = serializer.loads(token)
        except BadSignature:
            raise PermissionDeniedError("This link is not valid.") from None
        if not isinstance(data, dict) or not isinstance(data.get("e"), int | float):
            raise PermissionDeniedError("This link is not valid.")
        if time.time() > data["e"]:
            raise LinkExpiredError("This link has expired. Go back and try again.")
        return data

    def read_upload_grant(self, token: str) -> UploadGrant:
        data = self._read_token(self._upload_tokens, token)
        return UploadGrant(key=check_key(data["k"]), kind=data["t"], content_type=data["c"], max_bytes=int(data["m"]))

    def read_download_grant(self, token: str) -> DownloadGrant:
        data = self._read_token(self._download_tokens, token)
        return DownloadGrant(key=check_key(data["k"]), filename=data.get("n"))

    # --- receiving an upload ---------------------------------------------------------------

    def store_upload(self, grant: UploadGrant, declared_content_type: str | None, stream: IO[bytes]) -> None:
        """Write ``stream`` to ``grant.key`` if it keeps the grant's type and size rules."""
        if normalise_content_type(declared_content_type) != grant.content_type:
            # S3 refuses a POST whose Content-Type field breaks the policy; so do we.
            raise PermissionDeniedError("The upload does not match its ticket (content type).")
        self.tmp_root.mkdir(parents=True, exist_ok=True)
        md5 = hashlib.md5(usedforsecurity=False)
        size = 0
        handle, tmp_name = tempfile.mkstemp(dir=self.tmp_root, prefix="upload-")
        tmp_path = Path(tmp_name)
        try:
            with os.fdopen(handle, "wb") as out:
                while chunk := stream.read(CHUNK_BYTES):
                    size += len(chunk)
                    if size > grant.max_bytes:
                        raise UploadTooLargeError(
                            f"The file is larger than announced (at most {human_size(grant.max_bytes)}).")
                    md5.update(chunk)
                    out.write(chunk)
            if size == 0:
                raise ValidationError("The file is empty.", field="file")
            self._write_meta(grant.key, {"content_type": grant.content_type, "etag": md5.hexdigest()})
            target = self._path(self.objects_root, grant.key)
            target.parent.mkdir(parents=True, exist_ok=True)
            os.replace(tmp_path, target)
        finally:
            tmp_path.unlink(missing_ok=True)

    def _write_meta(self, key: str, meta: dict) -> None:
        path = self._path(self.meta_root, key, ".json")
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(path.name + ".tmp")
        tmp.write_text(json.dumps(meta))
        os.replace(tmp, path)

    # --- primitives ----------------------------------------------------------------------------

    def _path(self, root: Path, key: str, suffix: str = "") -> Path:
        path = (root / (check_key(key) + suffix)).resolve()
        if not path.is_relative_to(root):
            raise ValidationError("That file reference is not valid.", field="key")
        return path

    def object_path(self, key: str) -> Path:
        return self._path(self.objects_root, key)

    def _head(self, key: str) -> ObjectHead | None:
        try:
            size = self._path(self.objects_root, key).stat().st_size
        except FileNotFoundError:
            return None
        try:
            meta = json.loads(self._path(self.meta_root, key, ".json").read_text())
        except (FileNotFoundError, ValueError):
            meta = {}
        return ObjectHead(size_bytes=size, content_type=str(meta.get("content_type") or ""),
                          etag=str(meta.get("etag") or ""))

    def _delete(self, key: str) -> None:
        self._path(self.objects_root, key).unlink(missing_ok=True)
        self._path(self.meta_root, key, ".json").unlink(missing_ok=True)
