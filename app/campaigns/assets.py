"""Raw campaign assets (footage, logos): direct uploads to object storage, downloads.

Invariants:
- only the campaign's brand uploads, and only while the campaign is a draft or live;
  every key is minted under the campaign's prefix ``campaigns/<id>/assets``;
- an asset row is written only after ``storage.confirm_upload`` has read the real
  object and found it under that prefix, of an allowed type and of the announced
  size; a refused object is deleted by storage and nothing is recorded;
- a download is a short-lived presigned GET answered as an attachment, handed only
  to the owning brand, staff, or a clipper whose application is approved.
"""

from __future__ import annotations

from sqlalchemy import select

from app.audit import service as audit
from app.campaigns import applications
from app.campaigns.models import ASSET_KINDS, Campaign, CampaignAsset
from app.db import utcnow
from app.errors import ConflictError, NotFoundError, ValidationError
from app.extensions import db
from app.storage import UploadTicket, get_storage

UPLOADABLE_STATUSES = ("draft", "pending_review", "published", "paused")
MAX_FILENAME_LENGTH = 255


def _campaign_for_upload(campaign_id: int, brand_id: int) -> Campaign:
    campaign = db.session.get(Campaign, campaign_id)
    if campaign is None or campaign.brand_id != brand_id:
        raise NotFoundError("There is no such campaign.")
    if campaign.status not in UPLOADABLE_STATUSES:
        raise ConflictError("Assets can no longer be added to this campaign.")
    return campaign


def _kind(kind: str) -> str:
    if kind not in ASSET_KINDS:
        raise ValidationError("Upload a video or an image.", field="file")
    return kind


def upload_ticket(campaign_id: int, brand_id: int, *, kind: str, filename: str, content_type: str,
                  size_bytes: int | None) -> UploadTicket:
    """A presigned POST for one file under the campaign's prefix (nothing is recorded yet)."""
    campaign = _campaign_for_upload(campaign_id, brand_id)
    storage = get_storage()
    key = storage.new_key(campaign.asset_prefix, filename)
    return storage.presign_upload(key, _kind(kind), content_type, size_bytes)


def record_asset(campaign_id: int, brand_id: int, *, key: str, kind: str, filename: str,
                 size_bytes: int | None) -> CampaignAsset:
    """Confirm the uploaded object in storage and record it. Commits."""
    campaign = _campaign_for_upload(campaign_id, brand_id)
    stored = get_storage().confirm_upload(key, prefix=campaign.asset_prefix, kind=_kind(kind),
                                          expected_size=size_bytes)
    if db.session.scalar(select(CampaignAsset.id).where(CampaignAsset.key == stored.key)) is not None:
        raise ConflictError("This file is already recorded.")
    name = (filename or "").strip()[:MAX_FILENAME_LENGTH] or stored.key.rsplit("/", 1)[-1]
    asset = CampaignAsset(campaign_id=campaign.id, key=stored.key, kind=kind, original_filename=name,
                          content_type=stored.content_type, size_bytes=stored.size_bytes, etag=stored.etag,
                          uploaded_by_id=brand_id, created_at=utcnow())
    db.session.add(asset)
    db.session.flush()
    audit.record(brand_id, "campaign.asset_added", "campaign", campaign.id, asset_id=asset.id,
                 size_bytes=stored.size_bytes, content_type=stored.content_type)
    db.session.commit()
    return asset


def assets_of(campaign_id: int) -> list[CampaignAsset]:
    return list(db.session.scalars(select(CampaignAsset).where(CampaignAsset.campaign_id == campaign_id)
                                   .order_by(CampaignAsset.id)))


def may_download(campaign: Campaign, user) -> bool:
    if user is None or not getattr(user, "is_authenticated", False):
        return False
    if user.role in ("admin", "support"):
        return True
    if user.role == "brand":
        return campaign.brand_id == user.id
    return user.role == "clipper" and applications.is_participant(campaign.id, user.id)


def download_url(campaign_id: int, asset_id: int, user) -> str:
    """A short-lived attachment URL for the asset, for those allowed (else not found)."""
    asset = db.session.get(CampaignAsset, asset_id)
    campaign = db.session.get(Campaign, campaign_id)
    if asset is None or campaign is None or asset.campaign_id != campaign.id or not may_download(campaign, user):
        raise NotFoundError("There is no such file.")
    return get_storage().presign_download(asset.key, asset.original_filename)
