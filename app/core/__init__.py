"""Core pages every role shares: landing, home, health, readiness, metrics."""
