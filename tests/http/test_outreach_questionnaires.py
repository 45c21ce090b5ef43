"""Needs questionnaires (issue 20): build, publish at a short URL with a QR code, answer
anonymously and identified, the identified difficulty becomes a proposed case (channel
questionnaire), per-question results filterable by area, CSV and XLSX exports; bad input,
one answer per person, the rate limit, and a closed questionnaire saying so."""
from __future__ import annotations

import io
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from market import clock
from market.extensions import db
from market.models import Area, Case, Question, Questionnaire, QuestionnaireResponse
from tests.support import DESK_T0, login, submit_form


@pytest.fixture
def built(app, client, make_user):
    """A questionnaire built and published through the staff pages, as a browser does."""
    clock.set(app, DESK_T0)
    staff = make_user(("staff",))
    login(client, staff)
    resp = submit_form(client, "/staff/outreach/questionnaires",
                       {"title_zh": "创业需求调查", "title_en": "Needs survey",
                        "closes_on": (clock.today() + timedelta(days=30)).isoformat()})
    assert resp.status_code == 302
    q = db.session.scalar(select(Questionnaire))
    url = f"/staff/outreach/questionnaires/{q.id}"
    for fields in ({"kind": "single", "label_zh": "您的经营状况", "label_en": "Your business",
                    "options": "很好|Good\n一般|So-so\n困难|Hard", "required": "1"},
                   {"kind": "multiple", "label_zh": "想参加的培训", "options": "电商|E-commerce\n直播|Live\n财务|Finance"},
                   {"kind": "scale", "label_zh": "对妇联服务的满意度", "low": "1", "high": "5", "required": "1"},
                   {"kind": "text", "label_zh": "其他建议"},
                   {"kind": "difficulty", "label_zh": "目前最大的困难"}):
        assert submit_form(client, url, fields, action=f"{url}/questions").status_code == 302
    assert submit_form(client, url, action=f"{url}/publish").status_code == 302
    db.session.expire_all()
    q = db.session.get(Questionnaire, q.id)
    assert q.status == "published" and len(q.questions) == 5
    client.post("/account/logout")
    district = db.session.scalar(select(Area).where(Area.name == "象山县"))
    other = db.session.scalar(select(Area).where(Area.name == "宁海县"))
    return dict(q=q, staff=staff, qs=list(q.questions), district=district, other=other)


def _answers(built, **changes):
    single, multiple, scale, text, difficulty = built["qs"]
    data = {f"q{single.id}": "2", f"q{multiple.id}": ["0", "1"], f"q{scale.id}": "4", f"q{text.id}": "希望多办培训",
            f"q{difficulty.id}": None, "area_id": str(built["district"].id), "identified": "0"}
    data.update(changes)
    return data


def test_short_url_and_qr_code(client, built):
    q = built["q"]
    login(client, built["staff"])
    page = client.get(f"/staff/outreach/questionnaires/{q.id}").get_data(as_text=True)
    assert f"/q/{q.slug}" in page and len(q.slug) == 6
    svg = client.get(f"/q/{q.slug}/qr.svg")
    assert svg.status_code == 200 and svg.mimetype == "image/svg+xml" and b"<svg" in svg.data


def test_anonymous_and_identified_answers_and_the_proposed_case(client, built, app):
    q = built["q"]
    _, _, _, _, difficulty = built["qs"]
    resp = submit_form(client, f"/q/{q.slug}", _answers(built))
    assert resp.status_code == 302, resp.get_data(as_text=True)
    other = app.test_client()
    resp = submit_form(other, f"/q/{q.slug}", _answers(
        built, identified="1", name="王秀英", phone="139 0000 1234", consent="1", industry="seafood", stage="growth",
        area_id=str(built["other"].id), **{f"q{difficulty.id}": ["financing", "e_commerce"]}))
    assert resp.status_code == 302, resp.get_data(as_text=True)
    rows = db.session.scalars(select(QuestionnaireResponse).order_by(QuestionnaireResponse.id)).all()
    assert [r.consent for r in rows] == [False, True] and rows[0].name == "" and rows[1].phone == "13900001234"
    case = db.session.get(Case, rows[1].case_id)
    assert case.status == "proposed" and case.channel == "questionnaire" and case.district == "宁海县"
    assert sorted(case.difficulties) == ["e_commerce", "financing"]
    # Staff see it among proposed cases.
    login(client, built["staff"])
    page = client.get("/staff/mentoring/requests?status=proposed").get_data(as_text=True)
    assert "王秀英" in page
    # Results per question with charts; filtered by area.
    page = client.get(f"/staff/outreach/questionnaires/{q.id}/results").get_data(as_text=True)
    assert "2" in page and "<svg" in page
    single = built["qs"][0]
    page = client.get(f"/staff/outreach/questionnaires/{q.id}/results?area={built['other'].id}").get_data(as_text=True)
    assert 'id="answer-total"' in page and ("1 answers" in page or "1 份" in page)
    from market.outreach import questionnaires as qs

    total, items = qs.summary(db.session.get(Questionnaire, q.id), "zh", built["district"].id)
    assert total == 1 and dict(items[0].counts)["困难"] == 1 and items[0].question.id == single.id
    assert items[2].mean == 4
    # Exports.
    csv_text = client.get(f"/staff/outreach/questionnaires/{q.id}/answers.csv").get_data(as_text=True)
    assert "王秀英" in csv_text and "希望多办培训" in csv_text and len(csv_text.strip().splitlines()) == 3
    xlsx = client.get(f"/staff/outreach/questionnaires/{q.id}/answers.xlsx")
    from openpyxl import load_workbook

    ws = load_workbook(io.BytesIO(xlsx.data)).active
    assert ws.max_row == 3 and "王秀英" in [c.value for c in ws[3]]
    # The staff report service counts them, by area too.
    from market.staff.reports import outreach as report

    assert report.figures().questionnaire_responses == 2
    assert report.figures(area_id=built["other"].id).questionnaire_responses == 1


