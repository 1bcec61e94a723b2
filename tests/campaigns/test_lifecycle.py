"""The campaign and application lifecycles: every (from, to) pair of statuses is tried
through the one transition function — allowed pairs move and leave an audit event,
forbidden pairs raise and change nothing — plus the guards around submission, review,
funding and live edits."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import func, select

from app.audit.models import AuditEvent
from app.campaigns import applications, escrow, service
from app.campaigns.models import APPLICATION_STATUSES, CAMPAIGN_STATUSES, Application, Campaign
from app.errors import ConflictError, NotFoundError, ValidationError
from app.notifications.models import Notification
from tests.factories import create_draft, create_published, fund_campaign

EXPECTED_CAMPAIGN_TRANSITIONS = {
    ("draft", "pending_review"), ("pending_review", "published"), ("pending_review", "draft"),
    ("published", "paused"), ("paused", "published"), ("published", "completed"), ("paused", "completed"),
    ("draft", "discarded"), ("pending_review", "discarded"),
}
EXPECTED_APPLICATION_TRANSITIONS = {
    ("applied", "approved"), ("applied", "rejected"), ("approved", "removed"), ("applied", "withdrawn"),
}


def campaign_in(status: str, people) -> int:
    """A funded campaign brought to ``status`` through the real service functions."""
    brand, admin = people.brand.id, people.admin.id
    campaign_id = create_draft(brand)
    fund_campaign(campaign_id, admin)
    if status == "discarded":
        service.withdraw_campaign(campaign_id, brand)
    if status in ("pending_review", "published", "paused", "completed"):
        service.submit_campaign(campaign_id, brand)
    if status in ("published", "paused", "completed"):
        service.approve_campaign(campaign_id, admin)
    if status == "paused":
        service.pause_campaign(campaign_id, brand)
    if status == "completed":
        service.complete_campaign(campaign_id, brand)
    return campaign_id


def audit_count(db, subject_type: str, subject_id: int) -> int:
    return db.session.scalar(select(func.count()).select_from(AuditEvent).where(
        AuditEvent.subject_type == subject_type, AuditEvent.subject_id == subject_id))


def test_the_tables_are_exactly_the_documented_ones():
    assert service.TRANSITIONS == EXPECTED_CAMPAIGN_TRANSITIONS
    assert applications.TRANSITIONS == EXPECTED_APPLICATION_TRANSITIONS


@pytest.mark.parametrize("from_status", CAMPAIGN_STATUSES)
def test_every_campaign_transition_from(db, people, from_status):
    """One campaign in ``from_status``; each target is tried inside a savepoint that is
    rolled back afterwards, so every pair starts from the same committed row."""
    campaign_id = campaign_in(from_status, people)
    events_before = audit_count(db, "campaign", campaign_id)
    for to_status in CAMPAIGN_STATUSES:
        pair = (from_status, to_status)
        savepoint = db.session.begin_nested()
        if pair in EXPECTED_CAMPAIGN_TRANSITIONS:
            service.transition(campaign_id, to_status, actor_id=people.admin.id, reason="a reason")
            db.session.flush()
            db.session.expire_all()
            assert db.session.get(Campaign, campaign_id).status == to_status, pair
            event = db.session.scalars(select(AuditEvent).where(AuditEvent.subject_id == campaign_id,
                                                                AuditEvent.subject_type == "campaign")
                                       .order_by(AuditEvent.id.desc())).first()
            assert (event.action, event.actor_id, event.data["from_status"], event.reason) == (
                f"campaign.{to_status}", people.admin.id, from_status, "a reason"), pair
        else:
            with pytest.raises(ConflictError):
                service.transition(campaign_id, to_status, actor_id=people.admin.id, reason="a reason")
            db.session.expire_all()
            assert db.session.get(Campaign, campaign_id).status == from_status, pair
            assert audit_count(db, "campaign", campaign_id) == events_before, pair
        savepoint.rollback()


def application_in(status: str, people, campaign_id: int) -> int:
    application = applications.apply(campaign_id, people.clipper.id, "I cut fast, clean clips.")
    if status == "approved" or status == "removed":
        applications.approve_application(application.id, people.brand.id)
    if status == "removed":
        applications.remove_participant(application.id, people.brand.id, "off-brief posts")
    if status == "rejected":
        applications.reject_application(application.id, people.brand.id)
    if status == "withdrawn":
        applications.withdraw_application(application.id, people.clipper.id)
    return application.id


@pytest.mark.parametrize("from_status", APPLICATION_STATUSES)
def test_every_application_transition_from(db, people, from_status):
    campaign_id = create_published(people.brand.id, people.admin.id)
    application_id = application_in(from_status, people, campaign_id)
    events_before = audit_count(db, "application", application_id)
    for to_status in APPLICATION_STATUSES:
        pair = (from_status, to_status)
        savepoint = db.session.begin_nested()
        if pair in EXPECTED_APPLICATION_TRANSITIONS:
            applications.transition(application_id, to_status, actor_id=people.brand.id, reason="why")
            db.session.flush()
            db.session.expire_all()
            assert db.session.get(Application, application_id).status == to_status, pair
            assert audit_count(db, "application", application_id) == events_before + 1, pair
        else:
            with pytest.raises(ConflictError):
                applications.transition(application_id, to_status, actor_id=people.brand.id, reason="why")
            db.session.expire_all()
            assert db.session.get(Application, application_id).status == from_status, pair
            assert audit_count(db, "application", application_id) == events_before, pair
        savepoint.rollback()



# -- guards --------------------------------------------------------------------------------

def test_an_unfunded_campaign_cannot_be_submitted(db, people):
    campaign_id = create_draft(people.brand.id)
    fund_campaign(campaign_id, people.admin.id, amount_cents=100_000)  # a fifth of the budget
    with pytest.raises(ValidationError, match=r"Fund the campaign before submitting: \$1,000.00 of \$5,000.00"):
        service.submit_campaign(campaign_id, people.brand.id)
    db.session.rollback()
    assert db.session.get(Campaign, campaign_id).status == "draft"


def test_an_incomplete_draft_cannot_be_submitted(db, people):
    campaign = service.create_campaign(people.brand.id, title="Only basics", brief="Brief", platforms=["x"])
    with pytest.raises(ValidationError, match="Before submitting, add: CPM, Budget, Start date, End date"):
        service.submit_campaign(campaign.id, people.brand.id)


def test_another_brand_cannot_submit_or_pause_my_campaign(db, people):
    campaign_id = create_draft(people.brand.id)
    fund_campaign(campaign_id, people.admin.id)
    for action in (service.submit_campaign, service.pause_campaign, service.withdraw_campaign):
        with pytest.raises(NotFoundError):
            action(campaign_id, people.other_brand.id)
    assert db.session.get(Campaign, campaign_id).status == "draft"


def test_a_brand_cannot_publish_its_own_pending_campaign_by_resuming_it(db, people):
    campaign_id = campaign_in("pending_review", people)
    with pytest.raises(ConflictError):
        service.resume_campaign(campaign_id, people.brand.id)
    db.session.rollback()
    assert db.session.get(Campaign, campaign_id).status == "pending_review"
    assert service.allowed_actions(db.session.get(Campaign, campaign_id), people.brand) == {"discard"}
    assert service.allowed_actions(db.session.get(Campaign, campaign_id), people.admin) == {"review"}


def test_requesting_changes_needs_a_reason_and_tells_the_brand(db, people):
    campaign_id = campaign_in("pending_review", people)
    with pytest.raises(ValidationError, match="Say what needs to change"):
        service.request_changes(campaign_id, people.admin.id, "   ")
    db.session.rollback()
    service.request_changes(campaign_id, people.admin.id, "Add the disclosure text #ad")
    campaign = db.session.get(Campaign, campaign_id)
    assert (campaign.status, campaign.review_note) == ("draft", "Add the disclosure text #ad")
    notice = db.session.scalars(select(Notification).where(Notification.user_id == people.brand.id)
                                .order_by(Notification.id.desc())).first()
    assert notice.kind == "campaign_changes_requested"
    assert notice.data["reason"] == "Add the disclosure text #ad"


def test_approval_publishes_audits_who_and_notifies_the_brand(db, people):
    campaign_id = campaign_in("pending_review", people)
    service.approve_campaign(campaign_id, people.admin.id)
    campaign = db.session.get(Campaign, campaign_id)
    assert campaign.status == "published" and campaign.published_at is not None
    event = db.session.scalars(select(AuditEvent).where(AuditEvent.action == "campaign.published")).one()
    assert (event.actor_id, event.subject_id) == (people.admin.id, campaign_id)
    kinds = db.session.scalars(select(Notification.kind).where(Notification.user_id == people.brand.id)).all()
    assert "campaign_approved" in kinds


def test_offline_funding_goes_through_the_ledger_once_per_reference(db, people):
    campaign_id = create_draft(people.brand.id)
    assert escrow.funded_cents(campaign_id) == 0
    assert fund_campaign(campaign_id, people.admin.id, 300_000, "WIRE-7") == 300_000
    assert fund_campaign(campaign_id, people.admin.id, 300_000, "WIRE-7") == 300_000  # the same payment again
    assert fund_campaign(campaign_id, people.admin.id, 200_000, "WIRE-8") == 500_000
    with pytest.raises(ConflictError):
        fund_campaign(campaign_id, people.admin.id, 999, "WIRE-8")  # same reference, other amount
    db.session.rollback()
    assert escrow.funded_cents(campaign_id) == 500_000
    events = db.session.scalars(select(AuditEvent).where(AuditEvent.action == "campaign.funding_recorded")).all()
    assert sorted(e.data["reference"] for e in events) == ["WIRE-7", "WIRE-8"]
    from app.ledger import service as ledger

    assert ledger.check_integrity() == []


@pytest.mark.parametrize("amount", [0, -5, 10**13])
def test_offline_funding_refuses_bad_amounts(db, people, amount):
    campaign_id = create_draft(people.brand.id)
    with pytest.raises(ValidationError):
        fund_campaign(campaign_id, people.admin.id, amount)
    assert escrow.funded_cents(campaign_id) == 0


def test_live_campaign_edits_are_limited(db, people):
    campaign_id = create_published(people.brand.id, people.admin.id, max_participants=5)
    campaign = db.session.get(Campaign, campaign_id)
    later = campaign.ends_at + timedelta(days=7)
    service.edit_live_campaign(campaign_id, people.brand.id, brief="New brief", ends_at=later, max_participants=9)
    db.session.expire_all()
    campaign = db.session.get(Campaign, campaign_id)
    assert (campaign.brief, campaign.ends_at, campaign.max_participants) == ("New brief", later, 9)

    with pytest.raises(ValidationError, match="only move later"):
        service.edit_live_campaign(campaign_id, people.brand.id, ends_at=later - timedelta(days=1))
    db.session.rollback()
    with pytest.raises(ValidationError, match="can only go up"):
        service.edit_live_campaign(campaign_id, people.brand.id, max_participants=3)
    db.session.rollback()
    with pytest.raises(ValidationError, match="new review"):
        service.edit_live_campaign(campaign_id, people.brand.id, cpm_cents=1)
    db.session.rollback()
    with pytest.raises(ConflictError):
        service.update_draft(campaign_id, people.brand.id, cpm_cents=1)
    db.session.rollback()
    db.session.expire_all()
    assert db.session.get(Campaign, campaign_id).cpm_cents == 250


def test_one_application_per_clipper_and_only_to_published_campaigns(db, people):
    campaign_id = create_published(people.brand.id, people.admin.id)
    applications.apply(campaign_id, people.clipper.id, "pitch")
    with pytest.raises(ConflictError, match="already applied"):
        applications.apply(campaign_id, people.clipper.id, "again")
    db.session.rollback()
    draft_id = create_draft(people.brand.id)
    with pytest.raises(ConflictError, match="not taking applications"):
        applications.apply(draft_id, people.clipper.id, "pitch")
    db.session.rollback()
    with pytest.raises(ValidationError, match="short pitch"):
        applications.apply(campaign_id, people.other_clipper.id, "   ")
    db.session.rollback()
    assert db.session.scalar(select(func.count()).select_from(Application)) == 1


def test_automatic_mode_approves_at_once_and_notifies_both_sides(db, people):
    campaign_id = create_published(people.brand.id, people.admin.id, approval_mode="automatic")
    application = applications.apply(campaign_id, people.clipper.id, "pitch")
    assert application.status == "approved"
    assert applications.is_participant(campaign_id, people.clipper.id)
    kinds = {(n.user_id, n.kind) for n in db.session.scalars(select(Notification))}
    assert (people.brand.id, "application_received") in kinds
    assert (people.clipper.id, "application_approved") in kinds


def test_removing_a_participant_needs_a_reason(db, people):
    campaign_id = create_published(people.brand.id, people.admin.id)
    application = applications.apply(campaign_id, people.clipper.id, "pitch")
    applications.approve_application(application.id, people.brand.id)
    with pytest.raises(ValidationError, match="reason"):
        applications.remove_participant(application.id, people.brand.id, "")
    with pytest.raises(NotFoundError):
        applications.remove_participant(application.id, people.other_brand.id, "not mine")
    db.session.rollback()
    assert db.session.get(Application, application.id).status == "approved"
