"""A local fake of the four platform APIs, routed by path, answering in their documented shapes.

Invariants: it serves only what a test put in it (videos, media, tweets) and
checks credentials the way the platforms do (YouTube: ``X-Goog-Api-Key``;
TikTok, Instagram, X: ``Authorization: Bearer``); every request is recorded;
a test can queue scripted answers per route (``script``), which are served
first, in order — ``PASS`` lets one call through to the normal handler.
"""

from __future__ import annotations

import json
import threading
import time
from collections import defaultdict, deque
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from werkzeug.serving import make_server
from werkzeug.wrappers import Request, Response

YOUTUBE_KEY = "test-youtube-key"
USER_TOKEN = "user-token-abc123"
GRAPH_VERSION = "v23.0"


@dataclass
class Scripted:
    status: int
    body: Any = None
    headers: dict[str, str] = field(default_factory=dict)
    delay: float = 0.0

    def as_response(self) -> Response:
        return _json(self.status, self.body, self.headers)


PASS = Scripted(0)  # let this call through to the normal handler


@dataclass
class Recorded:
    route: str
    method: str
    path: str
    query: dict[str, str]
    headers: dict[str, str]
    body: Any


def youtube_error(status: int, reason: str, message: str, domain: str = "youtube.quota", details=None) -> Scripted:
    error: dict[str, Any] = {"code": status, "message": message,
                             "errors": [{"message": message, "domain": domain, "reason": reason}]}
    if details:
        error["details"] = details
    return Scripted(status, {"error": error})


def youtube_quota_exceeded() -> Scripted:
    return youtube_error(403, "quotaExceeded", "The request cannot be completed because you have exceeded "
                         'your <a href="/youtube/v3/getting-started#quota">quota</a>.')


def tiktok_error(status: int, code: str, message: str) -> Scripted:
    return Scripted(status, {"data": {}, "error": {"code": code, "message": message, "log_id": "202406011200"}})


def graph_error(status: int, code: int, message: str, subcode: int | None = None, headers=None) -> Scripted:
    error = {"message": message, "type": "OAuthException", "code": code, "fbtrace_id": "AbCdEf"}
    if subcode is not None:
        error["error_subcode"] = subcode
    return Scripted(status, {"error": error}, headers or {})


def x_problem(status: int, title: str, detail: str, type_: str = "about:blank", headers=None) -> Scripted:
    return Scripted(status, {"title": title, "detail": detail, "type": type_, "status": status}, headers or {})


