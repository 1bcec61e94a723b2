"""The double-entry ledger (no routes).

``app.ledger.service`` is its only writer (``post``, ``post_many``, ``reverse``) and
its own reading API (``get_account``, ``balance``, ``check_integrity``);
``app.ledger.reading`` is what other domains read (balances, escrow columns for their
queries, account locks in the ledger's order) — no code outside this package queries
the ledger models. See
``app.ledger.models`` for the sign convention and the invariants the database keeps.
"""
