"""The front line (issue 20): grids, contact lists and coverage, visits under three heads with
difficulties sent to the case desk only with consent, the archive per woman with its recorded
reads, the idempotent visit endpoint (stored once even when sent twice at once), and who may
see what."""
from __future__ import annotations

import uuid
from datetime import date

import pytest
from sqlalchemy import func, select

from market import areas, clock
from market.accounts.services import grant_role
from market.extensions import db
from market.models import AuditEntry, Case, ClientProfile, OutreachContact, Visit
from market.outreach import services
from tests.support import DESK_T0, login, race_in_threads, reload, submit_form

PHONE = "13800001111"


@pytest.fixture
def front(app, make_user):
    """A village with two grids; staff; two committee members (执委), the first responsible for
    grid 1 with a woman on her list; a woman recorded in grid 2."""
    clock.set(app, DESK_T0)
    district = next(a for a in db.session.scalars(select(areas.services.Area).where(
        areas.services.Area.name == "象山县")))
    town = areas.add_area(district.id, "石浦镇")
    village = areas.add_area(town.id, "渔港村")
    staff = make_user(("staff",), name="妇联小周")
    grid1 = services.add_grid(staff, village.id, "一网格")
    grid2 = services.add_grid(staff, village.id, "二网格")
    cadres = []
    for name in ("执委王姐", "执委李姐"):
        member = make_user(("buyer",), name=name)
        grant_role(staff, member, "committee")
        cadres.append(reload(member))
    services.assign_grid(staff, cadres[0].id, grid1.id)
    services.assign_grid(staff, cadres[1].id, grid2.id)
    from market.mentoring.services import ProfileData

    contact = services.add_woman(cadres[0], ProfileData("李阿婆", PHONE, grid1.id, "", "晒鱼干"))
    other = services.add_woman(cadres[1], ProfileData("陈阿姨", "13800002222", grid2.id, "", "民宿"))
    return dict(staff=staff, cadre=cadres[0], other_cadre=cadres[1], grid1=grid1, grid2=grid2, village=village,
                her=reload(contact.profile), other=reload(other.profile))


def _visit(profile, **changes):
    data = {"client_id": str(uuid.uuid4()), "profile_id": profile.id, "method": "visit",
            "happened_on": clock.today().isoformat(), "step": 3, "situation": "丈夫外出打工，一人晒鱼干。",
            "difficulties": "e_commerce", "difficulty_notes": "不会开网店。", "measures": "介绍电商培训。",
            "consent": True, "consent_method": "spoken", "industry": "seafood", "stage": "startup"}
    data.update(changes)
    return data


def test_cadre_home_lists_her_women_first_who_needs_contact(client, front):
    login(client, front["cadre"])
    page = client.get("/outreach/").get_data(as_text=True)
    assert "李阿婆" in page and "陈阿姨" not in page  # only her own list
    assert "Never contacted" in page or "从未联系" in page


def test_visit_with_consent_opens_case_as_new_in_staff_queue(client, front):
    login(client, front["cadre"])
    resp = client.post("/outreach/visits", json=_visit(front["her"]))
    assert resp.status_code == 201, resp.get_data(as_text=True)
    body = resp.get_json()
    assert body["created"] is True and body["case_id"]
    case = db.session.get(Case, body["case_id"])
    assert case.channel == "committee" and case.status == "open" and case.profile_id == front["her"].id
    assert [d.code for d in case.difficulty_items] == ["e_commerce"]
    # Staff see it in their case list as a new (open) case.
    login(client, front["staff"])
    page = client.get("/staff/mentoring/requests?status=open").get_data(as_text=True)
    assert f"/mentoring/cases/{case.id}" in page or f">{case.id}<" in page or case.business_name in page
    # A second visit with another difficulty joins her open case, not a second one.
    login(client, front["cadre"])
    resp = client.post("/outreach/visits", json=_visit(front["her"], difficulties="financing"))
    assert resp.get_json()["case_id"] == case.id
    db.session.expire_all()
    assert sorted(d.code for d in db.session.get(Case, case.id).difficulty_items) == ["e_commerce", "financing"]
    assert db.session.scalar(select(func.count()).select_from(Case)) == 1


