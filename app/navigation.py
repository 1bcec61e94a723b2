"""Role-aware navigation.

Invariant: each domain adds its own entries here when it ships a page, so the
menu never links to a page a role cannot open (a test walks every entry).
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class NavItem:
    label: str
    endpoint: str
    roles: frozenset[str]


NAV_ITEMS: tuple[NavItem, ...] = (
    NavItem("Campaigns", "campaigns.feed", frozenset({"clipper"})),
    NavItem("My posts", "posts.my_submissions", frozenset({"clipper"})),
    NavItem("Earnings", "earnings.mine", frozenset({"clipper"})),
    NavItem("Campaigns", "campaigns.brand_campaigns", frozenset({"brand"})),
    NavItem("New campaign", "campaigns.new_campaign", frozenset({"brand"})),
    NavItem("Posts", "posts.brand_submissions", frozenset({"brand"})),
    NavItem("Queue", "tracking.queue", frozenset({"admin"})),
    NavItem("Campaign review", "campaign_review.queue", frozenset({"admin"})),
    NavItem("Payouts", "payouts.index", frozenset({"support", "admin"})),
    NavItem("Profile", "profile.show", frozenset({"clipper", "brand", "admin", "support"})),
)


# Where each role lands after sign-in (and from /home).
ROLE_HOME = {
    "clipper": "campaigns.feed",
    "brand": "campaigns.brand_campaigns",
    "admin": "tracking.queue",
    "support": "payouts.index",
}


def items_for(role: str | None) -> list[NavItem]:
    if role is None:
        return []
    return [item for item in NAV_ITEMS if role in item.roles]
