"""Training, lectures and job fairs on the one event model (issue 20): sign-up beyond capacity
goes to the waiting list and moves up on a cancellation, check-in at the door, the reminder the
day before (in-app, mail, SMS), feedback afterwards; job posts by approved organisations only,
browsed by area and kind; and the front line's figures in the staff report service."""
from __future__ import annotations

import uuid
from datetime import date, timedelta

import pytest
from sqlalchemy import func, select

from market import areas, clock
from market.accounts.services import grant_role
from market.extensions import db
from market.models import Area, EventFeedback, JobPost, Notice, Organisation, Registration
from market.outreach import events as ev
from market.outreach import services
from market.staff.reports import outreach as report
from market.supply import operations as ops
from tests.support import DESK_T0, login, reload, submit_form


@pytest.fixture
def training(app, make_user):
    clock.set(app, DESK_T0)
    staff = make_user(("staff",))
    event = ops.create_event(staff, ops.EventData(
        title="直播带货技能培训", kind="training", venue="石浦镇妇女之家", starts_on=clock.today() + timedelta(days=1),
        registration_deadline=DESK_T0 + timedelta(hours=20), capacity=2, eligibility="all"))
    return staff, event


def test_waiting_list_moves_up_checkin_reminder_and_feedback(app, client, make_user, training):
    staff, event = training
    women = [make_user(("entrepreneur",), name=f"学员{n}") for n in range(3)]
    for w in women:
        login(client, w)
        assert client.post(f"/events/{event.id}/register", data={"organisation": "0"}).status_code == 302
    statuses = [db.session.scalar(select(Registration.status).where(Registration.user_id == w.id)) for w in women]
    assert statuses == ["registered", "registered", "waiting"]
    page = client.get("/outreach/events").get_data(as_text=True)
    assert "直播带货技能培训" in page
    # The second cancels: the first on the waiting list moves up (and is told).
    login(client, women[1])
    client.post(f"/events/{event.id}/withdraw")
    db.session.expire_all()
    assert db.session.scalar(select(Registration.status).where(Registration.user_id == women[2].id)) == "registered"
    # The day before: a reminder to each registered participant, once, on in-app, mail and SMS channels.
    assert ev.send_reminders() == 2
    assert ev.send_reminders() == 0
    kinds = db.session.scalars(select(Notice.channel).where(Notice.kind == "event_reminder",
                                                            Notice.user_id == women[0].id)).all()
    assert "inapp" in kinds and "mail" in kinds
    # Check-in at the door (the supply module's page, from a phone).
    login(client, staff)
    reg = db.session.scalar(select(Registration).where(Registration.user_id == women[0].id))
    assert client.post(f"/staff/events/{event.id}/checkin", data={"registration": str(reg.id)}).status_code == 302
    assert reload(reg).checked_in_at is not None
    # Feedback opens on the day.
    login(client, women[0])
    resp = client.post(f"/outreach/events/{event.id}/feedback", data={"rating": "5", "comment": "很实用"},
                       follow_redirects=True)
    assert "day of the event" in resp.get_data(as_text=True) or "活动当天" in resp.get_data(as_text=True)
    clock.set(app, DESK_T0 + timedelta(days=1))
    resp = submit_form(client, "/outreach/events", {"rating": "4", "comment": "很实用"},
                       action=f"/outreach/events/{event.id}/feedback")
    assert resp.status_code == 302
    row = db.session.get(EventFeedback, (event.id, women[0].id))
    assert row.rating == 4 and row.comment == "很实用" and row.useful
    # Not a participant: refused.
    login(client, women[1])
    client.post(f"/outreach/events/{event.id}/feedback", data={"rating": "1"})
    assert db.session.scalar(select(func.count()).select_from(EventFeedback)) == 1
    # The figures count sign-ups, waiting and attendance.
    f = report.figures(date(2026, 10, 1), date(2026, 12, 31))
    assert (f.event_signups, f.event_waiting, f.event_attended) == (2, 0, 1)


