"""Posts and view counts, built through the real services: a clipper submits a post link and
the brand approves it (submissions service); a count is recorded as the platform check does,
and verified as bulk verification does (tracking snapshots). Each app service is called in
exactly one place here.

Invariants: every post and count is committed before its id is returned; automatic post
links never repeat within a run (and never collide with the ``n``-numbered ones)."""

from __future__ import annotations

import itertools

from app.extensions import db
from app.submissions import service as submissions
from app.tracking import snapshots
from tests.factories.campaigns import World
from tests.factories.users import within

TT = "https://www.tiktok.com/@clipqueen/video/{}"
NUMBERED = 7301234567890123456  # TikTok post ``n`` is NUMBERED + n
_automatic = itertools.count(7302000000000000000)


def tiktok_url(n: int | None = None) -> str:
    """TikTok post ``n``, or (None) one never handed out before in this run."""
    return TT.format(NUMBERED + n if n is not None else next(_automatic))


def submitted_post(world: World, clipper_index: int = 0, *, n: int | None = None, url: str | None = None) -> int:
    """Clipper ``clipper_index`` submits ``url`` (default: a TikTok link, see ``tiktok_url``);
    the id of the submission, pending the brand's review."""
    with within(world.app):
        return _submit(world, clipper_index, n, url)


def _submit(world: World, clipper_index: int, n: int | None, url: str | None) -> int:
    clipper = world.clippers[clipper_index]
    return submissions.submit_post(world.campaign_id, clipper.id, url or tiktok_url(n)).id


def approved_post(world: World, clipper_index: int = 0, *, n: int | None = None, url: str | None = None) -> int:
    """A post submitted as ``submitted_post`` does, approved by the brand; the submission id."""
    with within(world.app):
        submission_id = _submit(world, clipper_index, n, url)
        submissions.review_submission(submission_id, world.brand.id, "approve")
        return submission_id


def pending_count(submission_id: int, views: int, *, source: str = "platform_api", app=None, **details) -> int:
    """A pending count (as a platform check records it; ``details``: slot, likes, comments, now,
    ...); the snapshot id. In a fresh context of ``app``, or the caller's."""
    with within(app):
        snapshot = snapshots.record(submission_id, views, source=source, **details)
        db.session.commit()
        return snapshot.id


def verified_count(submission_id: int, views: int, *, now=None, app=None) -> int:
    """A platform count, recorded and verified (as bulk verification does); the snapshot id."""
    with within(app):
        snapshot_id = pending_count(submission_id, views, now=now)
        snapshots.decide(snapshot_id, "verified", admin_id=None, claim=False, now=now)
        db.session.commit()
        return snapshot_id
