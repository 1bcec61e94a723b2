"""Screenshot evidence for a count: direct upload under ``submissions/<id>/evidence``.

Invariants: only the post's clipper or an admin gets a ticket or confirms; images only
(the storage ``image`` kind); a confirmed key is not recorded here — the snapshot that
cites it stores it, after ``snapshots`` checked the object exists under the prefix;
evidence is shown only to staff (a short-lived download link).
"""

from __future__ import annotations

from app.errors import NotFoundError
from app.storage import UploadTicket, get_storage
from app.submissions import service as submissions
from app.tracking.snapshots import evidence_prefix


def _allowed(submission_id: int, user) -> None:
    submission = submissions.get(submission_id)
    if user.role == "admin" or (user.role == "clipper" and submission.clipper_id == user.id):
        return
    raise NotFoundError("There is no such submission.")


def evidence_ticket(submission_id: int, user, *, filename: str, content_type: str,
                    size_bytes: int | None) -> UploadTicket:
    _allowed(submission_id, user)
    storage = get_storage()
    key = storage.new_key(evidence_prefix(submission_id), filename)
    return storage.presign_upload(key, "image", content_type, size_bytes)


def confirm_evidence(submission_id: int, user, *, key: str, size_bytes: int | None) -> str:
    _allowed(submission_id, user)
    return get_storage().confirm_upload(key, prefix=evidence_prefix(submission_id), kind="image",
                                        expected_size=size_bytes).key


def evidence_url(key: str) -> str:
    return get_storage().presign_download(key, "evidence" + key[key.rfind("."):] if "." in key else "evidence")
