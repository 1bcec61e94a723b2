"""Ownership signals: the platform's reported author must be the clipper, and the post must be
newer than the approval of the clipper's application."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from app.social.platforms import PostMetrics, PostUrlError, check_ownership, parse_post_url

APPROVED = datetime(2026, 11, 1, 12, 0, tzinfo=UTC)
AFTER = APPROVED + timedelta(hours=3)


def test_matching_author_posted_after_approval_raises_nothing():
    metrics = PostMetrics(views=10, author_handle="ClipQueen", published_at=AFTER)
    assert check_ownership(metrics, "@clipqueen", APPROVED) == []


def test_someone_elses_post_is_an_ownership_mismatch():
    metrics = PostMetrics(views=10, author_handle="viralvault", published_at=AFTER)
    assert check_ownership(metrics, "clipqueen", APPROVED) == ["ownership_mismatch"]


def test_author_id_is_compared_when_the_platform_reports_no_handle():
    metrics = PostMetrics(views=10, author_id="UCsomeoneelse", published_at=AFTER)
    assert check_ownership(metrics, "clipqueen", APPROVED, expected_author_id="UCclipqueen") == [
        "ownership_mismatch"]
    assert check_ownership(metrics, "clipqueen", APPROVED, expected_author_id="UCsomeoneelse") == []


def test_a_post_older_than_the_approval_was_not_made_for_the_campaign():
    metrics = PostMetrics(views=10, author_handle="clipqueen", published_at=APPROVED - timedelta(days=2))
    assert check_ownership(metrics, "clipqueen", APPROVED) == ["published_before_approval"]
    both = PostMetrics(views=10, author_handle="other", published_at=APPROVED - timedelta(seconds=1))
    assert check_ownership(both, "clipqueen", APPROVED) == ["ownership_mismatch", "published_before_approval"]


def test_facts_the_platform_does_not_report_raise_nothing():
    assert check_ownership(PostMetrics(views=10), "clipqueen", APPROVED) == []


def test_naive_times_are_refused():
    with pytest.raises(ValueError):
        check_ownership(PostMetrics(views=1), "clipqueen", datetime(2026, 11, 1, 12, 0))
    with pytest.raises(ValueError):
        PostMetrics(views=1, published_at=datetime(2026, 11, 1, 12, 0))
    with pytest.raises(ValueError):
        PostMetrics(views=-1)


@given(st.text(max_size=300))
def test_any_text_is_either_a_post_or_a_clear_refusal(text):
    try:
        parsed = parse_post_url(text)
    except PostUrlError as error:
        assert error.message
    else:
        assert parse_post_url(parsed.canonical_url) == parsed


@given(st.sampled_from([
    "https://www.tiktok.com/@{u}/video/{d}", "https://x.com/{u}/status/{d}", "https://youtu.be/{y}",
    "https://www.instagram.com/reel/{y}/",
]), st.from_regex(r"[a-z0-9_]{2,15}", fullmatch=True), st.from_regex(r"[0-9]{15,19}", fullmatch=True),
    st.from_regex(r"[A-Za-z0-9_-]{11}", fullmatch=True))
def test_well_formed_links_round_trip_through_their_canonical_form(template, user, digits, code):
    parsed = parse_post_url(template.format(u=user, d=digits, y=code))
    assert parse_post_url(parsed.canonical_url) == parsed
    assert parsed.post_id in (digits, code)
