"""What a clipper reads about their earnings: balances the payouts page lacks (pending, owed)
and the per-campaign, per-post breakdown where every line names the count that caused it.

Invariants: read-only; a clipper's breakdown holds only rows whose ``clipper_id`` is theirs
(the caller passes ``current_user.id``, never an id from the request); three queries
whatever the number of posts (no lazy loads in templates).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy import select

from app.campaigns.models import Campaign
from app.earnings.models import EarningEntry, SubmissionEarning
from app.extensions import db
from app.ledger import reading as ledger_reading

MAX_POSTS = 200


@dataclass
class PostEarnings:
    submission_id: int
    post_url: str
    platform: str
    status: str
    gross_cents: int
    fee_cents: int
    pending_cents: int
    released_cents: int
    entries: list[EarningEntry] = field(default_factory=list)

    @property
    def net_cents(self) -> int:
        return self.gross_cents - self.fee_cents


@dataclass
class CampaignEarnings:
    campaign_id: int
    title: str
    currency: str
    cpm_cents: int
    posts: list[PostEarnings] = field(default_factory=list)

    @property
    def net_cents(self) -> int:
        return sum(p.net_cents for p in self.posts)

    @property
    def pending_cents(self) -> int:
        return sum(p.pending_cents for p in self.posts)


def pending_and_owed(user_id: int) -> dict[str, tuple[int, int]]:
    """Per currency: (pending in the hold window, owed back after a clawback)."""
    found: dict[str, list[int]] = {}
    for currency, purpose, cents in ledger_reading.balances_of("user", user_id,
                                                               ("clipper_pending", "clipper_receivable")):
        found.setdefault(currency, [0, 0])[0 if purpose == "clipper_pending" else 1] = (
            cents if purpose == "clipper_pending" else -cents)
    return {currency: (pending, owed) for currency, (pending, owed) in found.items()}


def breakdown_for(clipper_id: int) -> list[CampaignEarnings]:
    from app.submissions.models import Submission

    rows = db.session.execute(
        select(SubmissionEarning, Campaign.title, Campaign.cpm_cents, Submission.post_url, Submission.platform,
               Submission.status)
        .join(Campaign, Campaign.id == SubmissionEarning.campaign_id)
        .join(Submission, Submission.id == SubmissionEarning.submission_id)
        .where(SubmissionEarning.clipper_id == clipper_id)
        .order_by(SubmissionEarning.campaign_id.desc(), SubmissionEarning.submission_id.desc()).limit(MAX_POSTS)).all()
    campaigns: dict[int, CampaignEarnings] = {}
    posts: dict[int, PostEarnings] = {}
    for earning, title, cpm, url, platform, status in rows:
        campaign = campaigns.setdefault(earning.campaign_id, CampaignEarnings(
            earning.campaign_id, title, earning.currency, cpm or 0))
        post = PostEarnings(earning.submission_id, url, platform, status, earning.gross_cents, earning.fee_cents,
                            earning.pending_cents, earning.released_cents)
        campaign.posts.append(post)
        posts[earning.id] = post
    if posts:
        for entry in db.session.scalars(select(EarningEntry).where(EarningEntry.earning_id.in_(list(posts)))
                                        .order_by(EarningEntry.created_at.desc(), EarningEntry.id.desc())):
            posts[entry.earning_id].entries.append(entry)
    return list(campaigns.values())
