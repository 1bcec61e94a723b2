"""Campaigns: brief, budget, lifecycle, browse, applications."""
