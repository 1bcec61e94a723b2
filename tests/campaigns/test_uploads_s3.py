"""Raw asset uploads through the campaign routes against a real local moto S3 server:
ticket (presigned POST) -> browser-style upload over HTTP -> confirm. A valid upload is
recorded; an oversized or wrong-type object, or a key outside the campaign's prefix, is
refused with a message and nothing is recorded (the refused object is deleted)."""

from __future__ import annotations

import boto3
import pytest
import requests
from sqlalchemy import func, select

from app.campaigns.models import CampaignAsset
from tests.conftest import csrf_token_from
from tests.factories import create_draft
from tests.storage.conftest import BUCKET, KIND_LIMITS, aws_credentials, make_app, moto_endpoint  # noqa: F401

PNG = b"\x89PNG\r\n\x1a\n" + b"p" * 2000


@pytest.fixture(scope="module")
def s3_app(app, moto_endpoint):  # noqa: F811  (the fixture imported above)
    return make_app(STORAGE_BACKEND="s3", S3_BUCKET=BUCKET, S3_ENDPOINT_URL=moto_endpoint, S3_REGION="us-east-1")


@pytest.fixture
def brand(s3_app, db, people, login_as):
    client = login_as(people.brand, on=s3_app.test_client())
    client.token = csrf_token_from(client.get("/notifications").get_data(as_text=True))
    client.campaign_id = create_draft(people.brand.id)
    client.other_campaign_id = create_draft(people.brand.id, title="Second")
    return client


def ticket(client, campaign_id, *, kind="image", filename="logo.png", content_type="image/png", size=len(PNG)):
    return client.post(f"/brand/campaigns/{campaign_id}/assets/ticket", data={
        "csrf_token": client.token, "kind": kind, "filename": filename, "content_type": content_type,
        "size_bytes": str(size)})


def upload(issued: dict, content: bytes, **field_overrides) -> int:
    fields = {**issued["fields"], **field_overrides}
    reply = requests.post(issued["url"], data=fields, files={"file": ("f", content, "application/octet-stream")},
                          timeout=10)
    return reply.status_code


def confirm(client, campaign_id, key, *, kind="image", size=len(PNG), filename="logo.png"):
    return client.post(f"/brand/campaigns/{campaign_id}/assets", data={
        "csrf_token": client.token, "key": key, "kind": kind, "filename": filename, "size_bytes": str(size)})


def asset_count(db) -> int:
    db.session.expire_all()
    return db.session.scalar(select(func.count()).select_from(CampaignAsset))


def object_exists(endpoint: str, key: str) -> bool:
    client = boto3.client("s3", endpoint_url=endpoint, region_name="us-east-1")
    return client.list_objects_v2(Bucket=BUCKET, Prefix=key).get("KeyCount", 0) > 0


def test_a_valid_upload_is_recorded_under_the_campaigns_prefix(db, brand, moto_endpoint):  # noqa: F811
    response = ticket(brand, brand.campaign_id)
    assert response.status_code == 200
    issued = response.get_json()
    assert issued["key"].startswith(f"campaigns/{brand.campaign_id}/assets/")
    assert issued["url"].startswith(moto_endpoint)
    assert upload(issued, PNG) in (200, 201, 204)

    response = confirm(brand, brand.campaign_id, issued["key"])
    assert response.status_code == 200
    assert "logo.png" in response.get_data(as_text=True)
    asset = db.session.scalars(select(CampaignAsset)).one()
    assert (asset.key, asset.size_bytes, asset.content_type, asset.campaign_id) == (
        issued["key"], len(PNG), "image/png", brand.campaign_id)


def test_an_oversized_object_is_refused_deleted_and_not_recorded(db, brand, moto_endpoint):  # noqa: F811
    too_big = b"v" * (KIND_LIMITS["UPLOAD_MAX_VIDEO_BYTES"] + 1)
    # Announced honestly, the ticket itself is refused.
    refused = ticket(brand, brand.campaign_id, kind="video", filename="cut.mp4", content_type="video/mp4",
                     size=len(too_big))
    assert refused.status_code == 422 and "too large" in refused.get_json()["error"]["message"]
    # Announced small, sent big: moto ignores the policy's size range, the confirmation does not.
    issued = ticket(brand, brand.campaign_id, kind="video", filename="cut.mp4", content_type="video/mp4",
                    size=1000).get_json()
    assert upload(issued, too_big) in (200, 201, 204)
    response = confirm(brand, brand.campaign_id, issued["key"], kind="video", size=1000, filename="cut.mp4")
    assert response.status_code == 422
    assert "too large" in response.get_data(as_text=True)
    assert asset_count(db) == 0
    assert not object_exists(moto_endpoint, issued["key"])


def test_a_wrong_type_is_refused_and_not_recorded(db, brand, moto_endpoint):  # noqa: F811
    refused = ticket(brand, brand.campaign_id, content_type="text/html", filename="page.html")
    assert refused.status_code == 422 and "not accepted" in refused.get_json()["error"]["message"]
    issued = ticket(brand, brand.campaign_id).get_json()
    assert upload(issued, b"<html>not a png</html>" * 10, **{"Content-Type": "text/html"}) in (200, 201, 204)
    response = confirm(brand, brand.campaign_id, issued["key"], size=220)
    assert response.status_code == 422
    assert "not an accepted image type" in response.get_data(as_text=True)
    assert asset_count(db) == 0
    assert not object_exists(moto_endpoint, issued["key"])


def test_a_key_outside_the_campaign_prefix_is_refused_and_not_recorded(db, brand, moto_endpoint):  # noqa: F811
    issued = ticket(brand, brand.other_campaign_id).get_json()
    assert upload(issued, PNG) in (200, 201, 204)
    # A real object, but minted for the brand's other campaign.
    response = confirm(brand, brand.campaign_id, issued["key"])
    assert response.status_code == 422
    assert "does not belong here" in response.get_data(as_text=True)
    for forged in (f"campaigns/{brand.campaign_id}/assets/../../{issued['key']}",
                   f"campaigns/{brand.campaign_id}/assets/{'b' * 32}/../x.png", "/etc/passwd"):
        assert confirm(brand, brand.campaign_id, forged).status_code == 422
    assert asset_count(db) == 0
    assert object_exists(moto_endpoint, issued["key"])  # untouched: it belongs to the other campaign


def test_another_brand_gets_no_ticket(db, s3_app, people, login_as):
    other = login_as(people.other_brand, on=s3_app.test_client())
    token = csrf_token_from(other.get("/notifications").get_data(as_text=True))
    campaign_id = create_draft(people.brand.id)
    response = other.post(f"/brand/campaigns/{campaign_id}/assets/ticket", data={
        "csrf_token": token, "kind": "image", "filename": "a.png", "content_type": "image/png", "size_bytes": "10"})
    assert response.status_code == 404
