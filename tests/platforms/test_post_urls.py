"""Post links are read as (platform, post id) by string work alone, or refused with a clear message."""

from __future__ import annotations

import socket

import pytest

from app.errors import ValidationError
from app.social.platforms import PLATFORMS, ParsedPost, PostUrlError, parse_post_url
from app.social.platforms.posts import POST_URL_MESSAGES

TT_ID = "7301234567890123456"
YT_ID = "dQw4w9WgXcQ"
IG_CODE = "C1a2B3c4D5e"
X_ID = "1790000000000000001"

# (submitted link, expected (platform, post id, author handle) or the refusal code)
URL_TABLE = [
    # TikTok
    (f"https://www.tiktok.com/@clipqueen/video/{TT_ID}", ("tiktok", TT_ID, "clipqueen")),
    (f"https://www.tiktok.com/@clip.queen_2/video/{TT_ID}?is_from_webapp=1&sender_device=pc",
     ("tiktok", TT_ID, "clip.queen_2")),
    (f"https://m.tiktok.com/@clipqueen/video/{TT_ID}/", ("tiktok", TT_ID, "clipqueen")),
    (f"https://tiktok.com/@clipqueen/video/{TT_ID}#comments", ("tiktok", TT_ID, "clipqueen")),
    (f"  www.tiktok.com/@clipqueen/video/{TT_ID}  ", ("tiktok", TT_ID, "clipqueen")),
    (f"HTTPS://WWW.TIKTOK.COM/@clipqueen/video/{TT_ID}", ("tiktok", TT_ID, "clipqueen")),
    ("https://vm.tiktok.com/ZMhvqKxYz/", "short_link"),
    ("https://vt.tiktok.com/ZSabc123/", "short_link"),
    ("https://www.tiktok.com/t/ZTRabc123/", "short_link"),
    ("https://www.tiktok.com/@clipqueen", "not_a_post"),
    ("https://www.tiktok.com/@clipqueen/video/12345", "not_a_post"),  # id too short
    ("https://www.tiktok.com/", "not_a_post"),
    # YouTube
    (f"https://www.youtube.com/shorts/{YT_ID}", ("youtube_shorts", YT_ID, None)),
    (f"https://youtube.com/shorts/{YT_ID}?feature=share", ("youtube_shorts", YT_ID, None)),
    (f"https://m.youtube.com/shorts/{YT_ID}/", ("youtube_shorts", YT_ID, None)),
    (f"https://www.youtube.com/watch?v={YT_ID}", ("youtube_shorts", YT_ID, None)),
    (f"https://m.youtube.com/watch?feature=youtu.be&v={YT_ID}&t=12s", ("youtube_shorts", YT_ID, None)),
    (f"https://youtu.be/{YT_ID}", ("youtube_shorts", YT_ID, None)),
    (f"https://youtu.be/{YT_ID}?si=AbCdEf123", ("youtube_shorts", YT_ID, None)),
    ("https://www.youtube.com/@somechannel", "not_a_post"),
    ("https://www.youtube.com/watch?v=tooShort", "not_a_post"),
    (f"https://www.youtube.com/watch?v={YT_ID}&v=aaaaaaaaaaa", "not_a_post"),  # ambiguous
    ("https://music.youtube.com/watch?v=dQw4w9WgXcQ", "other_site"),
    # Instagram
    (f"https://www.instagram.com/reel/{IG_CODE}/", ("instagram_reels", IG_CODE, None)),
    (f"https://www.instagram.com/reels/{IG_CODE}/?igsh=MWx0bzZz", ("instagram_reels", IG_CODE, None)),
    (f"https://instagram.com/p/{IG_CODE}", ("instagram_reels", IG_CODE, None)),
    (f"https://www.instagram.com/clip.queen/reel/{IG_CODE}/", ("instagram_reels", IG_CODE, "clip.queen")),
    (f"https://m.instagram.com/reel/{IG_CODE}/#top", ("instagram_reels", IG_CODE, None)),
    ("https://www.instagram.com/share/reel/BAGx1y2z3/", "short_link"),
    ("https://www.instagram.com/clip.queen/", "not_a_post"),
    ("https://www.instagram.com/reels/", "not_a_post"),
    ("https://www.instagram.com/stories/clip.queen/3300000000000000000/", "not_a_post"),
    # X / Twitter
    (f"https://x.com/clipqueen/status/{X_ID}", ("x", X_ID, "clipqueen")),
    (f"https://twitter.com/clipqueen/status/{X_ID}?s=20&t=abc", ("x", X_ID, "clipqueen")),
    (f"https://mobile.twitter.com/clipqueen/status/{X_ID}", ("x", X_ID, "clipqueen")),
    (f"https://www.x.com/clipqueen/status/{X_ID}/photo/1", ("x", X_ID, "clipqueen")),
    (f"https://x.com/i/web/status/{X_ID}", ("x", X_ID, None)),
    (f"https://x.com/i/status/{X_ID}", ("x", X_ID, None)),
    ("https://t.co/AbC123xyz", "short_link"),
    ("https://x.com/clipqueen", "not_a_post"),
    ("https://x.com/clipqueen/status/12345678901234567890123", "not_a_post"),
    # Other sites, unsafe schemes and internal addresses
    ("https://www.facebook.com/watch/?v=1234567890", "other_site"),
    ("https://evil.example/@clipqueen/video/7301234567890123456", "other_site"),
    ("https://tiktok.com.evil.example/@clipqueen/video/7301234567890123456", "other_site"),
    ("https://www.tіktok.com/@clipqueen/video/7301234567890123456", "other_site"),  # Cyrillic і
    ("https://xn--tktok-3ve.com/@clipqueen/video/7301234567890123456", "other_site"),  # punycode lookalike
    ("https://ｗｗｗ.tiktok.com/@clipqueen/video/7301234567890123456", "other_site"),  # full-width letters
    ("javascript:alert(document.cookie)", "scheme"),
    ("JaVaScRiPt:alert(1)//https://www.tiktok.com/", "scheme"),
    ("data:text/html,<script>alert(1)</script>", "scheme"),
    ("ftp://www.tiktok.com/@clipqueen/video/7301234567890123456", "scheme"),
    ("file:///etc/passwd", "scheme"),
    ("http://127.0.0.1/@clipqueen/video/7301234567890123456", "other_site"),
    ("http://localhost/admin", "other_site"),
    ("http://localhost:5000/", "malformed"),
    ("http://169.254.169.254/latest/meta-data/", "other_site"),
    ("http://[::1]/x", "other_site"),
    ("http://2130706433/", "other_site"),  # 127.0.0.1 as one number
    ("http://0x7f.0.0.1/", "other_site"),
    ("http://redis/", "other_site"),
    ("https://www.tiktok.com@evil.com/@clipqueen/video/7301234567890123456", "malformed"),
    ("https://user:pass@www.tiktok.com/@clipqueen/video/7301234567890123456", "malformed"),
    ("https://www.tiktok.com:8443/@clipqueen/video/7301234567890123456", "malformed"),
    ("https://www.tiktok.com:99999/@clipqueen/video/7301234567890123456", "malformed"),
    ("https://www.tiktok.com/@clip queen/video/7301234567890123456", "malformed"),
    ("https://www.tiktok.com/@clipqueen/video/7301234567890123456\n.evil.com", "malformed"),
    ("https://www.tiktok.com/@clipqueen/video/" + "1" * 10_000, "too_long"),
    ("", "empty"),
    ("    ", "empty"),
    ("https://", "malformed"),
]


