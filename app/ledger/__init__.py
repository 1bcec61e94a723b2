"""The double-entry ledger (no routes). ``app.ledger.service.post`` is its only writer;
see ``app.ledger.models`` for the sign convention and the invariants."""
