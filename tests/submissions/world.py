"""Builds the world a submission needs — a brand, a funded published campaign, clippers
approved for it — through the real services (campaign lifecycle, offline funding,
automatic approval), and returns plain ids."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import timedelta
from types import SimpleNamespace

from app.db import utcnow
from app.social.platforms.registry import KEYS
from tests.factories import make_user

ALL_PLATFORMS = list(KEYS)


@dataclass
class World:
    brand: SimpleNamespace
    admin: SimpleNamespace
    campaign_id: int
    clippers: list[SimpleNamespace]


def _plain(user) -> SimpleNamespace:
    return SimpleNamespace(id=user.id, role=user.role, handle=user.handle, email=user.email,
                           session_token=user.session_token)


def live_campaign(brand_id: int, admin_id: int, *, platforms=None, title="Summer drop", auto_approve_hours=48,
                  hold_days=3, ends_in=timedelta(days=30)) -> int:
    from app.campaigns import service
    from app.payments import funding

    now = utcnow()
    campaign = service.create_campaign(
        brand_id, title=title, brief="Cut the best moments.", platforms=platforms or ALL_PLATFORMS,
        cpm_cents=250, budget_cents=100_000, starts_at=now + timedelta(minutes=5), ends_at=now + ends_in,
        hold_days=hold_days, auto_approve_hours=auto_approve_hours, approval_mode="automatic")
    funding.record_offline_funding(campaign.id, 100_000, f"wire-{campaign.id}", admin_id)
    service.submit_campaign(campaign.id, brand_id)
    service.approve_campaign(campaign.id, admin_id)
    return campaign.id


def approved_clipper(campaign_id: int, **extra) -> SimpleNamespace:
    from app.campaigns import applications

    clipper = make_user("clipper", **extra)
    applications.apply(campaign_id, clipper.id, "I cut fast, clean clips.")
    return _plain(clipper)


def build_world(app, *, clippers: int = 2, **campaign) -> World:
    with app.app_context():
        brand = make_user("brand")
        admin = make_user("admin")
        campaign_id = live_campaign(brand.id, admin.id, **campaign)
        people = [approved_clipper(campaign_id) for _ in range(clippers)]
        return World(_plain(brand), _plain(admin), campaign_id, people)


PAGE_FOR_ROLE = {"clipper": "/my/submissions", "brand": "/brand/submissions", "admin": "/admin/queue"}
_TOKEN = re.compile(r'"X-CSRFToken": "([^"]+)"')


def post(client, url: str, data: dict | None = None, *, role: str, partial: bool = True):
    """POST the way the page would: with the session's CSRF token (as htmx sends it in a header)."""
    from tests.factories import PARTIAL

    page = client.get(PAGE_FOR_ROLE[role]).get_data(as_text=True)
    token = _TOKEN.search(page).group(1)
    headers = {"X-CSRFToken": token, **(PARTIAL if partial else {})}
    return client.post(url, data=data or {}, headers=headers)
