"""The one registry of platforms: every other module reads the platform list from here.

Invariants:
- ``REGISTRY`` is the one tuple of platforms, in display order; its order is also the
  order of the keys in the database CHECK constraints (``platform IN (...)``) and of
  the campaign bit set (bit ``1 << index``), so a new platform is appended at the end,
  never inserted (the constraints' SQL text of the existing platforms stays the same);
- each entry is pure data (key, label, the dotted path of its client module, whether
  its API is called with the clipper's own token, its OAuth settings); nothing here
  imports a platform module, so the shared value types (``posts``, ``base``) can read
  labels from here without an import circle. ``platforms.client(key)`` loads the module;
- a client module exposes ``PLATFORM`` (= its key), ``HOSTS``, ``SHORT_LINK_HOSTS``,
  ``POST_ID``, ``BATCH_SIZE``, ``parse()``, ``require_credentials()``, ``fetch_batch()``
  and ``oauth_account()`` (the provider's userinfo answer -> (user id, handle), or
  None when the sign-in has no account on the platform).

Adding a platform (5 files): its client module, one ``Platform(...)`` line below, a
migration for the CHECK constraints (``platform IN``, ``platforms_mask <``), and its fakes
in the tests (``tests/platforms/fake_platforms.py``, ``tests/social/oauth_provider.py``).
Its OAuth client is read from ``<PREFIX>_CLIENT_ID`` / ``_CLIENT_SECRET`` by ``app/config.py``
for any prefix, with no line there.
"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class OAuthSpec:
    """How a clipper connects the platform (OAuth 2.0 authorization code + PKCE)."""

    settings_prefix: str  # <PREFIX>_CLIENT_ID / <PREFIX>_CLIENT_SECRET in the app config
    urls: dict[str, str]  # authorize, token, userinfo (+ exchange, refresh for refresh_by_access_token)
    scope: str
    userinfo_params: dict[str, str] = field(default_factory=dict)
    authorize_params: dict[str, str] = field(default_factory=dict)
    client_auth_method: str = "client_secret_post"  # or "client_secret_basic", "client_key_in_body"
    client_id_param: str = "client_id"  # the authorize URL's name for the client id (TikTok: client_key)
    token_wrapped_in_data: bool = False  # the code exchange answers {"data": [token]} (Instagram)
    refresh_by_access_token: bool = False  # long-lived token via exchange/refresh endpoints (Instagram)
    no_account_message: str = "That account has no profile on this platform."


@dataclass(frozen=True)
class Platform:
    key: str
    label: str  # the format, as campaigns and posts name it ("YouTube Shorts")
    site: str  # the site, as a pasted link's error names it ("YouTube")
    client: str  # dotted path of the client module (URL parser + metrics)
    user_token: bool  # metrics are read with the clipper's own OAuth token (else an app-wide API key)
    oauth: OAuthSpec


REGISTRY: tuple[Platform, ...] = (
    Platform("tiktok", "TikTok", "TikTok", "app.social.platforms.tiktok", user_token=True, oauth=OAuthSpec(
        "TIKTOK",
        {"authorize": "https://www.tiktok.com/v2/auth/authorize/",
         "token": "https://open.tiktokapis.com/v2/oauth/token/",
         "userinfo": "https://open.tiktokapis.com/v2/user/info/"},
        scope="user.info.basic,user.info.profile,video.list",  # TikTok: comma separated
        userinfo_params={"fields": "open_id,username,display_name"},
        client_auth_method="client_key_in_body", client_id_param="client_key")),
    Platform("youtube_shorts", "YouTube Shorts", "YouTube", "app.social.platforms.youtube", user_token=False,
             oauth=OAuthSpec(
        "YOUTUBE",
        {"authorize": "https://accounts.google.com/o/oauth2/v2/auth",
         "token": "https://oauth2.googleapis.com/token",
         "userinfo": "https://www.googleapis.com/youtube/v3/channels"},
        scope="https://www.googleapis.com/auth/youtube.readonly",
        userinfo_params={"part": "snippet", "mine": "true"},
        authorize_params={"access_type": "offline", "prompt": "consent"},
        no_account_message="That Google account has no YouTube channel. Pick the account of your channel.")),
    Platform("instagram_reels", "Instagram Reels", "Instagram", "app.social.platforms.instagram", user_token=True,
             oauth=OAuthSpec(
        "INSTAGRAM",
        {"authorize": "https://www.instagram.com/oauth/authorize",
         "token": "https://api.instagram.com/oauth/access_token",
         "userinfo": "https://graph.instagram.com/me",
         "exchange": "https://graph.instagram.com/access_token",
         "refresh": "https://graph.instagram.com/refresh_access_token"},
        scope="instagram_business_basic",
        userinfo_params={"fields": "user_id,username"},
        token_wrapped_in_data=True, refresh_by_access_token=True)),
    Platform("x", "X", "X", "app.social.platforms.x", user_token=True, oauth=OAuthSpec(
        "X",
        {"authorize": "https://x.com/i/oauth2/authorize",
         "token": "https://api.x.com/2/oauth2/token",
         "userinfo": "https://api.x.com/2/users/me"},
        scope="tweet.read users.read offline.access",
        client_auth_method="client_secret_basic")),
)

BY_KEY: dict[str, Platform] = {platform.key: platform for platform in REGISTRY}
assert len(BY_KEY) == len(REGISTRY), "platform keys are unique"

KEYS: tuple[str, ...] = tuple(BY_KEY)
LABELS: dict[str, str] = {platform.key: platform.label for platform in REGISTRY}
USER_TOKEN_KEYS: frozenset[str] = frozenset(platform.key for platform in REGISTRY if platform.user_token)
# Campaigns store their target platforms as a bit set: bit 1 << index in registry order.
BITS: dict[str, int] = {platform.key: 1 << index for index, platform in enumerate(REGISTRY)}
MASK_LIMIT = 1 << len(REGISTRY)  # every valid mask is below this


def get(key: str) -> Platform:
    return BY_KEY[key]


def _either(names: list[str]) -> str:
    return names[0] if len(names) == 1 else f"{', '.join(names[:-1])} or {names[-1]}"


def label_list() -> str:
    """``"TikTok, YouTube Shorts, Instagram Reels or X"`` for messages."""
    return _either([platform.label for platform in REGISTRY])


def site_list() -> str:
    """``"TikTok, YouTube, Instagram or X"`` for messages."""
    return _either([platform.site for platform in REGISTRY])
