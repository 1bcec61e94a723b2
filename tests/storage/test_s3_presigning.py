"""What the S3 backend asks of S3 itself. moto accepts any signature, ignores the POST
policy and never expires a presigned URL, so these tests read the signed policy and the
URL parameters that real S3 enforces; the CSP must let the browser reach the endpoint."""

from __future__ import annotations

import base64
import json
import time
from datetime import UTC, datetime
from urllib.parse import parse_qs, urlsplit

from app.storage import upload_origins
from tests.storage.conftest import BUCKET

PREFIX = "campaigns/9/assets"


def policy_of(ticket) -> dict:
    return json.loads(base64.b64decode(ticket.fields["policy"]))


def test_the_post_policy_pins_key_type_size_and_expiry(s3):
    key = s3.storage.new_key(PREFIX, "clip.mp4")
    before = time.time()
    ticket = s3.storage.presign_upload(key, "video", "video/mp4", 12345)

    policy = policy_of(ticket)
    conditions = policy["conditions"]
    assert {"key": key} in conditions
    assert {"bucket": BUCKET} in conditions
    assert {"Content-Type": "video/mp4"} in conditions
    assert ["content-length-range", 1, 12345] in conditions
    expires = datetime.strptime(policy["expiration"], "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=UTC).timestamp()
    assert before + 600 - 2 <= expires <= time.time() + 600 + 1
    assert abs(ticket.expires_at.timestamp() - expires) < 2
    assert ticket.fields["key"] == key and ticket.fields["Content-Type"] == "video/mp4"
    assert ticket.max_bytes == 12345


def test_a_shorter_ticket_lifetime_is_signed_into_the_policy(s3):
    key = s3.storage.new_key(PREFIX, "clip.mp4")
    ticket = s3.storage.presign_upload(key, "video", "video/mp4", 10, expires_in=60)
    expires = datetime.strptime(policy_of(ticket)["expiration"], "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=UTC)
    assert 55 <= expires.timestamp() - time.time() <= 61


def test_a_download_url_is_short_lived_and_asks_for_an_attachment(s3):
    key = s3.storage.new_key(PREFIX, "clip.mp4")
    query = parse_qs(urlsplit(s3.storage.presign_download(key, "Clip é.mp4")).query)
    assert query["X-Amz-Expires"] == ["300"]
    assert query["response-content-disposition"] == [
        "attachment; filename=\"Clip-e.mp4\"; filename*=UTF-8''Clip%20%C3%A9.mp4"
    ]
    short = parse_qs(urlsplit(s3.storage.presign_download(key, "clip.mp4", expires=30)).query)
    assert short["X-Amz-Expires"] == ["30"]


def test_the_csp_lets_the_browser_post_to_the_s3_endpoint_only_when_s3_is_used(s3_app, local_app, moto_endpoint):
    def directives(app) -> dict[str, list[str]]:
        policy = app.test_client().get("/healthz").headers["Content-Security-Policy"]
        return {part.split()[0]: part.split()[1:] for part in policy.split(";") if part.strip()}

    s3_csp, local_csp = directives(s3_app), directives(local_app)
    assert s3_csp["connect-src"] == ["'self'", moto_endpoint]
    assert s3_csp["form-action"] == ["'self'", moto_endpoint]
    assert s3_csp["script-src"] == ["'self'"]
    assert local_csp["connect-src"] == ["'self'"] and local_csp["form-action"] == ["'self'"]


def test_on_aws_the_upload_origins_are_the_buckets_hosts():
    config = {"STORAGE_BACKEND": "s3", "S3_BUCKET": "cf-media", "S3_REGION": "eu-west-2"}
    assert upload_origins(config) == ("https://cf-media.s3.amazonaws.com", "https://cf-media.s3.eu-west-2.amazonaws.com")
    assert upload_origins({**config, "S3_ENDPOINT_URL": "https://minio.example:9000/base"}) == (
        "https://minio.example:9000",
    )
    assert upload_origins({"STORAGE_BACKEND": "local"}) == ()
