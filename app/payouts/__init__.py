"""Payout batches, Stripe transfers, manual mark-paid."""