def test_visit_without_consent_stays_in_archive_only(client, front):
    login(client, front["cadre"])
    resp = client.post("/outreach/visits", json=_visit(front["her"], consent=False, consent_method=""))
    assert resp.status_code == 201 and resp.get_json()["case_id"] is None
    assert db.session.scalar(select(func.count()).select_from(Case)) == 0
    page = client.get(f"/outreach/women/{front['her'].id}").get_data(as_text=True)
    assert "不会开网店" in page
    # Coverage: contacted this month, with an open difficulty at the last contact.
    cov = services.coverage(front["cadre"].id)
    assert (cov.total, cov.this_month, cov.never, cov.open_difficulty) == (1, 1, 0, 1)


def test_visit_form_as_browser(client, front):
    login(client, front["cadre"])
    resp = submit_form(client, f"/outreach/visit?profile={front['her'].id}",
                       {"client_id": str(uuid.uuid4()), "difficulties": ["e_commerce"], "consent": "1",
                        "consent_method": "paper", "industry": "seafood", "stage": "growth",
                        "situation": "家里两个孩子上学。"}, action="/outreach/visits")
    assert resp.status_code == 302
    visit = db.session.scalar(select(Visit))
    assert visit.consent_method == "paper" and visit.case_id is not None and visit.method == "visit"


def test_bad_visits_are_refused_clearly(client, front):
    login(client, front["cadre"])
    for changes in ({"method": "fax"}, {"step": 9}, {"happened_on": "2099-01-01"}, {"difficulties": "nope"},
                    {"client_id": "x"}, {"consent_method": ""}, {"industry": ""}, {"step": True}):
        resp = client.post("/outreach/visits", json=_visit(front["her"], **changes))
        assert resp.status_code == 422, changes
        assert resp.get_json()["error"]["code"] == "invalid"
    assert client.post("/outreach/visits", json=["x"]).status_code == 400
    # Someone else's woman: 404, nothing stored.
    assert client.post("/outreach/visits", json=_visit(front["other"])).status_code == 404
    assert db.session.scalar(select(func.count()).select_from(Visit)) == 0


def test_same_visit_sent_twice_is_stored_once(client, front):
    login(client, front["cadre"])
    data = _visit(front["her"])
    first = client.post("/outreach/visits", json=data)
    second = client.post("/outreach/visits", json=data)
    assert (first.status_code, second.status_code) == (201, 200)
    assert second.get_json()["created"] is False and second.get_json()["id"] == first.get_json()["id"]
    assert db.session.scalar(select(func.count()).select_from(Visit)) == 1
    assert db.session.scalar(select(func.count()).select_from(Case)) == 1


def test_same_visit_sent_twice_at_once_is_stored_once(app, front):
    cadre_id, data = front["cadre"].id, _visit(front["her"])

    def send():
        from market.models import User

        visit, created = services.record_visit(db.session.get(User, cadre_id), services.VisitData(**data))
        return visit.id, created

    results = race_in_threads(app, [send] * 4)
    assert not [r for r in results if isinstance(r, BaseException)], results
    assert len({r[0] for r in results}) == 1 and sum(r[1] for r in results) == 1
    db.session.expire_all()
    assert db.session.scalar(select(func.count()).select_from(Visit)) == 1
    assert db.session.scalar(select(func.count()).select_from(Case)) == 1


def test_late_visit_is_kept_and_flagged_never_overwrites(client, front, app):
    login(client, front["cadre"])
    client.post("/outreach/visits", json=_visit(front["her"], consent=False, difficulties=""))
    older = _visit(front["her"], consent=False, difficulties="", happened_on=date(2026, 10, 20).isoformat(),
                   written_at="2026-10-20T03:00:00Z", measures="旧的记录")
    resp = client.post("/outreach/visits", json=older)
    assert resp.status_code == 201 and resp.get_json()["stale"] is True
    row = services.coverage(front["cadre"].id).rows[0]
    assert row.last.happened_on == clock.today()  # the newer contact stays the last one
    assert db.session.scalar(select(func.count()).select_from(Visit)) == 2


