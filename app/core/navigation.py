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
    NavItem("Home", "core.dashboard", frozenset({"clipper", "brand", "admin", "support"})),
)


def items_for(role: str | None) -> list[NavItem]:
    if role is None:
        return []
    return [item for item in NAV_ITEMS if role in item.roles]
