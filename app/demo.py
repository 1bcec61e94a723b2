"""Demo data for ``flask seed`` (``make run``): two brands' campaigns in different states,
the demo clipper's applications, a post with a verified view count, and a pending
CPM/budget change, so a newcomer signs in to a living product.

Invariants: everything is made through the domain services (the same checks, audit
events and ledger postings as real use — never raw inserts); building is idempotent:
a campaign is recognised by its brand and title, an application by campaign and
clipper, a post by campaign and clipper, so a second run creates nothing; offline
funding uses a fixed reference per campaign (the ledger's idempotency key would
refuse to add it twice anyway); ``build_demo_world`` returns one line per thing it
created, and an empty list when everything was already there.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta

from app.db import utcnow


@dataclass(frozen=True)
class DemoCampaign:
    brand: int  # index into the brand ids given to build_demo_world
    title: str
    brief: str
    state: str  # draft | pending_review | published
    cpm_cents: int
    budget_cents: int
    platforms: tuple[str, ...] = ("tiktok", "youtube_shorts", "instagram_reels")
    requirements: str = "#ad and tag the brand in the caption."
    approval_mode: str = "manual"
    clipper: str | None = None  # None | applied | approved | posted (approved + a verified count)
    change_cpm_cents: int | None = None  # a pending change request on the live campaign
    extra: dict = field(default_factory=dict)


DEMO_CAMPAIGNS = (
    DemoCampaign(0, "Summer sneaker drop", "Cut 15–30 s clips from the launch film: the unboxing, the first run, "
                 "the colour reveal. Hook in the first second.", "published", 300, 500_000, clipper="posted"),
    DemoCampaign(0, "Studio headphones launch", "Show the noise cancelling: a loud street, then silence. "
                 "Vertical only.", "published", 250, 300_000, clipper="applied"),
    DemoCampaign(0, "Back-to-school bundle", "Three products, one backpack. Draft: still working on the footage.",
                 "draft", 200, 150_000),
    DemoCampaign(1, "Spicy chips challenge", "Film the first bite reaction. Use the raw footage pack for b-roll.",
                 "published", 400, 800_000, platforms=("tiktok", "instagram_reels", "x"), clipper="approved",
                 change_cpm_cents=450),
    DemoCampaign(1, "Protein bar taste test", "Blind taste test against two rivals; the brand wins on texture.",
                 "pending_review", 350, 250_000),
    DemoCampaign(1, "Holiday gift guide", "Five gifts under $30, one clip each. Automatic approval: just apply.",
                 "published", 150, 200_000, approval_mode="automatic"),
)
DEMO_POST_URL = "https://www.tiktok.com/@casey.clips/video/7301234567890000001"
DEMO_POST_VIEWS = 48_200
PITCH = "I post daily sneaker and tech edits to 40k followers; I will cut three variations."


def _own_campaign_titled(brand_id: int, title: str):
    from app.campaigns import service

    return next((c for c in service.brand_campaigns(brand_id) if c.title == title), None)


def _create_campaign(spec: DemoCampaign, brand_id: int, admin_id: int, lines: list[str]) -> int:
    from app.campaigns import service
    from app.payments import funding

    now = utcnow().replace(hour=0, minute=0, second=0, microsecond=0)
    campaign = service.create_campaign(
        brand_id, title=spec.title, brief=spec.brief, platforms=list(spec.platforms), requirements=spec.requirements,
        currency="USD", cpm_cents=spec.cpm_cents, budget_cents=spec.budget_cents, min_views_per_post=1000,
        starts_at=now - timedelta(days=2), ends_at=now + timedelta(days=45), hold_days=3, auto_approve_hours=48,
        approval_mode=spec.approval_mode, **spec.extra)
    if spec.state != "draft":
        funding.record_offline_funding(campaign.id, spec.budget_cents, f"DEMO-WIRE-{campaign.id}", admin_id)
        service.submit_campaign(campaign.id, brand_id)
    if spec.state == "published":
        service.approve_campaign(campaign.id, admin_id)
    lines.append(f"campaign “{spec.title}” ({spec.state.replace('_', ' ')}"
                 f"{', funded offline' if spec.state != 'draft' else ''})")
    return campaign.id


def _clipper_activity(spec: DemoCampaign, campaign_id: int, brand_id: int, clipper_id: int, admin_id: int,
                      lines: list[str]) -> None:
    from app.campaigns import applications
    from app.submissions import service as submissions

    application = applications.application_of(campaign_id, clipper_id)
    if application is None:
        application = applications.apply(campaign_id, clipper_id, PITCH)
        lines.append(f"application to “{spec.title}”")
    if spec.clipper in ("approved", "posted") and application.status == "applied":
        applications.approve_application(application.id, brand_id)
        lines.append(f"application to “{spec.title}” approved")
    if spec.clipper == "posted" and not submissions.submissions_of(clipper_id, campaign_id):
        submission = submissions.submit_post(campaign_id, clipper_id, DEMO_POST_URL)
        _verified_count(submission.id, admin_id)
        lines.append(f"post on “{spec.title}” with {DEMO_POST_VIEWS:,} verified views")


def _verified_count(submission_id: int, admin_id: int) -> None:
    from app.extensions import db
    from app.tracking import snapshots

    snapshot = snapshots.record(submission_id, DEMO_POST_VIEWS, likes=3_100, comments=140, source="platform_api",
                                recorded_by_id=admin_id)
    db.session.commit()
    snapshots.verify(snapshot.id, admin_id)


def build_demo_world(brand_ids: list[int], clipper_id: int, admin_id: int) -> list[str]:
    """Create whatever part of the demo world is missing; one line per thing created. Commits."""
    from app.campaigns import change_requests

    lines: list[str] = []
    for spec in DEMO_CAMPAIGNS:
        brand_id = brand_ids[spec.brand]
        existing = _own_campaign_titled(brand_id, spec.title)
        campaign_id = existing.id if existing else _create_campaign(spec, brand_id, admin_id, lines)
        if spec.clipper:
            _clipper_activity(spec, campaign_id, brand_id, clipper_id, admin_id, lines)
        if spec.change_cpm_cents and existing is None:
            change_requests.request_change(campaign_id, brand_id, cpm_cents=spec.change_cpm_cents,
                                           reason="Competing campaigns pay more this month.")
            lines.append(f"pending CPM change on “{spec.title}”")
    return lines
