"""The local-disk backend's signed upload and download URLs (embedded mode only).

Invariants: both routes answer 404 unless STORAGE_BACKEND is ``local``; the signed
token in the URL is the only authority (CSRF-exempt on purpose: it names one key, one
type and one size and expires within minutes); the request body limit is raised for
the upload route alone, to the ticket's declared size plus form overhead; downloads
are always attachments with ``nosniff`` and are never cached.
"""

from __future__ import annotations

from flask import Blueprint, abort, request, send_file

from app.errors import ValidationError
from app.extensions import csrf
from app.storage import get_storage
from app.storage.keys import content_disposition
from app.storage.local import LocalStorage

bp = Blueprint("storage", __name__, url_prefix="/storage")

# Multipart framing and the small text fields around the file.
FORM_OVERHEAD_BYTES = 64 * 1024


def _local_storage() -> LocalStorage:
    storage = get_storage()
    if not isinstance(storage, LocalStorage):
        abort(404)
    return storage


@bp.post("/upload/<token>")
@csrf.exempt
def local_upload(token: str):
    storage = _local_storage()
    grant = storage.read_upload_grant(token)
    request.max_content_length = grant.max_bytes + FORM_OVERHEAD_BYTES
    upload = request.files.get("file")
    if upload is None:
        raise ValidationError("No file was sent.", field="file")
    storage.store_upload(grant, request.form.get("Content-Type"), upload.stream)
    return "", 204


@bp.get("/download/<token>")
def local_download(token: str):
    storage = _local_storage()
    grant = storage.read_download_grant(token)
    head = storage.head(grant.key)
    if head is None:
        abort(404)
    response = send_file(
        storage.object_path(grant.key), mimetype=head.content_type or "application/octet-stream",
        conditional=True, etag=head.etag or True, max_age=0,
    )
    response.headers["Content-Disposition"] = content_disposition(grant.filename or grant.key.rsplit("/", 1)[-1])
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Cache-Control"] = "private, no-store"
    return response
