"""The three extension-point registries (platforms, notification kinds, payout rails):
each is complete and consistent, and the database constraints built from them keep the
exact SQL text the migrations created (so the registries changed no schema)."""

from __future__ import annotations

import string

import pytest

from app.campaigns.models import Campaign
from app.notifications import kinds
from app.payouts import rails
from app.payouts.models import Payout
from app.social import platforms
from app.social.models import ConnectedAccount
from app.social.platforms import registry
from app.submissions.models import Submission


def _check(model, name: str) -> str:
    return next(str(c.sqltext) for c in model.__table__.constraints if c.name and c.name.endswith(name))


def test_check_constraints_built_from_the_registries_keep_their_migrated_sql():
    platform_in = "platform IN ('tiktok', 'youtube_shorts', 'instagram_reels', 'x')"
    assert _check(ConnectedAccount, "platform_valid") == platform_in
    assert _check(Submission, "platform_valid") == platform_in
    assert _check(Campaign, "platforms_valid") == "platforms_mask >= 0 AND platforms_mask < 16"
    assert _check(Payout, "method_valid") == "method IN ('stripe', 'manual')"


def test_every_platform_has_its_client_module_and_connect_settings():
    assert registry.KEYS == ("tiktok", "youtube_shorts", "instagram_reels", "x")
    assert set(registry.BITS.values()) == {1, 2, 4, 8}
    for platform in registry.REGISTRY:
        module = platforms.client(platform.key)
        assert platform.key == module.PLATFORM
        for name in ("HOSTS", "SHORT_LINK_HOSTS", "POST_ID", "BATCH_SIZE", "parse", "require_credentials",
                     "fetch_batch", "oauth_account"):
            assert hasattr(module, name), (platform.key, name)
        assert {"authorize", "token", "userinfo"} <= set(platform.oauth.urls)
        assert platform.oauth.settings_prefix.isupper()
    assert {"tiktok", "instagram_reels", "x"} == platforms.USER_TOKEN_PLATFORMS
    assert registry.label_list() == "TikTok, YouTube Shorts, Instagram Reels or X"


def test_every_notification_kind_renders_from_its_data_alone():
    for kind in kinds.REGISTRY:
        fields = {name for _, name, _, _ in string.Formatter().parse(kind.text) if name}
        text = kinds.render(kind.name, dict.fromkeys(fields, "VALUE"))
        assert "{" not in text and (not fields or "VALUE" in text), kind.name


def test_an_undeclared_notification_kind_is_refused_with_where_to_declare_it():
    with pytest.raises(kinds.UnknownKindError, match=r"unknown notification kind 'you_won'.*kinds\.py"):
        kinds.get("you_won")
    assert issubclass(kinds.UnknownKindError, ValueError)


def test_payout_rails_satisfy_the_protocol_and_name_their_ledger_kind():
    assert rails.KEYS == ("stripe", "manual")
    assert all(isinstance(rail, rails.PayoutRail) for rail in rails.RAILS)
    assert [rails.paid_kind(key) for key in rails.KEYS] == ["payout_paid_stripe", "payout_paid_manual"]
    assert rails.HAND_SETTLED_KEYS == ("manual",)
    with pytest.raises(KeyError):
        rails.paid_kind("carrier_pigeon")
    for rail in rails.RAILS:
        assert rail.settled_by_hand or (rail.refuse_mark_paid and rail.refuse_mark_failed), rail.key


def test_the_stripe_rail_is_off_unless_payments_run_through_stripe():
    from app.payouts.models import PayoutAccount

    stripe, manual = rails.get("stripe"), rails.get("manual")
    assert stripe.ready(PayoutAccount, "offline") is None
    assert stripe.ready(PayoutAccount, "stripe") is not None
    assert manual.ready(PayoutAccount, "offline") is not None
