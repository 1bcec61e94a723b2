"""Domain events: how a lower domain causes an effect in a higher one without importing it.

A lower domain (tracking, submissions) publishes a small frozen dataclass; the handlers
that higher domains (earnings, tracking) registered for that type run at once, in the
publisher's transaction, in the order of the table. The one table is ``EVENT_HANDLERS``
in ``app/__init__.py`` (``create_app`` wires it): read it to learn what follows from what,
e.g. "a verified count becomes money".

Invariants:
- ``publish`` runs every handler synchronously inside the caller's transaction and never
  commits: if a handler raises, the publisher's whole change rolls back with it (a count
  is never verified without its earnings, a post never removed without its reversal);
- events carry IDs and plain values, never ORM objects or sessions;
- this module imports no domain: it sits in the base layer beside ledger and audit.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

from flask import Flask, current_app

_EXTENSION_KEY = "contentflow_event_handlers"


@dataclass(frozen=True)
class SubmissionSubmitted:
    """A clipper submitted a post link (the row exists, uncommitted): tracking starts."""

    submission_id: int
    clipper_id: int
    platform: str


@dataclass(frozen=True)
class SnapshotVerified:
    """A view count became verified (by an admin, the API check or a dispute's correction)."""

    snapshot_id: int


@dataclass(frozen=True)
class SubmissionRemoved:
    """An approved post was taken out (fraud or policy): what it earned goes back."""

    submission_id: int


@dataclass(frozen=True)
class ClipRecorded:
    """A clipper's clip file was recorded on a post (uncommitted): tracking checks for duplicates."""

    submission_id: int


Event = SubmissionSubmitted | SnapshotVerified | SubmissionRemoved | ClipRecorded
Handler = Callable[[Event], None]


def wire(app: Flask, table: Mapping[type, Sequence[Handler]]) -> None:
    """Install the handler table for ``app`` (``create_app`` calls this once)."""
    unknown = [kind for kind in table if kind not in Event.__args__]
    if unknown:
        raise ValueError(f"not a domain event: {unknown!r}")
    app.extensions[_EXTENSION_KEY] = {kind: tuple(handlers) for kind, handlers in table.items()}


def handlers_for(kind: type) -> tuple[Handler, ...]:
    return current_app.extensions[_EXTENSION_KEY].get(kind, ())


def publish(event: Event) -> None:
    """Run the handlers of ``event``'s type now, in the caller's transaction."""
    for handler in handlers_for(type(event)):
        handler(event)
