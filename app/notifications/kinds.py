"""The one registry of notification kinds: each kind is declared once, with its text.

Invariants:
- ``REGISTRY`` is the only list of kinds; ``notify`` refuses a name that is not in it
  (``UnknownKindError``, a ``ValueError``), so a typo fails in the caller's tests, not
  in a user's bell; the database does not list kinds (no CHECK since migration 0010),
  so adding a kind is one ``Kind(...)`` line here (plus the ``notify`` call that sends it);
- a kind is never removed or renamed while rows of it may exist: stored notifications
  are rendered from their kind's text at read time;
- ``text`` is a ``str.format`` template over the notification's ``data``; ``title``,
  ``reason`` and ``handle`` default to "" (``render``); the result is plain text that
  Jinja autoescapes, never trusted as HTML.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Kind:
    name: str
    text: str  # str.format template over the notification's data


REGISTRY: tuple[Kind, ...] = (
    Kind("campaign_approved", "Your campaign “{title}” was approved and is live."),
    Kind("campaign_changes_requested", "Changes requested on “{title}”: {reason}"),
    Kind("campaign_discarded", "Your campaign “{title}” was discarded: {reason}"),
    Kind("application_received", "New application from @{handle} for “{title}”."),
    Kind("application_approved", "You are in: your application to “{title}” was approved."),
    Kind("application_rejected", "Your application to “{title}” was not accepted."),
    Kind("application_removed", "You were removed from “{title}”: {reason}"),
    Kind("submission_received", "New post from @{handle} for “{title}” to review."),
    Kind("submission_approved", "Your post for “{title}” was approved."),
    Kind("submission_rejected", "Your post for “{title}” was rejected: {reason}"),
    Kind("submission_revision_requested", "Changes requested on your post for “{title}”: {reason}"),
    Kind("submission_removed", "Your post for “{title}” was removed: {reason}"),
    Kind("dispute_opened", "The brand disputes the views of your post for “{title}”: {reason}"),
    Kind("dispute_resolved", "The view dispute on a post for “{title}” was resolved: {reason}"),
    Kind("social_account_expired", "Your {platform} connection expired. Reconnect it so your views are checked "
                                   "automatically; until then they are checked by hand."),
    Kind("campaign_change_approved", "Your change to “{title}” was approved: {terms}."),
    Kind("campaign_change_rejected", "Your change to “{title}” was not approved: {reason}"),
    Kind("campaign_budget_exhausted",
         "The budget of “{title}” is spent, so the campaign is paused. Add funds to resume it."),
)

BY_NAME: dict[str, Kind] = {kind.name: kind for kind in REGISTRY}
assert len(BY_NAME) == len(REGISTRY), "kind names are unique"
KINDS: tuple[str, ...] = tuple(BY_NAME)


class UnknownKindError(ValueError):
    """``notify`` was called with a kind that is not declared in ``REGISTRY``."""


def get(name: str) -> Kind:
    kind = BY_NAME.get(name)
    if kind is None:
        raise UnknownKindError(f"unknown notification kind {name!r}: declare it in app/notifications/kinds.py "
                               f"(known: {', '.join(KINDS)})")
    return kind


def render(name: str, data: dict | None) -> str:
    """The notification's text from its stored ``data``."""
    values = {"title": "", "reason": "", "handle": "", **(data or {})}
    return get(name).text.format(**values)
