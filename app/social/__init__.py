"""Social: the clipper's accounts on TikTok, YouTube, Instagram and X.

Invariants: the server never fetches a URL a user submitted — post links are
parsed into (platform, post id) by ``social.platforms`` and metrics come only
from the platforms' official APIs at fixed hosts; tokens and API keys are never
logged.
"""
