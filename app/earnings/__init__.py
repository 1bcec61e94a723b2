"""Earnings: verified views -> money in the ledger, the hold window, clawbacks."""
