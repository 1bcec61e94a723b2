"""The creation wizard over HTTP (htmx swaps and plain form posts) and bad input: each
bad value gets a clear message, a 422, and changes nothing; HTML never renders."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import func, select, update

from app.campaigns import service
from app.campaigns.models import Campaign
from app.errors import ValidationError
from tests.conftest import csrf_token_from
from tests.factories import PARTIAL, campaign_values, create_draft, create_published, fund_campaign

BASICS = {"title": "Summer drop", "brief": "Three clips.\nKeep it short.", "platforms": ["tiktok", "x"],
          "requirements": "#ad", "destination_url": ""}
BUDGET = {"currency": "USD", "cpm": "2.50", "budget": "5,000", "min_views_per_post": "1000",
          "max_payout_per_post": "", "max_earnings_per_clipper": "", "max_participants": ""}
SCHEDULE = {"starts_on": "2026-12-01", "ends_on": "2027-01-31", "hold_days": "3", "auto_approve_hours": "48",
            "approval_mode": "manual"}


@pytest.fixture
def brand_client(app, login_as, people):
    client = login_as(people.brand, on=app.test_client())
    client.token = csrf_token_from(client.get("/brand/campaigns/new").get_data(as_text=True))
    return client


def post(client, url, data, headers=None):
    return client.post(url, data={**data, "csrf_token": client.token}, headers=headers or {})


def campaign_count(db) -> int:
    return db.session.scalar(select(func.count()).select_from(Campaign))


def test_the_wizard_without_javascript_redirects_step_by_step_and_submits(db, brand_client, people):
    response = post(brand_client, "/brand/campaigns/new", BASICS)
    assert response.status_code == 303
    campaign_id = int(re.search(r"/brand/campaigns/(\d+)/steps/budget$", response.headers["Location"]).group(1))
    page = brand_client.get(response.headers["Location"]).get_data(as_text=True)
    assert "Step 2 of 5" in page

    response = post(brand_client, f"/brand/campaigns/{campaign_id}/steps/budget", BUDGET)
    assert response.headers["Location"].endswith(f"/brand/campaigns/{campaign_id}/steps/schedule")
    response = post(brand_client, f"/brand/campaigns/{campaign_id}/steps/schedule", SCHEDULE)
    assert response.headers["Location"].endswith("/steps/assets")
    response = post(brand_client, f"/brand/campaigns/{campaign_id}/steps/assets", {})
    assert response.headers["Location"].endswith("/steps/review")

    campaign = db.session.get(Campaign, campaign_id)
    assert (campaign.cpm_cents, campaign.budget_cents, campaign.platforms) == (250, 500_000, ["tiktok", "x"])
    assert campaign.ends_at.isoformat() == "2027-02-01T00:00:00+00:00"  # to the end of the last day

    review = brand_client.get(f"/brand/campaigns/{campaign_id}/steps/review").get_data(as_text=True)
    assert "Fund the campaign to submit it" in review
    response = post(brand_client, f"/brand/campaigns/{campaign_id}/submit", {})
    page = brand_client.get(response.headers["Location"]).get_data(as_text=True)
    assert "Fund the campaign before submitting" in page
    fund_campaign(campaign_id, people.admin.id)
    post(brand_client, f"/brand/campaigns/{campaign_id}/submit", {})
    db.session.expire_all()
    assert db.session.get(Campaign, campaign_id).status == "pending_review"


def test_with_htmx_each_step_swaps_the_next_one_in_place_and_pushes_its_url(db, brand_client):
    response = post(brand_client, "/brand/campaigns/new", BASICS, PARTIAL)
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert html.lstrip().startswith('<div id="wizard">') and "<html" not in html
    assert "Step 2 of 5" in html and 'name="cpm"' in html
    campaign_id = db.session.scalar(select(Campaign.id))
    assert response.headers["HX-Push-Url"] == f"/brand/campaigns/{campaign_id}/steps/budget"

    bad = post(brand_client, f"/brand/campaigns/{campaign_id}/steps/budget", {**BUDGET, "cpm": "-1"}, PARTIAL)
    assert bad.status_code == 422
    assert "more than zero" in bad.get_data(as_text=True) and "Step 2 of 5" in bad.get_data(as_text=True)


BAD_BASICS = [
    ({"brief": "x" * 100_000}, "far too long"),
    ({"brief": "Hello <script>alert(1)</script>"}, "plain text: remove HTML tags"),
    ({"brief": "<b>bold</b> claims"}, "plain text: remove HTML tags"),
    ({"platforms": ["tiktok", "myspace"]}, "Unknown platform &#39;myspace&#39;"),
    ({"platforms": []}, "Pick at least one platform"),
    ({"title": ""}, "Give the campaign a title"),
    ({"destination_url": "javascript:alert(1)"}, "full web address"),
]


@pytest.mark.parametrize(("change", "message"), BAD_BASICS)
def test_bad_basics_get_a_clear_message_and_create_nothing(db, brand_client, change, message):
    response = post(brand_client, "/brand/campaigns/new", {**BASICS, **change}, PARTIAL)
    assert response.status_code == 422
    assert message in response.get_data(as_text=True)
    assert campaign_count(db) == 0


BAD_BUDGET = [
    ({"cpm": "-2.50"}, "CPM must be more than zero"),
    ({"cpm": "0"}, "CPM must be more than zero"),
    ({"budget": "0"}, "Budget must be more than zero"),
    ({"budget": "-100"}, "Budget must be more than zero"),
    ({"cpm": "10.00", "budget": "9.99"}, "at least $10.00 at this CPM"),
    ({"cpm": "2.505"}, "at most 2 decimals"),
    ({"cpm": "lots"}, "is not an amount"),
    ({"max_payout_per_post": "6000"}, "cannot be more than the budget"),
]


@pytest.mark.parametrize(("change", "message"), BAD_BUDGET)
def test_bad_budget_gets_a_clear_message_and_changes_nothing(db, brand_client, people, change, message):
    campaign = service.create_campaign(people.brand.id, title="T", brief="B", platforms=["x"])
    response = post(brand_client, f"/brand/campaigns/{campaign.id}/steps/budget", {**BUDGET, **change}, PARTIAL)
    assert response.status_code == 422
    assert message in response.get_data(as_text=True)
    db.session.expire_all()
    stored = db.session.get(Campaign, campaign.id)
    assert (stored.cpm_cents, stored.budget_cents) == (None, None)


def test_end_before_start_is_refused(db, brand_client, people):
    campaign = service.create_campaign(people.brand.id, title="T", brief="B", platforms=["x"])
    response = post(brand_client, f"/brand/campaigns/{campaign.id}/steps/schedule",
                    {**SCHEDULE, "starts_on": "2027-01-31", "ends_on": "2026-12-01"}, PARTIAL)
    assert response.status_code == 422
    assert "The end date must be after the start date" in response.get_data(as_text=True)
    db.session.expire_all()
    assert db.session.get(Campaign, campaign.id).ends_at is None


@pytest.mark.parametrize(("change", "field"), [
    ({"cpm_cents": -250}, "cpm_cents"), ({"cpm_cents": 0}, "cpm_cents"), ({"budget_cents": 0}, "budget_cents"),
    ({"budget_cents": 249}, "budget_cents"), ({"platforms": ["vine"]}, "platforms"),
    ({"brief": "y" * 100_000}, "brief"), ({"brief": "<iframe src=x>"}, "brief"),
    ({"cpm_cents": 2.5}, "cpm_cents"), ({"currency": "BTC"}, "currency"), ({"approval_mode": "vibes"}, "approval_mode"),
])
def test_the_service_refuses_bad_values_and_creates_nothing(db, people, change, field):
    values = campaign_values(**change)
    with pytest.raises(ValidationError) as caught:
        service.create_campaign(people.brand.id, **values)
    assert caught.value.field == field
    assert caught.value.message
    db.session.rollback()
    assert campaign_count(db) == 0


def test_end_before_start_is_refused_by_the_service(db, people):
    values = campaign_values()
    values["ends_at"], values["starts_at"] = values["starts_at"], values["ends_at"]
    with pytest.raises(ValidationError, match="end date must be after"):
        service.create_campaign(people.brand.id, **values)
    db.session.rollback()
    assert campaign_count(db) == 0


def test_html_that_reached_the_database_is_shown_as_text(app, db, login_as, people):
    campaign_id = create_published(people.brand.id, people.admin.id, brief="Line one\nLine two & three")
    # Rows written before the rules existed (or by hand) must still never render as markup.
    db.session.execute(update(Campaign).where(Campaign.id == campaign_id)
                       .values(title="<img src=x onerror=alert(1)>", brief="<script>alert(1)</script>\nnext"))
    db.session.commit()
    clipper = login_as(people.clipper, on=app.test_client())
    html = clipper.get(f"/campaigns/{campaign_id}").get_data(as_text=True)
    assert "<script>alert(1)</script>" not in html and "<img src=x" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;<br>next" in html
    assert "&lt;img src=x onerror=alert(1)&gt;" in html


def test_line_breaks_and_symbols_in_a_valid_brief_show_as_text(app, db, login_as, people):
    campaign_id = create_published(people.brand.id, people.admin.id, brief="Use 3 < 5 & 7 > 2\nSecond line")
    html = login_as(people.clipper, on=app.test_client()).get(f"/campaigns/{campaign_id}").get_data(as_text=True)
    assert "Use 3 &lt; 5 &amp; 7 &gt; 2<br>Second line" in html


def test_brand_campaign_list_filters_by_status(db, brand_client, people):
    draft_id = create_draft(people.brand.id, title="Draft one")
    live_id = create_published(people.brand.id, people.admin.id, title="Live one")
    create_draft(people.other_brand.id, title="Not mine")
    html = brand_client.get("/brand/campaigns?status=published", headers=PARTIAL).get_data(as_text=True)
    assert f'data-campaign-id="{live_id}"' in html and f'data-campaign-id="{draft_id}"' not in html
    everything = brand_client.get("/brand/campaigns").get_data(as_text=True)
    assert "Draft one" in everything and "Live one" in everything and "Not mine" not in everything
