"""Keys and file names: whatever a user calls a file, the key stays under its prefix,
the stored name is a short ASCII slug with its extension, and the download header
names it safely."""

from __future__ import annotations

import re

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from app.errors import ValidationError
from app.storage.keys import check_key_under, content_disposition, is_safe_key, make_key, sanitise_filename

PREFIX = "campaigns/42/assets"
SAFE_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_-]*(\.[A-Za-z0-9_-]+)*")


@pytest.mark.parametrize(("filename", "expected"), [
    ("Launch Teaser.MP4", "Launch-Teaser.mp4"),
    ("Mon clip été.mov", "Mon-clip-ete.mov"),
    ("<script>alert(1)</script>.png", "script.png"),  # "/" ends a path: only "script>.png" is the name
    ("<img src=x onerror=alert(1)>.png", "img-src-x-onerror-alert-1.png"),
    ("🎬🔥.mp4", "file.mp4"),
    ("🎬🔥", "file"),
    ("C:\\fakepath\\holiday.jpg", "holiday.jpg"),
    ("../../etc/passwd", "passwd"),
    ("....mp4", "file.mp4"),
    (".htaccess", "file.htaccess"),
    ("archive.tar.gz", "archive-tar.gz"),
    ("no extension", "no-extension"),
    ("weird.ext<>!", "weird.ext"),
    ("", "file"),
    (None, "file"),
])
def test_a_filename_becomes_a_short_ascii_slug_with_its_extension(filename, expected):
    assert sanitise_filename(filename) == expected


def test_a_10_kb_filename_is_cut_to_100_characters_keeping_the_extension():
    name = sanitise_filename("a" * 10_000 + ".mp4")
    assert len(name) == 100 and name.endswith(".mp4")
    key = make_key(PREFIX, "ü" * 5_000 + "x" * 5_000 + ".webm")
    assert check_key_under(key, PREFIX) == key
    assert len(key.rsplit("/", 1)[1]) <= 100


@given(st.text(max_size=300))
@settings(max_examples=300, deadline=None)
def test_any_filename_gives_a_key_under_its_prefix(filename):
    name = sanitise_filename(filename)
    assert SAFE_NAME.fullmatch(name) and len(name) <= 100 and ".." not in name
    key = make_key(PREFIX, filename)
    assert is_safe_key(key)
    assert check_key_under(key, PREFIX) == key
    with pytest.raises(ValidationError):
        check_key_under(key, "campaigns/43/assets")


@given(st.text(max_size=300))
@settings(max_examples=300, deadline=None)
def test_any_download_name_gives_a_single_safe_header_value(filename):
    value = content_disposition(filename)
    assert value.startswith('attachment; filename="')
    assert value.isascii()
    assert not re.search(r"[\x00-\x1f\x7f]", value)
    quoted = value.split('"')
    assert len(quoted) == 3, "exactly one quoted ASCII name"


@pytest.mark.parametrize("prefix", ["", "/campaigns/1", "campaigns/1/", "campaigns/../1", "Campaigns/1",
                                    "campaigns//1", "campaigns/1/%2e%2e", "campaigns\\1", "c" * 201, None])
def test_a_bad_prefix_is_refused(prefix):
    with pytest.raises(ValidationError):
        make_key(prefix, "clip.mp4")


def test_new_keys_are_unique():
    keys = {make_key(PREFIX, "same.mp4") for _ in range(1000)}
    assert len(keys) == 1000