class FakePlatforms:
    def __init__(self):
        self.lock = threading.Lock()
        self.url = ""
        self.reset()

    def reset(self) -> None:
        with self.lock:
            self.requests: list[Recorded] = []
            self.scripts: dict[str, deque[Scripted]] = defaultdict(deque)
            self.youtube_videos: dict[str, dict] = {}
            self.tiktok_videos: dict[str, dict] = {}
            self.instagram_media: list[dict] = []  # newest first, as /me/media lists them
            self.tweets: dict[str, dict] = {}
            self.x_users: dict[str, str] = {}

    # --- test data -----------------------------------------------------------------------

    def script(self, route: str, *answers: Scripted) -> None:
        with self.lock:
            self.scripts[route].extend(answers)

    def add_youtube_video(self, video_id: str, views: int, *, likes: int | None = 10, comments: int | None = 2,
                          channel_id: str = "UCclipqueen0000000000000", published_at: str = "2026-11-01T10:00:00Z"):
        statistics = {"viewCount": str(views), "favoriteCount": "0"}
        if likes is not None:
            statistics["likeCount"] = str(likes)
        if comments is not None:
            statistics["commentCount"] = str(comments)
        self.youtube_videos[video_id] = {
            "kind": "youtube#video", "etag": "etag-" + video_id, "id": video_id,
            "snippet": {"publishedAt": published_at, "channelId": channel_id, "title": "A short",
                        "channelTitle": "Clip Queen", "categoryId": "22", "liveBroadcastContent": "none"},
            "statistics": statistics,
        }

    def add_tiktok_video(self, video_id: str, views: int, *, likes: int = 10, comments: int = 2,
                         create_time: int = 1_762_000_000):
        self.tiktok_videos[video_id] = {"id": video_id, "create_time": create_time, "view_count": views,
                                        "like_count": likes, "comment_count": comments}

    def add_instagram_media(self, media_id: str, shortcode: str, views: int, *, username: str = "clip.queen",
                            likes: int = 10, comments: int = 2, timestamp: str = "2026-11-01T10:00:00+0000"):
        self.instagram_media.append({
            "id": media_id, "shortcode": shortcode, "like_count": likes, "comments_count": comments,
            "timestamp": timestamp, "username": username, "views": views,
            "permalink": f"https://www.instagram.com/reel/{shortcode}/",
        })

    def add_tweet(self, tweet_id: str, impressions: int, *, author_id: str = "2244994945",
                  username: str = "clipqueen", created_at: str = "2026-11-01T10:00:00.000Z"):
        self.x_users[author_id] = username
        self.tweets[tweet_id] = {
            "id": tweet_id, "text": "my clip", "author_id": author_id, "created_at": created_at,
            "edit_history_tweet_ids": [tweet_id],
            "public_metrics": {"retweet_count": 1, "reply_count": 2, "like_count": 10, "quote_count": 0,
                               "bookmark_count": 0, "impression_count": impressions},
        }

    def calls(self, route: str | None = None) -> list[Recorded]:
        return [r for r in self.requests if route is None or r.route == route]

    # --- WSGI ------------------------------------------------------------------------------

    def __call__(self, environ, start_response):
        request = Request(environ)
        route = self._route(request.path)
        body = request.get_json(silent=True) if request.data else None
        with self.lock:
            self.requests.append(Recorded(route, request.method, request.path, dict(request.args),
                                          dict(request.headers), body))
            scripted = self.scripts[route].popleft() if self.scripts[route] else None
        if scripted is not None and scripted is not PASS:
            if scripted.delay:
                time.sleep(scripted.delay)
            response = scripted.as_response()
        else:
            handler = getattr(self, f"_{route}", None)
            response = handler(request) if handler else _json(404, {"error": "no such route"})
        return response(environ, start_response)

    @staticmethod
    def _route(path: str) -> str:
        if path == "/youtube/v3/videos":
            return "youtube"
        if path == "/v2/video/query/":
            return "tiktok"
        if path == f"/{GRAPH_VERSION}/me/media":
            return "instagram_list"
        if path.startswith(f"/{GRAPH_VERSION}/") and path.endswith("/insights"):
            return "instagram_insights"
        if path.startswith(f"/{GRAPH_VERSION}/"):
            return "instagram_media"
        if path == "/2/tweets":
            return "x"
        return "unknown"

    def _youtube(self, request: Request) -> Response:
        if request.headers.get("X-Goog-Api-Key") != YOUTUBE_KEY:
            return youtube_error(400, "badRequest", "API key not valid. Please pass a valid API key.",
                                 domain="global",
                                 details=[{"reason": "API_KEY_INVALID", "domain": "googleapis.com"}]).as_response()
        ids = [i for i in request.args.get("id", "").split(",") if i]
        if len(ids) > 50:
            return youtube_error(400, "badRequest", "too many ids", domain="global").as_response()
        items = [self.youtube_videos[i] for i in ids if i in self.youtube_videos]
        return _json(200, {"kind": "youtube#videoListResponse", "etag": "list",
                           "items": items, "pageInfo": {"totalResults": len(items), "resultsPerPage": len(items)}})

    def _tiktok(self, request: Request) -> Response:
        if request.headers.get("Authorization") != f"Bearer {USER_TOKEN}":
            return tiktok_error(401, "access_token_invalid", "The access token is invalid or not found "
                                "in the request.").as_response()
        ids = ((request.get_json(silent=True) or {}).get("filters") or {}).get("video_ids") or []
        if len(ids) > 20 or request.args.get("fields") is None:
            return tiktok_error(400, "invalid_params", "video_ids: at most 20").as_response()
        fields = set(request.args["fields"].split(","))
        videos = [{k: v for k, v in self.tiktok_videos[i].items() if k in fields}
                  for i in ids if i in self.tiktok_videos]
        return _json(200, {"data": {"videos": videos, "cursor": 0, "has_more": False},
                           "error": {"code": "ok", "message": "", "log_id": "202406011200"}})

    def _graph_auth(self, request: Request) -> Response | None:
        if request.headers.get("Authorization") != f"Bearer {USER_TOKEN}":
            return graph_error(400, 190, "Error validating access token: Session has expired.", 463).as_response()
        return None

    def _instagram_list(self, request: Request) -> Response:
        if (refused := self._graph_auth(request)) is not None:
            return refused
        limit = int(request.args.get("limit", 25))
        start = int(request.args.get("after", "0") or 0)
        page = self.instagram_media[start:start + limit]
        body: dict[str, Any] = {"data": [{"id": m["id"], "shortcode": m["shortcode"]} for m in page],
                                "paging": {"cursors": {"before": str(start), "after": str(start + len(page))}}}
        if start + len(page) < len(self.instagram_media):
            body["paging"]["next"] = f"{self.url}/{GRAPH_VERSION}/me/media?after={start + len(page)}"
        return _json(200, body)

    def _find_media(self, path: str) -> dict | None:
        media_id = path.split("/")[2]
        return next((m for m in self.instagram_media if m["id"] == media_id), None)

    def _instagram_media(self, request: Request) -> Response:
        if (refused := self._graph_auth(request)) is not None:
            return refused
        media = self._find_media(request.path)
        if media is None:
            return graph_error(400, 100, "Unsupported get request. Object with ID does not exist.", 33).as_response()
        fields = request.args.get("fields", "id").split(",")
        return _json(200, {k: media[k] for k in fields if k in media})

    def _instagram_insights(self, request: Request) -> Response:
        if (refused := self._graph_auth(request)) is not None:
            return refused
        media = self._find_media(request.path)
        if media is None:
            return graph_error(400, 100, "Unsupported get request. Object with ID does not exist.", 33).as_response()
        return _json(200, {"data": [{"name": "views", "period": "lifetime", "values": [{"value": media["views"]}],
                                     "title": "Views", "description": "Times the reel was played.",
                                     "id": f"{media['id']}/insights/views/lifetime"}]})

    def _x(self, request: Request) -> Response:
        if request.headers.get("Authorization") != f"Bearer {USER_TOKEN}":
            return x_problem(401, "Unauthorized", "Unauthorized").as_response()
        ids = [i for i in request.args.get("ids", "").split(",") if i]
        found = [self.tweets[i] for i in ids if i in self.tweets]
        body: dict[str, Any] = {}
        if found:
            body["data"] = found
            authors = {t["author_id"] for t in found}
            body["includes"] = {"users": [{"id": a, "name": "Clip Queen", "username": self.x_users[a]}
                                          for a in sorted(authors)]}
        missing = [i for i in ids if i not in self.tweets]
        if missing:
            body["errors"] = [{"value": i, "detail": f"Could not find tweet with ids: [{i}].",
                               "title": "Not Found Error", "resource_type": "tweet", "parameter": "ids",
                               "resource_id": i, "type": "https://api.twitter.com/2/problems/resource-not-found"}
                              for i in missing]
        return _json(200, body)


def _json(status: int, body: Any, headers: dict[str, str] | None = None) -> Response:
    text = body if isinstance(body, str | bytes) else json.dumps(body)
    return Response(text, status=status, headers=headers or {}, content_type="application/json; charset=UTF-8")


class FakePlatformServer:
    def __init__(self):
        self.fake = FakePlatforms()
        self.server = make_server("127.0.0.1", 0, self.fake, threaded=True)
        self.fake.url = f"http://127.0.0.1:{self.server.server_port}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def start(self) -> FakePlatformServer:
        self.thread.start()
        return self

    def stop(self) -> None:
        self.server.shutdown()


def epoch_in(seconds: int) -> str:
    return str(int(datetime.now(UTC).timestamp()) + seconds)
