"""Racing for the last participant place on PostgreSQL: two brand approvals (or an
approval and an automatic application) at the same moment, each in its own thread,
app context and database session. Exactly one wins; the count never passes the cap."""

from __future__ import annotations

import threading

from sqlalchemy import func, select

from app.campaigns import applications
from app.campaigns.models import Application
from app.errors import DomainError
from tests.factories import create_published


def race(app, *calls):
    """Run each call in its own thread and app context, released together; their outcomes."""
    barrier = threading.Barrier(len(calls))
    outcomes: list = [None] * len(calls)

    def run(index, call):
        with app.app_context():
            from app.extensions import db

            try:
                barrier.wait(timeout=10)
                outcomes[index] = ("won", call())
            except DomainError as error:
                db.session.rollback()
                outcomes[index] = ("lost", error)
            finally:
                db.session.remove()

    threads = [threading.Thread(target=run, args=(i, call)) for i, call in enumerate(calls)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    return outcomes


def approved(db, campaign_id: int) -> int:
    db.session.expire_all()
    return db.session.scalar(select(func.count()).select_from(Application).where(
        Application.campaign_id == campaign_id, Application.status == "approved"))


def test_two_approvals_for_the_last_place_one_wins(app, db, people):
    campaign_id = create_published(people.brand.id, people.admin.id, max_participants=1)
    first = applications.apply(campaign_id, people.clipper.id, "pitch one").id
    second = applications.apply(campaign_id, people.other_clipper.id, "pitch two").id
    db.session.commit()

    for _attempt in range(3):  # the race is real every time; repeat to make a lucky pass unlikely
        outcomes = race(app, lambda: applications.approve_application(first, people.brand.id).id,
                        lambda: applications.approve_application(second, people.brand.id).id)
        assert sorted(kind for kind, _ in outcomes) == ["lost", "won"], outcomes
        loser = next(value for kind, value in outcomes if kind == "lost")
        assert isinstance(loser, applications.CampaignFullError)
        assert loser.message == "This campaign has no places left."
        assert approved(db, campaign_id) == 1
        # Reset: put both back to "applied" for the next round (test-only shortcut).
        db.session.execute(Application.__table__.update().where(Application.campaign_id == campaign_id)
                           .values(status="applied"))
        db.session.commit()


def test_automatic_applications_racing_for_the_last_place(app, db, people):
    from tests.factories import make_user

    racers = [people.other_clipper.id, make_user("clipper").id, make_user("clipper").id]
    for round_number in range(3):  # repeated, like the test above, so a lucky interleaving cannot pass it
        campaign_id = create_published(people.brand.id, people.admin.id, max_participants=2,
                                       approval_mode="automatic", title=f"Round {round_number}")
        applications.apply(campaign_id, people.clipper.id, "first in")
        calls = [lambda clipper=clipper, campaign=campaign_id: applications.apply(campaign, clipper, "me").status
                 for clipper in racers]
        outcomes = race(app, *calls)
        assert sorted(kind for kind, _ in outcomes) == ["lost", "lost", "won"], outcomes
        assert approved(db, campaign_id) == 2
