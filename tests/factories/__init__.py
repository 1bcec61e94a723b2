"""The one set of test builders: users, funded live campaigns, approved posts, counts and
money, all made through the real services (the rows a test starts from are rows the
application itself could have made). ``feed`` is the exception: set-based SQL seeding of
thousands of campaigns for the feed tests and the feed benchmark.

Invariants: each app service is called in ONE place in this package (so a renamed or moved
service is fixed in one line); everything returned is committed; worlds, posts and users
come back as plain values (ids, ``SimpleNamespace``), never ORM objects, unless a function
says otherwise (``make_user``)."""

from tests.factories.campaigns import (
    ALL_PLATFORMS,
    World,
    approved_clipper,
    build_world,
    campaign_values,
    create_draft,
    create_published,
    fund_campaign,
    live_campaign,
    world_terms,
)
from tests.factories.money import fund_clipper, fund_escrow, manual_clipper, stripe_clipper
from tests.factories.posts import TT, approved_post, pending_count, submitted_post, tiktok_url, verified_count
from tests.factories.users import HOMES, PARTIAL, PASSWORD, make_user, new_user, plain

__all__ = [
    "ALL_PLATFORMS", "approved_clipper", "approved_post", "build_world", "campaign_values", "create_draft",
    "create_published", "fund_campaign", "fund_clipper", "fund_escrow", "HOMES", "live_campaign", "make_user",
    "manual_clipper", "new_user", "PARTIAL", "PASSWORD", "pending_count", "plain", "stripe_clipper",
    "submitted_post", "tiktok_url", "TT", "verified_count", "World", "world_terms",
]
