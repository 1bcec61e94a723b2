"""The clipper feed: published campaigns with budget left, filtered, keyset-paged.

Invariants:
- the feed shows a campaign only if it is published, has not ended, and its escrow
  (the ledger balance, read in the same statement) is above zero;
- pages are cut by keyset, never OFFSET: the cursor carries the last card's sort key
  and id, and the next page is everything strictly after it in the order
  ``(published_at, id) DESC`` (newest) or ``(cpm_cents, id) DESC`` (CPM); the id
  breaks ties, so paging has no duplicates or gaps, also while campaigns are
  published meanwhile (new ones sort before any cursor already handed out);
- a cursor is opaque text tied to its sort order; a malformed or mismatched cursor
  is a ``ValidationError``, never a 500;
- filters combine with AND: platform bit, minimum CPM, text search in title and
  brief (``%`` and ``_`` in the search are literal).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy import and_, or_, select, tuple_

from app.campaigns.models import PLATFORMS, Campaign, platforms_from_mask
from app.db import utcnow
from app.errors import ValidationError
from app.ledger import reading as ledger_reading

PAGE_SIZE = 20
MAX_PAGE_SIZE = 100
MAX_QUERY_LENGTH = 100
SORTS = ("newest", "cpm")
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_CURSOR = re.compile(r"(?P<sort>[nc])\.(?P<key>-?[0-9]{1,20})\.(?P<id>[0-9]{1,19})")


@dataclass(frozen=True)
class FeedFilters:
    platform: str | None = None
    min_cpm_cents: int | None = None
    query: str | None = None
    sort: str = "newest"

    def __post_init__(self):
        if self.platform is not None and self.platform not in PLATFORMS:
            raise ValidationError(f"Unknown platform {str(self.platform)[:30]!r}.", field="platform")
        if self.sort not in SORTS:
            raise ValidationError("Sort by newest or by CPM.", field="sort")
        if self.query is not None and len(self.query) > MAX_QUERY_LENGTH:
            raise ValidationError(f"Search for at most {MAX_QUERY_LENGTH} characters.", field="q")
        if self.min_cpm_cents is not None and self.min_cpm_cents < 0:
            raise ValidationError("The minimum CPM cannot be negative.", field="min_cpm")


@dataclass(frozen=True)
class FeedCard:
    id: int
    title: str
    cpm_cents: int
    currency: str
    budget_cents: int
    escrow_cents: int
    platforms: list[str]
    ends_at: datetime
    published_at: datetime

    @property
    def budget_left_percent(self) -> int:
        return max(0, min(100, self.escrow_cents * 100 // self.budget_cents)) if self.budget_cents else 0

    def days_left(self, now: datetime | None = None) -> int:
        return max(0, (self.ends_at - (now or utcnow())).days)


@dataclass(frozen=True)
class FeedPage:
    cards: list[FeedCard]
    next_cursor: str | None


def _micros(moment: datetime) -> int:
    delta = moment - _EPOCH
    return (delta.days * 86400 + delta.seconds) * 1_000_000 + delta.microseconds


def encode_cursor(sort: str, card: FeedCard) -> str:
    if sort == "cpm":
        return f"c.{card.cpm_cents}.{card.id}"
    return f"n.{_micros(card.published_at)}.{card.id}"


def decode_cursor(sort: str, cursor: str) -> tuple:
    match = _CURSOR.fullmatch(cursor) if isinstance(cursor, str) else None
    if not match or match["sort"] != sort[0]:
        raise ValidationError("That page link is not valid any more; start from the first page.", field="cursor")
    key, last_id = int(match["key"]), int(match["id"])
    if sort == "newest":
        return _EPOCH + timedelta(microseconds=key), last_id
    return key, last_id


def _escape_like(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def feed_query(filters: FeedFilters, cursor: str | None = None, limit: int = PAGE_SIZE,
               now: datetime | None = None):
    """The SELECT for one feed page (``limit`` + 1 rows, to know whether more follow)."""
    escrow = ledger_reading.escrow_accounts()
    query = (
        select(Campaign.id, Campaign.title, Campaign.cpm_cents, Campaign.currency, Campaign.budget_cents,
               escrow.c.balance_cents.label("escrow_cents"), Campaign.platforms_mask, Campaign.ends_at,
               Campaign.published_at)
        .join(escrow, and_(escrow.c.owner_id == Campaign.id, escrow.c.currency == Campaign.currency))
        .where(Campaign.status == "published", Campaign.ends_at > (now or utcnow()),
               escrow.c.balance_cents > 0)
    )
    if filters.platform:
        query = query.where(Campaign.platforms_mask.op("&")(PLATFORMS[filters.platform]) != 0)
    if filters.min_cpm_cents:
        query = query.where(Campaign.cpm_cents >= filters.min_cpm_cents)
    if filters.query and filters.query.strip():
        pattern = f"%{_escape_like(filters.query.strip())}%"
        query = query.where(or_(Campaign.title.ilike(pattern, escape="\\"),
                                Campaign.brief.ilike(pattern, escape="\\")))
    sort_column = Campaign.cpm_cents if filters.sort == "cpm" else Campaign.published_at
    if cursor:
        key, last_id = decode_cursor(filters.sort, cursor)
        query = query.where(tuple_(sort_column, Campaign.id) < tuple_(key, last_id))
    return query.order_by(sort_column.desc(), Campaign.id.desc()).limit(limit + 1)


def feed_page(filters: FeedFilters, cursor: str | None = None, limit: int = PAGE_SIZE,
              now: datetime | None = None) -> FeedPage:
    from app.extensions import db

    limit = max(1, min(limit, MAX_PAGE_SIZE))
    rows = db.session.execute(feed_query(filters, cursor, limit, now)).all()
    cards = [FeedCard(id=r.id, title=r.title, cpm_cents=r.cpm_cents, currency=r.currency,
                      budget_cents=r.budget_cents, escrow_cents=r.escrow_cents,
                      platforms=platforms_from_mask(r.platforms_mask), ends_at=r.ends_at,
                      published_at=r.published_at) for r in rows[:limit]]
    more = len(rows) > limit
    return FeedPage(cards, encode_cursor(filters.sort, cards[-1]) if more and cards else None)
