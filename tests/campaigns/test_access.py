"""Object-level access, parametrised over routes x roles x owners: a brand reaches only
its own campaigns and applications, a clipper sees assets only once approved, staff
pages are for admins, and anonymous visitors get only the public feed."""

from __future__ import annotations

from types import SimpleNamespace

import pytest

from app.campaigns import applications
from app.campaigns.models import CampaignAsset
from app.db import utcnow
from tests.conftest import csrf_token_from
from tests.factories import create_draft, create_published

ROLES = ("anonymous", "owner", "other_brand", "participant", "applicant", "admin")
LOGIN, OK = "login", "ok"


def expect(anonymous=LOGIN, owner=OK, other_brand=403, participant=403, applicant=403, admin=403):
    return dict(anonymous=anonymous, owner=owner, other_brand=other_brand, participant=participant,
                applicant=applicant, admin=admin)


# (name, method, url with {published} {draft} {asset} {approved_app} {applied_app}, who gets what)
ROUTES = [
    ("feed", "GET", "/campaigns", expect(anonymous=OK, other_brand=OK, participant=OK, applicant=OK, admin=OK)),
    ("published detail", "GET", "/campaigns/{published}",
     expect(other_brand=404, participant=OK, applicant=OK, admin=OK)),
    ("draft detail", "GET", "/campaigns/{draft}", expect(other_brand=404, participant=404, applicant=404, admin=OK)),
    ("asset download", "GET", "/campaigns/{published}/assets/{asset}",
     expect(other_brand=404, participant=OK, applicant=404, admin=OK)),
    ("asset of another campaign", "GET", "/campaigns/{draft}/assets/{asset}",
     expect(owner=404, other_brand=404, participant=404, applicant=404, admin=404)),
    ("brand campaign page", "GET", "/brand/campaigns/{published}", expect(other_brand=404)),
    ("wizard step", "GET", "/brand/campaigns/{draft}/steps/budget", expect(other_brand=404)),
    ("pause", "POST", "/brand/campaigns/{published}/pause", expect(other_brand=404)),
    ("submit", "POST", "/brand/campaigns/{draft}/submit", expect(other_brand=404)),
    ("approve application", "POST", "/brand/applications/{applied_app}/approve", expect(other_brand=404)),
    ("remove participant", "POST", "/brand/applications/{approved_app}/remove", expect(other_brand=404)),
    ("upload ticket", "POST", "/brand/campaigns/{published}/assets/ticket", expect(other_brand=404)),
    ("review queue", "GET", "/admin/campaigns", expect(owner=403, admin=OK)),
    ("review page", "GET", "/admin/campaigns/{draft}", expect(owner=403, admin=OK)),
    ("record funding", "POST", "/admin/campaigns/{draft}/funding", expect(owner=403, admin=OK)),
    ("my campaigns", "GET", "/my/campaigns", expect(owner=403, participant=OK, applicant=OK)),
    ("withdraw application", "POST", "/applications/{applied_app}/withdraw",
     expect(owner=403, participant=404, applicant=OK)),
    ("apply", "POST", "/campaigns/{published}/apply", expect(owner=403, participant=409, applicant=409)),
    ("notifications", "GET", "/notifications", expect(other_brand=OK, participant=OK, applicant=OK, admin=OK)),
]

FORMS = {
    "upload ticket": {"kind": "image", "filename": "logo.png", "content_type": "image/png", "size_bytes": "100"},
    "remove participant": {"reason": "off-brief"},
    "record funding": {"amount": "10", "reference": "R-1"},
    "apply": {"pitch": "Me again"},
}


@pytest.fixture
def world(app, db, people, login_as):
    published = create_published(people.brand.id, people.admin.id)
    draft = create_draft(people.brand.id)
    asset = CampaignAsset(campaign_id=published, key=f"campaigns/{published}/assets/{'a' * 32}/cut.mp4", kind="video",
                          original_filename="cut.mp4", content_type="video/mp4", size_bytes=10, etag="x",
                          uploaded_by_id=people.brand.id, created_at=utcnow())
    db.session.add(asset)
    db.session.commit()
    approved = applications.apply(published, people.clipper.id, "pitch")
    applications.approve_application(approved.id, people.brand.id)
    applied = applications.apply(published, people.other_clipper.id, "pitch")
    users = {"owner": people.brand, "other_brand": people.other_brand, "participant": people.clipper,
             "applicant": people.other_clipper, "admin": people.admin}
    return SimpleNamespace(ids=dict(published=published, draft=draft, asset=asset.id, approved_app=approved.id,
                                    applied_app=applied.id), users=users, app=app, login_as=login_as)


def client_as(world, role: str):
    client = world.app.test_client()
    if role != "anonymous":
        world.login_as(world.users[role], on=client)
    page = client.get("/login" if role == "anonymous" else "/notifications").get_data(as_text=True)
    client.token = csrf_token_from(page)
    return client


@pytest.mark.parametrize(("name", "method", "url", "expected"), ROUTES, ids=[route[0] for route in ROUTES])
def test_route_access_for_every_role(world, name, method, url, expected):
    # Roles that are refused go first: a POST that succeeds changes the state the next role would meet.
    for role in sorted(ROLES, key=lambda r: expected[r] == OK):
        client = client_as(world, role)
        path = url.format(**world.ids)
        if method == "GET":
            response = client.get(path)
        else:
            response = client.post(path, data={"csrf_token": client.token, **FORMS.get(name, {})})
        want = expected[role]
        location = response.headers.get("Location", "")
        seen = (role, response.status_code, location)
        if want == LOGIN:
            assert response.status_code == 302 and "/login" in location, seen
        elif want == OK:
            assert response.status_code in (200, 302, 303) and "/login" not in location, seen
        else:
            assert response.status_code == want, seen


def test_assets_are_listed_only_for_approved_clippers_and_the_download_is_an_attachment(world):
    published, asset = world.ids["published"], world.ids["asset"]
    link = f"/campaigns/{published}/assets/{asset}"
    assert link in client_as(world, "participant").get(f"/campaigns/{published}").get_data(as_text=True)
    assert link not in client_as(world, "applicant").get(f"/campaigns/{published}").get_data(as_text=True)
    response = client_as(world, "participant").get(link)
    assert response.status_code == 302 and response.headers["Location"].startswith("/storage/download/")
    assert response.headers["Cache-Control"] == "private, no-store"


def test_a_removed_participant_loses_the_assets(world, people):
    applications.remove_participant(world.ids["approved_app"], people.brand.id, "off-brief posts")
    response = client_as(world, "participant").get(f"/campaigns/{world.ids['published']}/assets/{world.ids['asset']}")
    assert response.status_code == 404
