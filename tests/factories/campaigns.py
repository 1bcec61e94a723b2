"""Campaigns and the people around them, built through the real services: create (draft)
-> offline funding -> submit -> approve, and clippers who apply to an automatic-approval
campaign. Each app service is called in exactly one place here, so a renamed service is
fixed in one line.

Invariants: every campaign these functions return is committed and was made by the same
service calls a brand and an admin would trigger; a live campaign holds its whole budget in
escrow (submitting needs it); ``World`` holds only plain values (ids, ``SimpleNamespace``
users), never ORM objects."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta
from types import SimpleNamespace
from typing import Any

from app.campaigns import applications
from app.campaigns import service as campaigns
from app.db import utcnow
from app.payments import funding as campaign_funding
from app.social.platforms.registry import KEYS
from tests.factories.users import make_user, plain, within

ALL_PLATFORMS = list(KEYS)
PITCH = "I cut fast, clean clips."


def campaign_values(**overrides) -> dict:
    """Complete, valid values for every field of the campaign form (a manual-approval campaign
    that started yesterday)."""
    now = utcnow()
    values = dict(
        title="Summer drop", brief="Cut three clips\nfrom the launch video.", platforms=["tiktok", "x"],
        requirements="#ad @brand", destination_url=None, currency="USD", cpm_cents=250, budget_cents=500_000,
        min_views_per_post=1000, max_payout_per_post_cents=None, max_earnings_per_clipper_cents=None,
        max_participants=None, starts_at=now - timedelta(days=1), ends_at=now + timedelta(days=30),
        hold_days=3, auto_approve_hours=48, approval_mode="manual",
    )
    values.update(overrides)
    return values


def world_terms(*, ends_in: timedelta = timedelta(days=30), **overrides) -> dict:
    """The terms of a world's campaign: automatic approval of clippers, a $1,000 budget at a
    $2.50 CPM on every platform, starting in five minutes."""
    now = utcnow()
    values: dict[str, Any] = dict(
        title="Summer drop", brief="Cut the best moments.", platforms=ALL_PLATFORMS, cpm_cents=250,
        budget_cents=100_000, starts_at=now + timedelta(minutes=5), ends_at=now + ends_in, hold_days=3,
        auto_approve_hours=48, approval_mode="automatic",
    )
    values.update(overrides)
    return values


def draft_campaign(brand_id: int, values: dict) -> int:
    """A committed draft with exactly ``values``."""
    return campaigns.create_campaign(brand_id, **values).id


def create_draft(brand_id: int, **overrides) -> int:
    """A draft with complete form values (``campaign_values``)."""
    return draft_campaign(brand_id, campaign_values(**overrides))


def fund_campaign(campaign_id: int, admin_id: int, amount_cents: int | None = None,
                  reference: str | None = None) -> int:
    """Record an offline (wire) payment into the campaign's escrow; the escrow afterwards.
    Defaults: the whole budget, the reference ``wire-<campaign id>``."""
    if amount_cents is None:
        amount_cents = campaigns.own_campaign_for_staff(campaign_id).budget_cents
    return campaign_funding.record_offline_funding(campaign_id, amount_cents, reference or f"wire-{campaign_id}",
                                                   admin_id)


def go_live(campaign_id: int, brand_id: int, admin_id: int) -> int:
    """Fund a draft's whole budget, submit it and approve it: it is published."""
    fund_campaign(campaign_id, admin_id)
    campaigns.submit_campaign(campaign_id, brand_id)
    campaigns.approve_campaign(campaign_id, admin_id)
    return campaign_id


def create_published(brand_id: int, admin_id: int, **overrides) -> int:
    """A funded, published campaign with complete form values (``campaign_values``)."""
    return go_live(create_draft(brand_id, **overrides), brand_id, admin_id)


def live_campaign(brand_id: int, admin_id: int, **terms) -> int:
    """A funded live campaign on ``world_terms(**terms)`` (automatic approval of clippers)."""
    return go_live(draft_campaign(brand_id, world_terms(**terms)), brand_id, admin_id)


def join(campaign_id: int, clipper) -> SimpleNamespace:
    """``clipper`` applies (approved at once on an automatic-approval campaign); plain values."""
    applications.apply(campaign_id, clipper.id, PITCH)
    return plain(clipper)


def approved_clipper(campaign_id: int, **extra) -> SimpleNamespace:
    """A new clipper approved for an automatic-approval campaign."""
    return join(campaign_id, make_user("clipper", **extra))


@dataclass
class World:
    """A brand, an admin, their funded live campaign and clippers approved for it. ``app``: the
    app whose fresh context each factory call uses (None: the caller's context)."""

    brand: SimpleNamespace
    admin: SimpleNamespace
    campaign_id: int
    clippers: list[SimpleNamespace] = field(default_factory=list)
    app: Any = field(default=None, repr=False, compare=False)


def build_world(app=None, *, clippers: int = 1, brand=None, admin=None, clipper_users=(), **terms) -> World:
    """A funded live campaign (``world_terms(**terms)``) with ``clippers`` new approved clippers
    (or ``clipper_users``). With ``app``, built in a fresh context of it, and so are the posts
    and counts later made for this world; without, in the caller's context."""
    with within(app):
        brand = brand or make_user("brand")
        admin = admin or make_user("admin")
        campaign_id = live_campaign(brand.id, admin.id, **terms)
        people = [join(campaign_id, clipper)
                  for clipper in list(clipper_users) or [make_user("clipper") for _ in range(clippers)]]
        return World(plain(brand), plain(admin), campaign_id, people, app)
