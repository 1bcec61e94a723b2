"""CPM and budget changes on a live campaign: a brand asks, an admin approves or rejects.
Every (from, to) pair of the request's statuses is tried; bad terms change nothing;
another brand gets 404, clippers and support 403; approval applies the new terms
atomically (and only once escrow covers a larger budget); approve racing withdraw on
PostgreSQL has exactly one winner."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from app.audit.models import AuditEvent
from app.campaigns import change_requests, service
from app.campaigns.models import CHANGE_REQUEST_STATUSES, Campaign, CampaignChangeRequest
from app.errors import ConflictError, NotFoundError, ValidationError
from app.ledger import service as ledger
from app.notifications.models import Notification
from tests.campaigns.test_concurrency import race
from tests.conftest import csrf_token_from
from tests.factories import create_draft, create_published, fund_campaign

# campaign_values(): CPM $2.50, budget $5,000.00, fully funded by create_published.
CPM, BUDGET = 250, 500_000


def audit_count(db, campaign_id: int) -> int:
    return db.session.scalar(select(func.count()).select_from(AuditEvent).where(
        AuditEvent.subject_type == "campaign", AuditEvent.subject_id == campaign_id))


def terms(db, campaign_id: int) -> tuple[int, int]:
    db.session.expire_all()
    campaign = db.session.get(Campaign, campaign_id)
    return campaign.cpm_cents, campaign.budget_cents


def request_count(db) -> int:
    return db.session.scalar(select(func.count()).select_from(CampaignChangeRequest))


def request_in(status: str, people, campaign_id: int) -> int:
    change = change_requests.request_change(campaign_id, people.brand.id, cpm_cents=300, reason="more reach")
    if status == "approved":
        change_requests.approve_change_request(change.id, people.admin.id)
    elif status == "rejected":
        change_requests.reject_change_request(change.id, people.admin.id, "not now")
    elif status == "withdrawn":
        change_requests.withdraw_change_request(change.id, people.brand.id)
    return change.id


ACTIONS = {
    "approved": lambda people, rid: change_requests.approve_change_request(rid, people.admin.id),
    "rejected": lambda people, rid: change_requests.reject_change_request(rid, people.admin.id, "no"),
    "withdrawn": lambda people, rid: change_requests.withdraw_change_request(rid, people.brand.id),
}


def test_the_table_is_exactly_the_documented_one():
    expected = {("pending", "approved"), ("pending", "rejected"), ("pending", "withdrawn")}
    assert expected == change_requests.TRANSITIONS
    # every target status has exactly one service function; "pending" is only ever a new row
    assert set(ACTIONS) == set(CHANGE_REQUEST_STATUSES) - {"pending"}


@pytest.mark.parametrize("from_status", CHANGE_REQUEST_STATUSES)
@pytest.mark.parametrize("to_status", sorted(ACTIONS))
def test_every_transition(db, people, from_status, to_status):
    campaign_id = create_published(people.brand.id, people.admin.id)
    request_id = request_in(from_status, people, campaign_id)
    before_terms, before_audit = terms(db, campaign_id), audit_count(db, campaign_id)
    if (from_status, to_status) in change_requests.TRANSITIONS:
        ACTIONS[to_status](people, request_id)
        db.session.expire_all()
        change = db.session.get(CampaignChangeRequest, request_id)
        assert change.status == to_status and change.decided_at is not None
        assert audit_count(db, campaign_id) > before_audit
        assert terms(db, campaign_id) == ((300, BUDGET) if to_status == "approved" else before_terms)
    else:
        with pytest.raises(ConflictError):
            ACTIONS[to_status](people, request_id)
        db.session.rollback()
        assert db.session.get(CampaignChangeRequest, request_id).status == from_status
        assert terms(db, campaign_id) == before_terms
        assert audit_count(db, campaign_id) == before_audit


def test_approval_applies_terms_and_notifies_the_brand(db, people):
    campaign_id = create_published(people.brand.id, people.admin.id)
    change = change_requests.request_change(campaign_id, people.brand.id, cpm_cents=400, budget_cents=400_000)
    assert terms(db, campaign_id) == (CPM, BUDGET)  # the campaign keeps running on the old terms
    change_requests.approve_change_request(change.id, people.admin.id)
    assert terms(db, campaign_id) == (400, 400_000)
    notice = db.session.scalar(select(Notification).where(Notification.user_id == people.brand.id,
                                                          Notification.kind == "campaign_change_approved"))
    assert notice is not None and "$4.00" in notice.data["terms"]
    actions = db.session.scalars(select(AuditEvent.action).where(AuditEvent.subject_id == campaign_id)).all()
    assert {"campaign.change_requested", "campaign.change_approved", "campaign.terms_changed"} <= set(actions)


def test_a_larger_budget_needs_funding_before_approval(db, people):
    campaign_id = create_published(people.brand.id, people.admin.id)
    change = change_requests.request_change(campaign_id, people.brand.id, budget_cents=BUDGET + 100_000)
    with pytest.raises(change_requests.ChangeNotCoveredError, match=r"\$1,000.00 more"):
        change_requests.approve_change_request(change.id, people.admin.id)
    db.session.rollback()
    assert terms(db, campaign_id) == (CPM, BUDGET)
    assert db.session.get(CampaignChangeRequest, change.id).status == "pending"
    fund_campaign(campaign_id, people.admin.id, 100_000, reference="WIRE-2")
    change_requests.approve_change_request(change.id, people.admin.id)
    assert terms(db, campaign_id) == (CPM, BUDGET + 100_000)


def test_rejection_keeps_terms_and_needs_a_reason(db, people):
    campaign_id = create_published(people.brand.id, people.admin.id)
    change = change_requests.request_change(campaign_id, people.brand.id, cpm_cents=300)
    with pytest.raises(ValidationError):
        change_requests.reject_change_request(change.id, people.admin.id, "   ")
    db.session.rollback()
    change_requests.reject_change_request(change.id, people.admin.id, "CPM too high for the niche")
    assert terms(db, campaign_id) == (CPM, BUDGET)
    notice = db.session.scalar(select(Notification).where(Notification.kind == "campaign_change_rejected"))
    assert notice.user_id == people.brand.id and notice.data["reason"] == "CPM too high for the niche"


def test_one_pending_request_per_campaign(db, people):
    campaign_id = create_published(people.brand.id, people.admin.id)
    first = change_requests.request_change(campaign_id, people.brand.id, cpm_cents=300)
    with pytest.raises(ConflictError):
        change_requests.request_change(campaign_id, people.brand.id, cpm_cents=350)
    db.session.rollback()
    change_requests.withdraw_change_request(first.id, people.brand.id)
    change_requests.request_change(campaign_id, people.brand.id, cpm_cents=350)
    assert request_count(db) == 2


@pytest.mark.parametrize("status", ["draft", "pending_review"])
def test_only_live_campaigns_take_requests(db, people, status):
    campaign_id = create_draft(people.brand.id)
    if status == "pending_review":
        fund_campaign(campaign_id, people.admin.id)
        service.submit_campaign(campaign_id, people.brand.id)
    with pytest.raises(ConflictError):
        change_requests.request_change(campaign_id, people.brand.id, cpm_cents=300)
    db.session.rollback()
    assert request_count(db) == 0


BAD_TERMS = [
    dict(cpm_cents=0), dict(cpm_cents=-5), dict(budget_cents=0), dict(budget_cents=-100),
    dict(cpm_cents=10**20), dict(budget_cents=10**20), dict(cpm_cents="abc"), dict(budget_cents=2.5),
    dict(budget_cents=CPM - 1),  # less than one CPM unit (1,000 views) at the current CPM
    dict(cpm_cents=BUDGET + 1),  # a CPM the current budget cannot pay 1,000 views of
    dict(cpm_cents=CPM, budget_cents=BUDGET),  # nothing changes
    dict(),  # nothing asked
]


@pytest.mark.parametrize("bad", BAD_TERMS, ids=[repr(b) for b in BAD_TERMS])
def test_bad_terms_change_nothing(db, people, bad):
    campaign_id = create_published(people.brand.id, people.admin.id)
    before = audit_count(db, campaign_id)
    with pytest.raises(ValidationError) as caught:
        change_requests.request_change(campaign_id, people.brand.id, **bad)
    assert caught.value.message
    db.session.rollback()
    assert request_count(db) == 0 and audit_count(db, campaign_id) == before
    assert terms(db, campaign_id) == (CPM, BUDGET)


def test_budget_cannot_go_below_what_is_spent(db, people):
    campaign_id = create_published(people.brand.id, people.admin.id)
    # Simulate accrued earnings: 3,000.00 leaves escrow for a clipper (as earnings will).
    escrow = ledger.get_account("campaign", campaign_id, "campaign_escrow", "USD")
    pending = ledger.get_account("user", people.clipper.id, "clipper_pending", "USD")
    ledger.post("test-spend", "earning", [ledger.Line(escrow, -300_000), ledger.Line(pending, 300_000)])
    db.session.commit()
    with pytest.raises(ValidationError, match=r"already spent \(\$3,000.00\)"):
        change_requests.request_change(campaign_id, people.brand.id, budget_cents=299_999)
    db.session.rollback()
    # 3,000 spent + 2,000 in escrow = 5,000 received: a 4,000 budget is covered and allowed.
    change = change_requests.request_change(campaign_id, people.brand.id, budget_cents=400_000)
    change_requests.approve_change_request(change.id, people.admin.id)
    assert terms(db, campaign_id) == (CPM, 400_000)


def test_another_brand_cannot_request_or_withdraw(db, people):
    campaign_id = create_published(people.brand.id, people.admin.id)
    with pytest.raises(NotFoundError):
        change_requests.request_change(campaign_id, people.other_brand.id, cpm_cents=300)
    db.session.rollback()
    change = change_requests.request_change(campaign_id, people.brand.id, cpm_cents=300)
    with pytest.raises(NotFoundError):
        change_requests.withdraw_change_request(change.id, people.other_brand.id)
    db.session.rollback()
    assert db.session.get(CampaignChangeRequest, change.id).status == "pending"


# -- over HTTP ------------------------------------------------------------------------------

def _post(client, login_as, csrf_token, user, url, **data):
    """POST as ``user`` with a CSRF token read from a page every signed-in role may open."""
    login_as(user, on=client)
    token = csrf_token_from(client.get("/notifications").get_data(as_text=True))
    return client.post(url, data={"csrf_token": token, **data})


def test_brand_requests_and_withdraws_over_http(db, people, client, login_as, csrf_token):
    campaign_id = create_published(people.brand.id, people.admin.id)
    response = _post(client, login_as, csrf_token, people.brand, f"/brand/campaigns/{campaign_id}/change-request",
                     cpm="3.00", budget="6,000.00", reason="Holiday push")
    assert response.status_code == 303
    page = client.get(f"/brand/campaigns/{campaign_id}").get_data(as_text=True)
    assert "Change waiting for review" in page and "$6,000.00" in page
    assert "needs funding first" in page and "$1,000.00" in page
    change = change_requests.pending_request(campaign_id)
    assert (change.cpm_cents, change.budget_cents) == (300, 600_000)
    response = _post(client, login_as, csrf_token, people.brand, f"/brand/change-requests/{change.id}/withdraw")
    assert response.status_code == 303
    db.session.expire_all()
    assert change_requests.pending_request(campaign_id) is None


def test_non_numeric_budget_over_http_changes_nothing(db, people, client, login_as, csrf_token):
    campaign_id = create_published(people.brand.id, people.admin.id)
    _post(client, login_as, csrf_token, people.brand, f"/brand/campaigns/{campaign_id}/change-request",
          cpm="", budget="lots")
    page = client.get(f"/brand/campaigns/{campaign_id}").get_data(as_text=True)
    assert "is not an amount" in page
    assert request_count(db) == 0


@pytest.mark.parametrize("who,expected", [("other_brand", 404), ("clipper", 403), ("support", 403)])
def test_others_cannot_request_or_withdraw_over_http(db, people, client, login_as, csrf_token, who, expected):
    campaign_id = create_published(people.brand.id, people.admin.id)
    change = change_requests.request_change(campaign_id, people.brand.id, cpm_cents=300)
    user = getattr(people, who)
    assert _post(client, login_as, csrf_token, user, f"/brand/campaigns/{campaign_id}/change-request",
                 cpm="9.00").status_code == expected
    assert _post(client, login_as, csrf_token, user,
                 f"/brand/change-requests/{change.id}/withdraw").status_code == expected
    db.session.expire_all()
    assert request_count(db) == 1 and db.session.get(CampaignChangeRequest, change.id).status == "pending"


def test_admin_queue_lists_and_approves_over_http(db, people, client, login_as, csrf_token):
    campaign_id = create_published(people.brand.id, people.admin.id, title="Winter drop")
    change = change_requests.request_change(campaign_id, people.brand.id, cpm_cents=310, reason="more reach")
    login_as(people.admin, on=client)
    page = client.get("/admin/campaigns").get_data(as_text=True)
    assert f'data-change-request-id="{change.id}"' in page and "Winter drop" in page and "$3.10" in page
    # support may not decide
    assert _post(client, login_as, csrf_token, people.support,
                 f"/admin/campaigns/change-requests/{change.id}/approve").status_code == 403
    response = _post(client, login_as, csrf_token, people.admin,
                     f"/admin/campaigns/change-requests/{change.id}/approve")
    assert response.status_code == 303
    assert terms(db, campaign_id) == (310, BUDGET)


# -- PostgreSQL: approve racing withdraw ----------------------------------------------------

def test_approve_and_withdraw_at_once_one_wins(app, db, people):
    campaign_id = create_published(people.brand.id, people.admin.id)
    current_cpm, admin_id, brand_id = CPM, people.admin.id, people.brand.id
    for round_number in range(3):
        # a plain int: the threads must not touch this session's objects
        request_id = change_requests.request_change(campaign_id, people.brand.id, cpm_cents=300 + round_number).id
        outcomes = race(app, lambda rid=request_id: change_requests.approve_change_request(rid, admin_id).status,
                        lambda rid=request_id: change_requests.withdraw_change_request(rid, brand_id).status)
        kinds = [kind for kind, _ in outcomes]
        assert sorted(kinds) == ["lost", "won"], outcomes
        db.session.expire_all()
        final = db.session.get(CampaignChangeRequest, request_id).status
        winner = outcomes[kinds.index("won")][1]
        assert final == winner
        if final == "approved":
            current_cpm = 300 + round_number
        assert terms(db, campaign_id)[0] == current_cpm