def test_archive_readers_and_audit(client, front, make_user):
    her = front["her"]
    # her contact person: may read, audited
    login(client, front["cadre"])
    assert client.get(f"/outreach/women/{her.id}").status_code == 200
    # another cadre and a stranger: 404
    login(client, front["other_cadre"])
    assert client.get(f"/outreach/women/{her.id}").status_code == 404
    stranger = make_user(("buyer",))
    login(client, stranger)
    assert client.get(f"/outreach/women/{her.id}").status_code == 404
    # staff: may read, audited
    login(client, front["staff"])
    assert client.get(f"/outreach/women/{her.id}").status_code == 200
    # herself, once she has an account with that phone: not audited
    from market.accounts.services import register_user

    woman = register_user("李阿婆", "apo@example.cn", "correct-horse-battery", ["buyer"])
    woman.phone = PHONE
    db.session.commit()
    from market.mentoring.services import claim_profiles

    claim_profiles(woman)
    login(client, "apo@example.cn", "correct-horse-battery")
    assert client.get(f"/outreach/women/{her.id}").status_code == 200
    reads = db.session.scalars(select(AuditEntry.actor_id).where(AuditEntry.action == "archive.read")).all()
    assert sorted(reads) == sorted([front["cadre"].id, front["staff"].id])


def test_a_cadre_sees_only_her_own_list_and_areas(client, front):
    login(client, front["other_cadre"])
    page = client.get("/outreach/").get_data(as_text=True)
    assert "陈阿姨" in page and "李阿婆" not in page
    assert client.get("/staff/outreach/").status_code == 403
    # She cannot record a woman in an area that is not hers.
    resp = client.post("/outreach/women/new", data={"name": "王", "phone": "13900000000",
                                                    "area_id": str(front["grid1"].id)})
    assert resp.status_code == 302
    assert db.session.scalar(select(func.count()).select_from(ClientProfile).where(ClientProfile.name == "王")) == 0
    # Buyers have no front line at all.


def test_staff_grid_and_list_pages(client, front, make_user):
    login(client, front["staff"])
    page = client.get("/staff/outreach/").get_data(as_text=True)
    assert "执委王姐" in page and "李阿婆" in page
    resp = submit_form(client, "/staff/outreach/", {"name": "三网格"}, action="/staff/outreach/grids")
    assert resp.status_code == 302
    grid3 = db.session.scalar(select(areas.services.Area).where(areas.services.Area.name == "三网格"))
    assert grid3.level == "grid" and grid3.parent_id == front["village"].id
    # move 陈阿姨 to the first cadre's list
    resp = submit_form(client, "/staff/outreach/", {"profile_id": str(front["other"].id),
                                                    "cadre_id": str(front["cadre"].id)},
                       action="/staff/outreach/assign")
    assert resp.status_code == 302
    db.session.expire_all()
    assert db.session.scalar(select(OutreachContact.cadre_id).where(
        OutreachContact.profile_id == front["other"].id)) == front["cadre"].id


def test_list_size_is_a_setting_and_grids_fill_the_list(client, front, app):
    from market.mentoring.services import ProfileData
    from market.mentoring.services.profiles import create_profile

    staff = front["staff"]
    for n in range(3):
        create_profile(staff, ProfileData(f"网格妇女{n}", f"1390000000{n}", front["grid1"].id))
    db.session.commit()
    app.config["OUTREACH_LIST_SIZE"] = 3
    login(client, front["cadre"])
    assert client.post("/outreach/take-from-grids").status_code == 302
    assert services.list_count(front["cadre"].id) == 3
    resp = client.post("/outreach/women/new", data={"name": "多一个", "phone": "13900000009",
                                                    "area_id": str(front["grid1"].id)}, follow_redirects=True)
    assert "full" in resp.get_data(as_text=True) or "已满" in resp.get_data(as_text=True)