@pytest.mark.parametrize(("url", "expected"), URL_TABLE)
def test_post_url_table(url, expected):
    if isinstance(expected, tuple):
        parsed = parse_post_url(url)
        assert (parsed.platform, parsed.post_id, parsed.author_handle) == expected
    else:
        with pytest.raises(PostUrlError) as caught:
            parse_post_url(url)
        assert caught.value.code == expected
        assert caught.value.message == POST_URL_MESSAGES[expected]


def test_the_table_is_large_and_covers_every_platform_and_refusal():
    assert len(URL_TABLE) >= 40
    platforms = {expected[0] for _, expected in URL_TABLE if isinstance(expected, tuple)}
    codes = {expected for _, expected in URL_TABLE if isinstance(expected, str)}
    assert platforms == set(PLATFORMS)
    assert codes == set(POST_URL_MESSAGES) - {"platform_not_targeted"}


def test_refusal_messages_are_distinct_and_shown_as_validation_errors():
    assert len(set(POST_URL_MESSAGES.values())) == len(POST_URL_MESSAGES)
    with pytest.raises(ValidationError) as caught:
        parse_post_url("https://vm.tiktok.com/ZMhvqKxYz/")
    assert caught.value.status_code == 422
    assert caught.value.field == "post_url"
    assert "full link" in caught.value.message


