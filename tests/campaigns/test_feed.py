"""The clipper feed over 100,000 seeded campaigns: keyset pages have no duplicates and
no gaps while new campaigns are being published, a page deep in the list is exactly the
next slice, and filters combine — all checked against an independent oracle computed in
Python from the raw rows."""

from __future__ import annotations

import threading
import time

import pytest
from sqlalchemy import select, text

from app.campaigns import browse
from app.campaigns.models import PLATFORMS, Campaign
from app.db import utcnow
from tests.factories import PARTIAL, make_user
from tests.factories.feed import seed_campaigns

COUNT = 100_000


@pytest.fixture
def seeded(db, people):
    now = utcnow()
    started = time.perf_counter()
    with db.engine.begin() as connection:
        seed_campaigns(connection, people.brand.id, COUNT, now)
    seconds = time.perf_counter() - started
    assert seconds < 20, f"seeding took {seconds:.1f} s"
    return now


def all_rows(db) -> list[tuple]:
    """(id, status, searchable text, mask, cpm, ends_at, published_at, escrow) for every campaign."""
    result = db.session.execute(text("""
        SELECT c.id, c.status, c.title, c.brief, c.platforms_mask, c.cpm_cents, c.ends_at, c.published_at,
               a.balance_cents
        FROM campaigns c JOIN ledger_accounts a
          ON a.owner_type = 'campaign' AND a.owner_id = c.id AND a.purpose = 'campaign_escrow'
    """))
    return [(r.id, r.status, (r.title + "\n" + r.brief).lower(), r.platforms_mask, r.cpm_cents, r.ends_at,
             r.published_at, r.balance_cents) for r in result]


def oracle(rows, now, *, platform=None, min_cpm=None, query=None, sort="newest") -> list[int]:
    """Every matching id in feed order, computed in Python from all rows."""
    needle = query.lower() if query else None
    bit = PLATFORMS[platform] if platform else None
    matching = [r for r in rows
                if r[1] == "published" and r[5] > now and r[7] > 0
                and (bit is None or r[3] & bit)
                and (min_cpm is None or r[4] >= min_cpm)
                and (needle is None or needle in r[2])]
    key = (lambda r: (r[4], r[0])) if sort == "cpm" else (lambda r: (r[6], r[0]))
    return [r[0] for r in sorted(matching, key=key, reverse=True)]


def walk(filters, now, limit, between_pages=None) -> list[int]:
    seen, cursor = [], None
    while True:
        page = browse.feed_page(filters, cursor, limit=limit, now=now)
        seen.extend(card.id for card in page.cards)
        if between_pages:
            between_pages()
        if not page.next_cursor:
            return seen
        cursor = page.next_cursor


class Publisher(threading.Thread):
    """Publishes matching campaigns (newest, and at every CPM) while the walk runs.
    ``wait_for_more`` lets the walk wait until one more is committed (no sleep timing)."""

    def __init__(self, app, brand_id, now):
        super().__init__(daemon=True)
        self.app, self.brand_id, self.now = app, brand_id, now
        self.stop, self.ids = threading.Event(), []
        self.published = threading.Condition()

    def wait_for_more(self, timeout: float = 10) -> None:
        with self.published:
            seen = len(self.ids)
            self.published.wait_for(lambda: len(self.ids) > seen or not self.is_alive(), timeout=timeout)

    def run(self):
        from app.extensions import db

        n = 0
        with self.app.app_context():
            while not self.stop.is_set():
                n += 1
                with db.engine.begin() as connection:
                    new_id = connection.execute(text("""
                        INSERT INTO campaigns (brand_id, status, title, brief, platforms_mask, requirements,
                            currency, cpm_cents, budget_cents, min_views_per_post, hold_days, auto_approve_hours,
                            approval_mode, starts_at, ends_at, published_at, created_at, updated_at)
                        VALUES (:brand, 'published', 'Fresh summer ' || :n, '', 15, '', 'USD', :cpm, 1000000, 0, 3,
                                48, 'manual', :now, :ends, now(), :now, :now) RETURNING id"""),
                        {"brand": self.brand_id, "n": n, "cpm": 500 + (n * 97) % 500, "now": self.now,
                         "ends": self.now + (self.now - self.now.replace(year=self.now.year - 1))}).scalar()
                    connection.execute(text("""
                        INSERT INTO ledger_accounts (owner_type, owner_id, purpose, currency, balance_cents,
                            may_go_negative, created_at)
                        VALUES ('campaign', :id, 'campaign_escrow', 'USD', 5000, false, :now)"""),
                        {"id": new_id, "now": self.now})
                with self.published:
                    self.ids.append(new_id)
                    self.published.notify_all()
                time.sleep(0.002)


def test_keyset_pages_have_no_duplicates_or_gaps_while_campaigns_are_published(app, db, people, seeded):
    rows = all_rows(db)
    for sort in ("newest", "cpm"):
        walk_while_publishing(app, db, people, seeded, rows, sort)


