"""Clip files for a submission: direct upload to storage, confirmation, duplicate check.

Invariants: only the post's clipper uploads, while the post is live (submitted,
revision requested or approved); keys are minted under ``submissions/<id>/clip``;
the clip is recorded only after ``storage.confirm_upload`` read the real object;
a new clip replaces the old one (the old object is deleted once the new one is
committed); recording a clip publishes ``ClipRecorded`` in its transaction (tracking's handler
runs the duplicate-clip check: same file hash under another clipper).
"""

from __future__ import annotations

from app import events
from app.audit import service as audit
from app.errors import ConflictError, NotFoundError
from app.extensions import db
from app.storage import UploadTicket, get_storage
from app.submissions.models import Submission
from app.submissions.service import LIVE_STATUSES

UPLOADABLE = LIVE_STATUSES  # submitted, approved, revision requested


def _own_live(submission_id: int, clipper_id: int) -> Submission:
    submission = db.session.get(Submission, submission_id)
    if submission is None or submission.clipper_id != clipper_id:
        raise NotFoundError("There is no such submission.")
    if submission.status not in UPLOADABLE:
        raise ConflictError("A clip can no longer be added to this post.")
    return submission


def clip_ticket(submission_id: int, clipper_id: int, *, filename: str, content_type: str,
                size_bytes: int | None) -> UploadTicket:
    submission = _own_live(submission_id, clipper_id)
    storage = get_storage()
    key = storage.new_key(submission.clip_prefix, filename)
    return storage.presign_upload(key, "video", content_type, size_bytes)


def record_clip(submission_id: int, clipper_id: int, *, key: str, filename: str,
                size_bytes: int | None) -> Submission:
    """Confirm the uploaded clip and record it on the post. Commits."""
    submission = _own_live(submission_id, clipper_id)
    storage = get_storage()
    stored = storage.confirm_upload(key, prefix=submission.clip_prefix, kind="video", expected_size=size_bytes)
    previous = submission.clip_key
    submission.clip_key, submission.clip_etag = stored.key, stored.etag.strip('"') or None
    submission.clip_size_bytes = stored.size_bytes
    submission.clip_filename = (filename or "").strip()[:255] or stored.key.rsplit("/", 1)[-1]
    db.session.flush()
    events.publish(events.ClipRecorded(submission.id))
    audit.record(clipper_id, "submission.clip_added", "submission", submission.id, size_bytes=stored.size_bytes)
    db.session.commit()
    if previous and previous != stored.key:
        storage.delete(previous)
    return submission