@pytest.mark.parametrize(("url", "canonical"), [
    (f"https://m.youtube.com/watch?feature=youtu.be&v={YT_ID}&t=12s", f"https://www.youtube.com/shorts/{YT_ID}"),
    (f"https://youtu.be/{YT_ID}?si=<script>", f"https://www.youtube.com/shorts/{YT_ID}"),
    (f"https://twitter.com/clipqueen/status/{X_ID}/photo/1?s=20", f"https://x.com/clipqueen/status/{X_ID}"),
    (f"https://x.com/i/web/status/{X_ID}", f"https://x.com/i/web/status/{X_ID}"),
    (f"https://www.instagram.com/reels/{IG_CODE}/?igsh=x", f"https://www.instagram.com/reel/{IG_CODE}/"),
    (f"https://instagram.com/p/{IG_CODE}", f"https://www.instagram.com/p/{IG_CODE}/"),
    (f"HTTP://M.TIKTOK.COM/@clipqueen/video/{TT_ID}?x=\"><img", f"https://www.tiktok.com/@clipqueen/video/{TT_ID}"),
])
def test_canonical_url_is_built_from_validated_parts_never_echoed(url, canonical):
    assert parse_post_url(url).canonical_url == canonical


def test_a_platform_the_campaign_does_not_target_is_refused_by_name():
    url = f"https://x.com/clipqueen/status/{X_ID}"
    with pytest.raises(PostUrlError) as caught:
        parse_post_url(url, allowed_platforms=["tiktok", "youtube_shorts"])
    assert caught.value.code == "platform_not_targeted"
    assert caught.value.message == "This campaign does not accept X posts. It accepts: TikTok, YouTube Shorts."
    assert parse_post_url(url, allowed_platforms=["x"]) == ParsedPost("x", X_ID, url, "clipqueen")


def test_an_unknown_platform_key_is_a_programming_error():
    with pytest.raises(ValueError, match="unknown platforms"):
        parse_post_url(f"https://x.com/a/status/{X_ID}", allowed_platforms=["myspace"])


def test_submitted_addresses_are_never_connected_to():
    """A trap listener on 127.0.0.1 sees no connection when links pointing at it are parsed."""
    trap = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    trap.bind(("127.0.0.1", 0))
    trap.listen(8)
    trap.setblocking(False)
    port = trap.getsockname()[1]
    try:
        submitted = [
            f"http://127.0.0.1:{port}/",
            f"http://127.0.0.1:{port}/@clipqueen/video/{TT_ID}",
            f"https://www.tiktok.com@127.0.0.1:{port}/@clipqueen/video/{TT_ID}",
            f"http://localhost:{port}/shorts/{YT_ID}",
            f"127.0.0.1:{port}/reel/{IG_CODE}/",
            f"//127.0.0.1:{port}/clipqueen/status/{X_ID}",
        ]
        for url in submitted:
            with pytest.raises(PostUrlError):
                parse_post_url(url)
        with pytest.raises(BlockingIOError):
            trap.accept()  # nothing is waiting: no connection was ever opened
        # The trap works: a real connection would have been seen.
        probe = socket.create_connection(("127.0.0.1", port), timeout=2)
        probe.close()
        trap.settimeout(2)
        accepted, _ = trap.accept()
        accepted.close()
    finally:
        trap.close()
