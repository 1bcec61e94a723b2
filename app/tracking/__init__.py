"""Tracking: view snapshots, the admin verification queue, scheduled platform checks, fraud signals."""
