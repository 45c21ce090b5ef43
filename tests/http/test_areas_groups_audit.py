"""The shared pieces this issue starts: the area tree (the one source of districts), mentor
groups as data (what the matcher receives), and the append-only audit log."""
from __future__ import annotations

import pytest
from sqlalchemy import select

from market import areas, audit
from market.extensions import db
from market.mentoring import groups
from market.mentoring.matcher import get_matcher, matcher_data
from market.models import Area, AuditEntry, MentorGroup
from tests.support import login

NINGBO = {"海曙区", "江北区", "北仑区", "镇海区", "鄞州区", "奉化区", "余姚市", "慈溪市", "宁海县", "象山县"}


# ---- audit ---------------------------------------------------------------------------

def test_record_keeps_ids_only_and_the_request_address(app, make_user):
    staff = make_user(("staff",))
    woman = make_user(("entrepreneur",))
    with app.test_request_context("/", environ_base={"REMOTE_ADDR": "10.1.2.3"}):
        entry = audit.record(staff, "case.read", ("help_requests", 7), on_behalf_of=woman)
    db.session.commit()
    row = db.session.get(AuditEntry, entry.id)
    assert (row.actor_id, row.action, row.object_type, row.object_id) == (staff.id, "case.read", "help_requests", 7)
    assert (row.on_behalf_of_type, row.on_behalf_of_id, row.address) == ("users", woman.id, "10.1.2.3")
    assert row.at is not None
    columns = {c.name for c in AuditEntry.__table__.columns}
    assert columns == {"id", "at", "actor_id", "action", "object_type", "object_id", "on_behalf_of_type",
                       "on_behalf_of_id", "address"}, "no column for names, phones or text"


def test_audit_log_is_append_only(app, make_user):
    entry = audit.record(make_user(), "case.read", ("help_requests", 1), commit=True)
    entry.action = "case.other"
    with pytest.raises(RuntimeError, match="append-only"):
        db.session.flush()
    db.session.rollback()
    db.session.delete(db.session.get(AuditEntry, entry.id))
    with pytest.raises(RuntimeError, match="append-only"):
        db.session.flush()
    db.session.rollback()
    assert db.session.get(AuditEntry, entry.id).action == "case.read"


@pytest.mark.parametrize("action", ["", "Case Read", "case;drop", "x" * 61])
def test_record_refuses_a_malformed_action(app, action):
    with pytest.raises(ValueError):
        audit.record(None, action, ("help_requests", 1))


def test_record_rolls_back_with_the_action_it_describes(app, make_user):
    audit.record(make_user(), "case.file", ("help_requests", 3))
    db.session.rollback()
    assert db.session.scalar(select(AuditEntry).where(AuditEntry.action == "case.file")) is None


# ---- areas ---------------------------------------------------------------------------

def test_the_tree_is_seeded_with_ningbos_districts(app):
    assert set(areas.districts()) == NINGBO
    assert areas.district_label("象山县", "en") == "Xiangshan County"
    assert areas.district_label("象山县", "zh") == "象山县"
    assert areas.seed_defaults() == 0, "seeding twice adds nothing"


def test_towns_villages_and_grids_hang_below_districts(app, make_user):
    xiangshan = db.session.scalar(select(Area).where(Area.name == "象山县"))
    town = areas.add_area(xiangshan.id, "石浦镇", "Shipu Town")
    village = areas.add_area(town.id, "东门渔村")
    grid = areas.add_area(village.id, "第一网格")
    assert [town.level, village.level, grid.level] == ["town", "village", "grid"]
    with pytest.raises(areas.AreaError):
        areas.add_area(grid.id, "太小了")  # a grid holds nothing
    with pytest.raises(areas.AreaError):
        areas.add_area(xiangshan.id, " 石浦镇 ")  # same name under the same parent
    with pytest.raises(areas.AreaError):
        areas.add_area(999_999, "无处")
    with pytest.raises(areas.AreaError):
        areas.add_area(None, "")
    assert areas.subtree_ids([xiangshan.id]) == {xiangshan.id, town.id, village.id, grid.id}
    assert "石浦镇" not in areas.districts(), "only districts are districts"
    assert any(label == "象山县 / 石浦镇 / 东门渔村" for _, label in areas.area_choices("village", "zh"))

    cadre = make_user(("staff",))
    staff = make_user(("staff",))
    areas.grant_responsibility(staff, cadre, town.id)
    assert areas.responsible_area_ids(cadre) == {town.id, village.id, grid.id}
    areas.revoke_responsibility(staff, cadre, town.id)
    assert areas.responsible_area_ids(cadre) == set()
    actions = [e.action for e in db.session.scalars(select(AuditEntry).order_by(AuditEntry.id))]
    assert actions == ["area.grant", "area.revoke"]


