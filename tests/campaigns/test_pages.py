"""Pages over HTTP: admin review decisions (audited, with reasons), offline funding form,
clipper apply / my campaigns, and the notification bell with its unread count."""

from __future__ import annotations

import re

from sqlalchemy import select

from app.audit.models import AuditEvent
from app.campaigns import applications
from app.campaigns.models import Application, Campaign
from tests.conftest import csrf_token_from
from tests.factories import PARTIAL, create_draft, create_published, fund_campaign


def signed_in(app, login_as, user):
    client = login_as(user, on=app.test_client())
    client.token = csrf_token_from(client.get("/notifications").get_data(as_text=True))
    return client


def submitted(people) -> int:
    from app.campaigns import service

    campaign_id = create_draft(people.brand.id, title="Needs review")
    fund_campaign(campaign_id, people.admin.id)
    service.submit_campaign(campaign_id, people.brand.id)
    return campaign_id


def test_admin_queue_and_request_changes_with_a_reason(app, db, login_as, people):
    campaign_id = submitted(people)
    admin = signed_in(app, login_as, people.admin)
    queue = admin.get("/admin/campaigns").get_data(as_text=True)
    assert f'data-campaign-id="{campaign_id}"' in queue and "Needs review" in queue

    empty = admin.post(f"/admin/campaigns/{campaign_id}/request-changes", data={"csrf_token": admin.token,
                                                                               "reason": ""})
    assert empty.status_code == 422 and "Say what needs to change" in empty.get_data(as_text=True)
    assert db.session.get(Campaign, campaign_id).status == "pending_review"

    done = admin.post(f"/admin/campaigns/{campaign_id}/request-changes",
                      data={"csrf_token": admin.token, "reason": "Add #ad to the requirements"})
    assert done.status_code == 303 and done.headers["Location"] == "/admin/campaigns"
    db.session.expire_all()
    campaign = db.session.get(Campaign, campaign_id)
    assert (campaign.status, campaign.review_note) == ("draft", "Add #ad to the requirements")
    event = db.session.scalars(select(AuditEvent).where(AuditEvent.action == "campaign.draft")).one()
    assert (event.actor_id, event.reason) == (people.admin.id, "Add #ad to the requirements")

    brand = signed_in(app, login_as, people.brand)
    page = brand.get(f"/brand/campaigns/{campaign_id}").get_data(as_text=True)
    assert "Changes requested: Add #ad to the requirements" in page


def test_admin_approves_and_the_brand_bell_counts_it(app, db, login_as, people):
    campaign_id = submitted(people)
    admin = signed_in(app, login_as, people.admin)
    admin.post(f"/admin/campaigns/{campaign_id}/approve", data={"csrf_token": admin.token})
    db.session.expire_all()
    assert db.session.get(Campaign, campaign_id).status == "published"

    brand = signed_in(app, login_as, people.brand)
    bell = brand.get("/notifications/bell", headers=PARTIAL)
    assert bell.headers["Cache-Control"] == "private, no-store"
    html = bell.get_data(as_text=True)
    assert 'data-unread="1"' in html and 'hx-trigger="every 30s"' in html
    listing = brand.get("/notifications").get_data(as_text=True)
    assert "Your campaign “Needs review” was approved and is live." in listing
    brand.post("/notifications/read", data={"csrf_token": brand.token})
    assert "data-unread" not in brand.get("/notifications/bell", headers=PARTIAL).get_data(as_text=True)
    # Nobody else sees it.
    other = signed_in(app, login_as, people.other_brand)
    assert "Needs review" not in other.get("/notifications").get_data(as_text=True)


def test_every_page_loads_the_bell_after_navigation(app, db, login_as, people):
    page = signed_in(app, login_as, people.clipper).get("/campaigns").get_data(as_text=True)
    assert re.search(r'<a id="bell" href="/notifications"[^>]*hx-trigger="load, every 30s"', page)
    assert 'id="bell"' not in app.test_client().get("/campaigns").get_data(as_text=True)


def test_admin_records_offline_funding_through_the_form(app, db, login_as, people):
    campaign_id = create_draft(people.brand.id)
    admin = signed_in(app, login_as, people.admin)
    bad = admin.post(f"/admin/campaigns/{campaign_id}/funding",
                     data={"csrf_token": admin.token, "amount": "-5", "reference": "X"})
    assert bad.status_code == 422 and "cannot be negative" in bad.get_data(as_text=True)
    admin.post(f"/admin/campaigns/{campaign_id}/funding",
               data={"csrf_token": admin.token, "amount": "5,000.00", "reference": "WIRE-2026-11"})
    page = admin.get(f"/admin/campaigns/{campaign_id}").get_data(as_text=True)
    assert '<span class="funded">$5,000.00</span>' in page
    assert "campaign.funding_recorded" in page


def test_clipper_applies_with_htmx_and_sees_it_under_my_campaigns(app, db, login_as, people):
    campaign_id = create_published(people.brand.id, people.admin.id, title="Clip the launch")
    clipper = signed_in(app, login_as, people.clipper)
    empty = clipper.post(f"/campaigns/{campaign_id}/apply", data={"csrf_token": clipper.token, "pitch": ""},
                         headers=PARTIAL)
    assert empty.status_code == 422 and "Write a short pitch" in empty.get_data(as_text=True)
    sent = clipper.post(f"/campaigns/{campaign_id}/apply",
                        data={"csrf_token": clipper.token, "pitch": "Daily edits, 40k followers"}, headers=PARTIAL)
    assert sent.headers["HX-Redirect"] == f"/campaigns/{campaign_id}"
    mine = clipper.get("/my/campaigns").get_data(as_text=True)
    assert "Clip the launch" in mine and 'data-status="applied"' in mine

    brand = signed_in(app, login_as, people.brand)
    page = brand.get(f"/brand/campaigns/{campaign_id}").get_data(as_text=True)
    assert "Daily edits, 40k followers" in page
    application_id = db.session.scalar(select(Application.id))
    brand.post(f"/brand/applications/{application_id}/approve", data={"csrf_token": brand.token})
    assert applications.is_participant(campaign_id, people.clipper.id)
    assert 'data-status="approved"' in clipper.get("/my/campaigns").get_data(as_text=True)
