"""View snapshots, the verification queue, scheduled checks, fraud signals."""
