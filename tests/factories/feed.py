"""Set-based seeding of many published campaigns (PostgreSQL), for the feed tests and
bench/bench_feed.py: one INSERT ... SELECT over generate_series for the campaigns and one
for their escrow accounts. The escrow balances are written straight into the ledger's
account rows without postings (100,000 postings would cost ~10 s): fine for reading the
feed, but ``ledger.service.check_integrity`` would flag these rows.

Shape of campaign ``g`` (1-based): status paused when ``g % 10 == 0`` else published;
platforms mask ``1 + g % 15``; CPM ``100 + (g * 37) % 900`` cents; ends ``(g % 60) - 5``
days from now (some have ended); published ``g // 3`` seconds after ``base`` (ties of three
share a timestamp, so the id must break them); escrow 0 when ``g % 11 == 0``; titles carry
"summer" when ``g % 7 == 0``.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import text

CAMPAIGNS_SQL = text("""
INSERT INTO campaigns (brand_id, status, title, brief, platforms_mask, requirements, currency, cpm_cents,
                       budget_cents, min_views_per_post, hold_days, auto_approve_hours, approval_mode,
                       starts_at, ends_at, published_at, created_at, updated_at)
SELECT :brand_id,
       CASE WHEN g % 10 = 0 THEN 'paused' ELSE 'published' END,
       'Campaign ' || g || CASE WHEN g % 7 = 0 THEN ' summer' ELSE '' END,
       'Brief number ' || g || CASE WHEN g % 13 = 0 THEN ' with 100% effort_' ELSE '' END,
       1 + g % 15, '', 'USD', 100 + (g * 37) % 900, 1000000, 0, 3, 48, 'manual',
       :now - interval '10 days', :now + ((g % 60) - 5) * interval '1 day',
       :base + (g / 3) * interval '1 second', :now, :now
FROM generate_series(1, :count) AS g
""")

ESCROW_SQL = text("""
INSERT INTO ledger_accounts (owner_type, owner_id, purpose, currency, balance_cents, may_go_negative, created_at)
SELECT 'campaign', c.id, 'campaign_escrow', 'USD',
       CASE WHEN c.id % 11 = 0 THEN 0 ELSE 1000000 - (c.id * 13) % 900000 END, false, :now
FROM campaigns AS c WHERE c.brand_id = :brand_id
""")


def seed_campaigns(connection, brand_id: int, count: int, now: datetime) -> None:
    """Insert ``count`` campaigns for ``brand_id`` and their escrow accounts (two statements)."""
    base = now - timedelta(days=30)
    # Seeding only: skip the per-row foreign-key triggers (they cost about a third of the
    # insert). The rows are built to be valid; needs a superuser, as the test cluster is.
    connection.execute(text("SET LOCAL session_replication_role = replica"))
    connection.execute(CAMPAIGNS_SQL, {"brand_id": brand_id, "count": count, "now": now, "base": base})
    connection.execute(ESCROW_SQL, {"brand_id": brand_id, "now": now})
    connection.execute(text("SET LOCAL session_replication_role = origin"))
    connection.execute(text("ANALYZE campaigns"))
    connection.execute(text("ANALYZE ledger_accounts"))
