"""Submissions: clippers' post links and clip files for a campaign, and the brand's content review."""