def test_photos_only_with_consent_and_only_for_archive_readers(client, front):
    from tests.support import image_upload

    login(client, front["cadre"])
    url = f"/outreach/visit?profile={front['her'].id}"
    resp = submit_form(client, url, {"client_id": str(uuid.uuid4())}, action="/outreach/visits",
                       files={"photo": [image_upload()]}, follow_redirects=True)
    assert db.session.scalar(select(func.count()).select_from(Visit)) == 0
    assert "only when she agrees" in resp.get_data(as_text=True) or "同意" in resp.get_data(as_text=True)
    resp = submit_form(client, url, {"client_id": str(uuid.uuid4()), "consent_photos": "1"}, action="/outreach/visits",
                       files={"photo": [image_upload()]})
    assert resp.status_code == 302
    visit = db.session.scalar(select(Visit))
    assert visit.photo and visit.consent_photos
    assert client.get(f"/media/{visit.photo}").status_code == 404  # not in the public media folder
    photo = client.get(f"/outreach/visits/{visit.id}/photo")
    assert photo.status_code == 200 and photo.mimetype == "image/jpeg"
    login(client, front["other_cadre"])
    assert client.get(f"/outreach/visits/{visit.id}/photo").status_code == 404
    assert db.session.scalar(select(func.count()).select_from(AuditEntry).where(
        AuditEntry.action == "archive.photo_read")) == 1


def test_difficulty_for_a_woman_without_district_is_refused_and_nothing_kept(client, front):
    from market.mentoring.services import ProfileData

    staff = front["staff"]
    login(client, staff)
    nowhere = services.add_woman(staff, ProfileData("无地址", "13900009999", None, "", "")).profile
    resp = client.post("/outreach/visits", json=_visit(nowhere))
    assert resp.status_code == 422 and resp.get_json()["error"]["code"] == "invalid"
    assert db.session.scalar(select(func.count()).select_from(Visit)) == 0
    assert db.session.scalar(select(func.count()).select_from(Case)) == 0


def test_staff_put_a_woman_with_an_account_on_a_list(client, front, make_user):
    woman = make_user(("artisan",), name="阿梅", email="amei@example.cn")
    login(client, front["staff"])
    resp = submit_form(client, "/staff/outreach/", {"email": "AMEI@example.cn", "cadre_id": str(front["cadre"].id)},
                       action="/staff/outreach/assign")
    assert resp.status_code == 302
    profile = db.session.scalar(select(ClientProfile).where(ClientProfile.user_id == woman.id))
    assert services.contact_of(profile.id).cadre_id == front["cadre"].id
    # She reads her own archive (not audited); her contact person reads it (audited).
    login(client, "amei@example.cn")
    assert client.get(f"/outreach/women/{profile.id}").status_code == 200
    assert db.session.scalar(select(func.count()).select_from(AuditEntry).where(
        AuditEntry.action == "archive.read")) == 0
    login(client, front["staff"])
    resp = client.post("/staff/outreach/assign", data={"email": "nobody@example.cn",
                                                        "cadre_id": str(front["cadre"].id)}, follow_redirects=True)
    assert "No account has this email" in resp.get_data(as_text=True) or "没有" in resp.get_data(as_text=True)


def test_the_add_woman_form_sent_twice_puts_her_on_the_list_once(client, front):
    """A double click (or the back button and “add” again) on the add form: one profile, one
    contact; another woman, or the same name with another phone, is added."""
    login(client, front["cadre"])
    her = {"name": "张阿姨", "phone": "139 0000 7777", "area_id": str(front["grid1"].id), "business_kind": "织渔网"}

    def count(name):
        db.session.expire_all()
        return db.session.scalar(select(func.count()).select_from(ClientProfile).where(ClientProfile.name == name))

    for _ in range(2):
        assert client.post("/outreach/women/new", data=her).status_code == 302
    assert count("张阿姨") == 1
    assert db.session.scalar(select(func.count()).select_from(OutreachContact)
                             .where(OutreachContact.cadre_id == front["cadre"].id)) == 2  # 李阿婆 and her
    assert client.post("/outreach/women/new", data={**her, "phone": "13900008888"}).status_code == 302
    assert count("张阿姨") == 2