def test_bad_answers_get_clear_messages(client, built):
    q = built["q"]
    single, multiple, scale, _, _ = built["qs"]
    for changes in ({f"q{single.id}": "9"}, {f"q{single.id}": ""}, {f"q{multiple.id}": ["7"]},
                    {f"q{scale.id}": "6"}, {"identified": "1", "name": "", "phone": ""},
                    {"identified": "1", "name": "王", "phone": "13900001234", "consent": None}):
        resp = submit_form(client, f"/q/{q.slug}", _answers(built, **changes))
        assert resp.status_code == 422, changes
        assert 'role="alert"' in resp.get_data(as_text=True)
    assert db.session.scalar(select(func.count()).select_from(QuestionnaireResponse)) == 0


def test_one_answer_per_person_by_signed_cookie(client, built):
    q = built["q"]
    assert submit_form(client, f"/q/{q.slug}", _answers(built)).status_code == 302
    again = submit_form(client, f"/q/{q.slug}", _answers(built))
    assert again.status_code == 422 and ("already answered" in again.get_data(as_text=True)
                                         or "已经" in again.get_data(as_text=True))
    # A forged cookie is not trusted: it gets a fresh respondent id (and the rate limit).
    client.set_cookie("q_respondent", "forged")
    assert submit_form(client, f"/q/{q.slug}", _answers(built)).status_code == 302
    assert db.session.scalar(select(func.count()).select_from(QuestionnaireResponse)) == 2


def test_rate_limit_on_anonymous_answers(app, built):
    app.config["QUESTIONNAIRE_RATE_LIMIT"] = "2 per hour"
    q = built["q"]
    codes = []
    for _ in range(3):
        fresh = app.test_client()
        codes.append(fresh.post(f"/q/{q.slug}", data=_answers(built)).status_code)
    assert codes == [302, 302, 429]


def test_closed_questionnaire_says_so(client, built, app):
    q = built["q"]
    clock.set(app, DESK_T0 + timedelta(days=40))
    page = client.get(f"/q/{q.slug}")
    assert page.status_code == 200 and 'id="closed-note"' in page.get_data(as_text=True)
    assert client.post(f"/q/{q.slug}", data=_answers(built)).status_code == 410
    clock.set(app, DESK_T0)
    login(client, built["staff"])
    url = f"/staff/outreach/questionnaires/{q.id}"
    assert submit_form(client, url, action=f"{url}/close").status_code == 302
    client.post("/account/logout")
    assert 'id="closed-note"' in client.get(f"/q/{q.slug}").get_data(as_text=True)


def test_builder_refuses_bad_questions_and_drafts_are_hidden(client, built, make_user):
    staff = built["staff"]
    login(client, staff)
    resp = submit_form(client, "/staff/outreach/questionnaires", {"title_zh": "草稿"})
    draft = db.session.scalar(select(Questionnaire).where(Questionnaire.title_zh == "草稿"))
    url = f"/staff/outreach/questionnaires/{draft.id}"
    for fields in ({"kind": "single", "label_zh": "只有一个", "options": "一"}, {"kind": "text", "label_zh": ""},
                   {"kind": "scale", "label_zh": "量表", "low": "5", "high": "3"}, {"kind": "nope", "label_zh": "x"}):
        resp = submit_form(client, url, fields, action=f"{url}/questions")
        assert resp.status_code == 302
    assert db.session.scalar(select(func.count()).select_from(Question).where(
        Question.questionnaire_id == draft.id)) == 0
    client.post(f"{url}/publish")
    db.session.expire_all()
    assert db.session.get(Questionnaire, draft.id).status == "draft"
    assert client.get(f"/q/{draft.slug}").status_code == 404
    # Not staff: no builder.
    login(client, make_user(("buyer",)))
    assert client.get("/staff/outreach/questionnaires").status_code == 403

