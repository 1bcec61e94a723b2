"""Audit trail: who did what to which subject, when and why (DESIGN rule 3)."""