def walk_while_publishing(app, db, people, now, rows, sort):
    filters = browse.FeedFilters(platform="tiktok", min_cpm_cents=500, query="summer", sort=sort)
    expected = oracle(rows, now, platform="tiktok", min_cpm=500, query="summer", sort=sort)
    assert 2000 < len(expected) < 5000  # a few dozen pages

    publisher = Publisher(app, people.brand.id, now)
    publisher.start()
    try:
        pages = {"n": 0}

        def pause():  # the publisher commits at least one more campaign between pages, however loaded the machine
            pages["n"] += 1
            publisher.wait_for_more()

        seen = walk(filters, now, limit=100, between_pages=pause)
    finally:
        publisher.stop.set()
        publisher.join(timeout=10)
    assert len(publisher.ids) > 10, "nothing was published during the walk"
    assert len(seen) == len(set(seen)), f"{sort}: a campaign was shown twice"
    expected_set = set(expected)
    original = [campaign_id for campaign_id in seen if campaign_id in expected_set]
    assert original == expected, f"{sort}: a campaign was skipped or shown out of order"
    newest_seeded = max(row[0] for row in rows)
    assert all(extra > newest_seeded for extra in set(seen) - expected_set), "a non-matching campaign showed up"
    if sort == "newest":  # only page 1 can show new campaigns: later ones sort before every cursor
        first_original = seen.index(expected[0])
        assert all(seen.index(extra) < first_original for extra in set(seen) - set(expected))


def test_a_deep_page_is_exactly_the_next_slice_filters_combine_and_the_page_loads_more(app, db, seeded):
    now = seeded
    rows = all_rows(db)
    everything = oracle(rows, now)
    assert len(everything) > 60_000
    # Page N+1 from a cursor deep in the list (built from the oracle's row 50,000).
    row = db.session.execute(select(Campaign.id, Campaign.published_at).where(Campaign.id == everything[49_999])).one()
    cursor = f"n.{browse._micros(row.published_at)}.{row.id}"
    page = browse.feed_page(browse.FeedFilters(), cursor, limit=20, now=now)
    assert [card.id for card in page.cards] == everything[50_000:50_020]

    combos = [
        dict(platform="x"), dict(min_cpm=900), dict(query="SUMMER"), dict(platform="youtube_shorts", min_cpm=750),
        dict(platform="instagram_reels", query="summer", min_cpm=300), dict(query="100%"), dict(query="effort_"),
        dict(query="no such campaign"),
    ]
    for combo in combos:
        for sort in ("newest", "cpm"):
            filters = browse.FeedFilters(platform=combo.get("platform"), min_cpm_cents=combo.get("min_cpm"),
                                         query=combo.get("query"), sort=sort)
            got = [card.id for card in browse.feed_page(filters, limit=50, now=now).cards]
            assert got == oracle(rows, now, **combo, sort=sort)[:50], (combo, sort)
    # "%" and "_" are literal: "100%" matches only the briefs that say "100%".
    assert len(oracle(rows, now, query="100%")) == len(oracle(rows, now, query="effort_")) > 0
    feed_over_http_with_load_more(app)


def feed_over_http_with_load_more(app):
    client = app.test_client()
    started = time.perf_counter()
    first = client.get("/campaigns?platform=tiktok&sort=cpm")
    elapsed = time.perf_counter() - started
    assert first.status_code == 200 and elapsed < 2
    html = first.get_data(as_text=True)
    assert html.count('class="card campaign-card"') == browse.PAGE_SIZE
    assert "% budget left" in html and "days left" in html and "TikTok" in html
    more = html.split('class="load-more"')[1].split('href="')[1].split('"')[0].replace("&amp;", "&")
    assert "cursor=c." in more and "platform=tiktok" in more
    fragment = client.get(more, headers=PARTIAL).get_data(as_text=True)
    assert "<html" not in fragment and fragment.count('class="card campaign-card"') == browse.PAGE_SIZE
    first_ids = set(html.split('data-campaign-id="')[1:])
    assert not first_ids & set(fragment.split('data-campaign-id="')[1:])


def test_bad_feed_input_is_a_clear_422(app, db):
    client = app.test_client()
    for query, message in (("platform=myspace", "Unknown platform"), ("min_cpm=-3", "cannot be negative"),
                           ("sort=random", "Sort by newest"), ("cursor=n.1.2&sort=cpm", "not valid any more"),
                           ("cursor=%27%3B--", "not valid any more"), ("q=" + "a" * 200, "at most 100")):
        response = client.get(f"/campaigns?{query}")
        assert response.status_code == 422, query
        assert message in response.get_data(as_text=True), query


def test_the_feed_hides_drafts_ended_unfunded_and_paused(db, people):
    from tests.factories import create_draft, create_published, fund_campaign

    live = create_published(people.brand.id, people.admin.id, title="Live")
    create_draft(people.brand.id, title="Draft")
    paused = create_published(people.brand.id, people.admin.id, title="Paused")
    from app.campaigns import service

    service.pause_campaign(paused, people.brand.id)
    unfunded_draft = create_draft(people.brand.id)
    fund_campaign(unfunded_draft, people.admin.id, 100)
    make_user("clipper")
    ids = [card.id for card in browse.feed_page(browse.FeedFilters()).cards]
    assert ids == [live]
    later = utcnow().replace(year=utcnow().year + 1)
    assert browse.feed_page(browse.FeedFilters(), now=later).cards == []  # ended by then
