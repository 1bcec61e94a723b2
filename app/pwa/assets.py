"""Fingerprinted static URLs and the app-shell list the service worker precaches.

Invariant: a static URL carries ``?v=<content hash>``, so the service worker's
cache-first strategy for /static/ can never serve a stale file after a deploy;
the service worker's cache name is derived from the same hashes, so a deploy
that changes any shell file installs a new cache and deletes the old one.
"""

from __future__ import annotations

import hashlib
from functools import lru_cache
from pathlib import Path

from flask import current_app, url_for

# Files every page needs; precached at install so the shell works offline.
SHELL_STATIC = (
    "vendor/pico.min.css",
    "css/app.css",
    "vendor/htmx.min.js",
    "js/app.js",
    "icons/icon-192.png",
    "icons/icon-512.png",
    "icons/apple-touch-icon.png",
)


@lru_cache(maxsize=256)
def _file_hash(path: str, mtime_ns: int) -> str:
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()[:12]


def file_version(filename: str) -> str:
    path = Path(current_app.static_folder) / filename
    try:
        return _file_hash(str(path), path.stat().st_mtime_ns)
    except FileNotFoundError:
        return "missing"


def asset_url(filename: str) -> str:
    return url_for("static", filename=filename, v=file_version(filename))


def shell_urls() -> list[str]:
    return [asset_url(name) for name in SHELL_STATIC]


def shell_version() -> str:
    digest = hashlib.sha256()
    for name in SHELL_STATIC:
        digest.update(f"{name}={file_version(name)};".encode())
    for template in ("pwa/offline.html", "base.html", "pwa/sw.js"):
        source = Path(current_app.root_path).parent / "templates" / template
        if source.exists():
            digest.update(source.read_bytes())
    return digest.hexdigest()[:12]