def test_a_new_district_reaches_every_form_and_filter(app, client, make_user, make_artisan):
    areas.add_area(None, "前湾新区", "Qianwan New Area")
    # The shop form and its rule accept it; the catalogue filter lists it.
    assert make_artisan(district="前湾新区").district == "前湾新区"
    page = client.get("/products").get_data(as_text=True)
    assert 'value="前湾新区"' in page
    login(client, make_user(("buyer",)))
    form = client.get("/mentoring/requests/new").get_data(as_text=True)
    assert 'value="前湾新区"' in form and 'value="象山县"' in form
    assert client.get("/products?district=不存在区").status_code == 200


# ---- mentor groups -------------------------------------------------------------------

def test_the_federations_three_teams_are_the_default_groups(app, client, make_user):
    assert [g.name_zh for g in groups.all_groups()] == ["凤麓女工匠", "优秀女企业家", "女科技工作者"]
    login(client, make_user(("buyer",)))
    page = client.get("/mentoring/mentor/profile").get_data(as_text=True)
    for name in ("凤麓女工匠", "优秀女企业家", "女科技工作者"):
        assert name in page
    assert "巧娘" not in page


def test_the_matcher_receives_groups_and_regions_as_data(app, make_mentor, make_user, make_help_request):
    db.session.add(MentorGroup(code="rural", name_zh="乡村振兴指导员", name_en="Rural revitalisation guides",
                               affinities={"technology": 1.0}, position=9, active=True))
    db.session.commit()
    areas.add_area(None, "前湾新区", "Qianwan New Area")
    data = matcher_data()
    assert data["groups"]["rural"] == {"technology": 1.0}
    assert "前湾新区" in data["regions"]
    guide = make_mentor("乡村指导员", group="rural", industries=("tea",), skills=("technology",),
                        district="前湾新区")
    matcher = get_matcher()
    assert matcher.groups == data["groups"] and "前湾新区" in matcher.regions
    req = make_help_request(make_user(("entrepreneur",)), industry="tea", difficulties=("technology",),
                            district="前湾新区")
    intro = next(i for i in req.introductions if i.mentor_id == guide.id)
    codes = {r["code"] for r in intro.reasons}
    assert {"group_fit", "same_district"} <= codes
    from market.mentoring.matcher import reason_texts

    texts = reason_texts(intro.reasons, "zh")
    assert any("乡村振兴指导员" in t for t in texts) and any("前湾新区" in t for t in texts)


def test_areas_are_added_from_the_command_line(app, runner):
    result = runner.invoke(args=["area-add", "--parent", "象山县", "--name", "石浦镇", "--name-en", "Shipu Town"])
    assert "added town 石浦镇" in result.output, result.output
    result = runner.invoke(args=["area-add", "--parent", "象山县/石浦镇", "--name", "东门渔村"])
    assert "added village 东门渔村" in result.output
    result = runner.invoke(args=["area-add", "--parent", "象山县/不存在", "--name", "x"])
    assert result.exit_code != 0 and "不存在" in result.output
    assert any(label.endswith("石浦镇 / 东门渔村") for _, label in areas.area_choices("village"))


def test_the_cases_export_is_audited(app, client, make_user):
    staff = make_user(("staff",))
    login(client, staff)
    assert client.get("/staff/mentoring/cases.csv").status_code == 200
    assert [e.action for e in db.session.scalars(select(AuditEntry))] == ["cases.export.csv"]
