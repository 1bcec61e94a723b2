"""The double-entry ledger (no routes).

``app.ledger.service`` is its only writer (``post``, ``post_many``, ``reverse``) and
its reading API (``get_account``, ``balance``, ``check_integrity``); see
``app.ledger.models`` for the sign convention and the invariants the database keeps.
"""