def test_job_posts_by_approved_organisations_browsed_by_area_and_kind(client, make_user, app):
    clock.set(app, DESK_T0)
    staff = make_user(("staff",))
    boss = make_user(("buyer",), name="厂长")
    org = ops.save_organisation(boss, ops.OrgData(name="海产加工厂", categories=["food_processing"], description="海产品加工",
                                                  district="象山县"))
    district = db.session.scalar(select(Area).where(Area.name == "象山县"))
    other = db.session.scalar(select(Area).where(Area.name == "宁海县"))
    login(client, boss)
    assert client.get("/jobs/new").status_code == 403  # not approved yet
    ops.review_organisation(staff, org.id, "approved")
    fields = {"position": "分拣工", "kind": "part_time", "area_id": str(district.id), "place": "石浦镇",
              "pay_min": "3000", "pay_max": "4500", "hours": "8:00-12:00", "contact": "0574-1234567",
              "valid_until": (clock.today() + timedelta(days=30)).isoformat()}
    assert submit_form(client, "/jobs/new", fields).status_code == 302
    post = db.session.scalar(select(JobPost))
    assert (post.pay_min_fen, post.pay_max_fen, post.district) == (300000, 450000, "象山县")
    for bad in ({"pay_min": "5000", "pay_max": "100"}, {"position": ""}, {"valid_until": "2020-01-01"},
                {"pay_min": "abc"}, {"contact": ""}):
        resp = submit_form(client, "/jobs/new", {**fields, **bad})
        assert resp.status_code == 200, bad  # the form again, with the message
    assert db.session.scalar(select(func.count()).select_from(JobPost)) == 1
    client.post("/account/logout")
    assert "分拣工" in client.get(f"/jobs?area={district.id}&kind=part_time").get_data(as_text=True)
    assert "分拣工" not in client.get(f"/jobs?area={other.id}").get_data(as_text=True)
    assert "分拣工" not in client.get("/jobs?kind=full_time").get_data(as_text=True)
    # Another user cannot post for this organisation.
    login(client, make_user(("buyer",)))
    assert client.get("/jobs/new").status_code == 403
    assert db.session.get(Organisation, org.id).status == "approved"


def test_front_line_figures_by_area_cadre_and_period(app, client, make_user):
    clock.set(app, DESK_T0)
    from market.mentoring.services import ProfileData

    district = db.session.scalar(select(Area).where(Area.name == "象山县"))
    village = areas.add_area(areas.add_area(district.id, "石浦镇").id, "渔港村")
    staff = make_user(("staff",))
    grid = services.add_grid(staff, village.id, "一网格")
    cadre = make_user(("buyer",), name="执委王姐")
    grant_role(staff, cadre, "committee")
    cadre = reload(cadre)
    services.assign_grid(staff, cadre.id, grid.id)
    her = services.add_woman(cadre, ProfileData("李阿婆", "13800001111", grid.id)).profile
    two = services.add_woman(cadre, ProfileData("陈阿姨", "13800002222", grid.id)).profile

    def visit(profile, **kw):
        data = dict(client_id=str(uuid.uuid4()), profile_id=profile.id, method="visit",
                    happened_on=clock.today(), step=3, difficulties=[], consent=False)
        data.update(kw)
        return services.record_visit(cadre, services.VisitData(**data))[0]

    visit(her, method="call", step=5, difficulties=["e_commerce", "financing"], consent=True, consent_method="spoken",
          industry="seafood", stage="startup")
    visit(her, method="wechat", step=2, difficulties=["marketing"] if "marketing" in _codes() else ["branding"])
    f = report.figures()
    assert (f.women_in_contact, f.contacted_this_quarter, f.visits) == (2, 1, 2)
    assert f.by_method == {"call": 1, "wechat": 1} and f.by_step == {5: 1, 2: 1}
    assert (f.difficulties_found, f.difficulties_sent, f.difficulties_solved) == (3, 2, 0)
    # One difficulty solved at the case desk: the published figure moves.
    from market.models import CaseDifficulty

    item = db.session.scalar(select(CaseDifficulty).where(CaseDifficulty.code == "financing"))
    item.status = "solved"
    db.session.commit()
    assert report.figures().difficulties_solved == 1
    # By cadre and area; and an earlier period has none of it.
    assert report.figures(cadre_id=staff.id).visits == 0
    other = db.session.scalar(select(Area).where(Area.name == "宁海县"))
    assert report.figures(area_id=other.id).women_in_contact == 0
    assert report.figures(area_id=district.id).women_in_contact == 2
    assert report.figures(date(2026, 1, 1), date(2026, 3, 31)).visits == 0
    login(client, staff)
    page = client.get("/staff/outreach/report").get_data(as_text=True)
    assert 'id="f-visits">2<' in page and "<svg" in page
    assert two.id


def _codes():
    from matching.schema import DIFFICULTIES

    return DIFFICULTIES
