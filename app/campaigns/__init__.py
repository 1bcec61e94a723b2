"""Campaigns: brief, budget, lifecycle, assets, browse, applications.

Modules: ``models`` (rows), ``rules`` (field validation), ``service`` (create, edit,
lifecycle), ``escrow`` (funded and due amounts, from the ledger), ``applications``, ``assets``,
``browse`` (the feed's keyset query), routes in ``routes`` (public + clipper),
``brand_routes``; ``change_requests`` (CPM/budget changes on a live campaign, re-reviewed)
with its brand pages in ``change_routes``. The admin review pages span campaigns and
payments, so they are ``app/admin/campaign_review``.
"""
