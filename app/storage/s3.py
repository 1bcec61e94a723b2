"""S3 backend (boto3): the browser uploads straight to the bucket with a presigned POST.

Invariants:
- the POST policy pins the exact key, the exact ``Content-Type`` and a
  ``content-length-range`` of 1..declared size, and expires; S3 enforces it, and
  ``confirm_upload`` checks size and type again with ``head_object`` because not every
  S3-compatible server does (moto accepts any signature and ignores the range);
- download URLs are presigned GETs (signed locally, no request to S3) that override
  ``Content-Disposition`` to ``attachment``; S3 serves the stored type, which
  ``confirm_upload`` already checked against the kind's allowed types;
- with a custom endpoint (MinIO, moto) requests use path-style addressing, so the
  browser talks to exactly the endpoint's origin (the one the CSP allows).
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import urlsplit

import boto3
from botocore.config import Config
from botocore.exceptions import ClientError

from app.storage.base import ObjectHead, Storage, UploadKind, UploadTicket
from app.storage.keys import content_disposition

_MISSING_CODES = {"404", "NoSuchKey", "NotFound"}


def s3_upload_origins(config: Mapping[str, Any]) -> tuple[str, ...]:
    """Origins the browser POSTs uploads to (for the CSP), derived from settings only."""
    endpoint = config.get("S3_ENDPOINT_URL")
    if endpoint:
        parts = urlsplit(endpoint)
        return (f"{parts.scheme}://{parts.netloc}",)
    bucket = config.get("S3_BUCKET") or ""
    region = config.get("S3_REGION") or "us-east-1"
    return (f"https://{bucket}.s3.amazonaws.com", f"https://{bucket}.s3.{region}.amazonaws.com")


class S3Storage(Storage):
    backend_name = "s3"

    def __init__(self, config: Mapping[str, Any]):
        super().__init__(config)
        if not config.get("S3_BUCKET"):
            raise RuntimeError("STORAGE_BACKEND=s3 needs S3_BUCKET")
        self.bucket = config["S3_BUCKET"]
        endpoint = config.get("S3_ENDPOINT_URL") or None
        s3_options = {"addressing_style": "path"} if endpoint else {}
        # Credentials come from the standard AWS chain (env, profile, instance role).
        self.client = boto3.session.Session().client(
            "s3", region_name=config.get("S3_REGION") or "us-east-1", endpoint_url=endpoint,
            config=Config(signature_version="s3v4", s3=s3_options, retries={"max_attempts": 3, "mode": "standard"},
                          connect_timeout=5, read_timeout=30),
        )

    def _presign_upload(self, key: str, kind: UploadKind, content_type: str, size_bytes: int,
                        seconds: int) -> UploadTicket:
        post = self.client.generate_presigned_post(
            Bucket=self.bucket, Key=key,
            Fields={"Content-Type": content_type},
            Conditions=[{"Content-Type": content_type}, ["content-length-range", 1, size_bytes]],
            ExpiresIn=seconds,
        )
        return UploadTicket(
            url=post["url"], fields=dict(post["fields"]), key=key,
            expires_at=datetime.now(UTC) + timedelta(seconds=seconds), max_bytes=size_bytes,
        )

    def _presign_download(self, key: str, filename: str | None, seconds: int) -> str:
        params = {
            "Bucket": self.bucket, "Key": key,
            "ResponseContentDisposition": content_disposition(filename),
        }
        return self.client.generate_presigned_url("get_object", Params=params, ExpiresIn=seconds)

    def _head(self, key: str) -> ObjectHead | None:
        try:
            response = self.client.head_object(Bucket=self.bucket, Key=key)
        except ClientError as error:
            if str(error.response.get("Error", {}).get("Code")) in _MISSING_CODES:
                return None
            raise
        return ObjectHead(
            size_bytes=int(response["ContentLength"]),
            content_type=response.get("ContentType") or "",
            etag=(response.get("ETag") or "").strip('"'),
        )

    def _delete(self, key: str) -> None:
        self.client.delete_object(Bucket=self.bucket, Key=key)
