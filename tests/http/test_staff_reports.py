"""The report service on a generated set of cases whose answers are known (counts and medians
checked exactly, in both languages, on SQLite and PostgreSQL), the report page, and the
exports opened with openpyxl (labels, Beijing time, one row per difficulty, the log sheet,
no formula injection, each export audited)."""
from __future__ import annotations

import csv
import io
from datetime import date, datetime, timedelta

import pytest
from openpyxl import load_workbook
from sqlalchemy import func, select

from market import clock
from market.extensions import db
from market.models import AuditEntry, Case, CaseDifficulty, CaseEntry, MentorProfile
from market.staff import exports, reports
from tests.support import login

T0 = datetime(2026, 11, 20, 4, 0)  # 12:00 in Beijing
DAY = timedelta(days=1)


def _mentor(make_user, name, group, capacity, load):
    user = make_user(("mentor",), name=name)
    m = MentorProfile(user_id=user.id, display_name=name, group=group, industries=["seafood"], skills=["e_commerce"],
                      district="象山县", capacity=capacity, current_load=load, status="approved")
    db.session.add(m)
    db.session.flush()
    return m


def _case(*, channel, district, status, created, difficulties, mentor=None, matched=None, resolved=None,
          contact=None, name="阿芳海鲜干货", last=None, next_follow_up=None):
    """A case as the help desk would have left it; `difficulties` maps code -> solved time or None."""
    c = Case(channel=channel, district=district, status=status, business_name=name, industry="seafood",
             stage="startup", created_at=created, matched_at=matched, resolved_at=resolved,
             closed_at=resolved, mentor_id=mentor.id if mentor else None,
             last_activity_at=last or resolved or matched or created, next_follow_up_on=next_follow_up)
    db.session.add(c)
    db.session.flush()
    for pos, (code, solved) in enumerate(difficulties.items()):
        db.session.add(CaseDifficulty(case_id=c.id, code=code, position=pos, status="solved" if solved else "in_hand",
                                      updated_at=solved, measures="=HYPERLINK(\"http://x\")" if solved else ""))
    if contact:
        db.session.add(CaseEntry(case_id=c.id, kind="call", body="第一次电话", happened_on=contact.date(),
                                 created_at=contact))
    db.session.add(CaseEntry(case_id=c.id, kind="note", body="备注", happened_on=created.date(), created_at=created))
    return c


@pytest.fixture
def generated(app, make_user):
    """Seven cases with known answers (see the test for the arithmetic)."""
    clock.set(app, T0)
    a = _mentor(make_user, "陈海燕", "entrepreneur", 3, 1)
    b = _mentor(make_user, "李秀英", "craftswoman", 2, 0)
    nov = lambda d, h=2: datetime(2026, 11, d, h, 0)  # noqa: E731
    c1 = _case(channel="self_service", district="象山县", status="resolved", created=nov(2), mentor=a,
               contact=nov(2) + DAY, matched=nov(2) + 2 * DAY, resolved=nov(2) + 10 * DAY,
               difficulties={"e_commerce": nov(12), "financing": None}, name="＝1+1")
    c2 = _case(channel="visit", district="宁海县", status="resolved", created=nov(5), mentor=b,
               contact=nov(5) + 3 * DAY, matched=nov(5) + 4 * DAY, resolved=nov(5) + 6 * DAY,
               difficulties={"e_commerce": nov(11)}, name="+cmd|' /C calc'!A0")
    c3 = _case(channel="committee", district="象山县", status="in_progress", created=nov(10), mentor=a,
               matched=nov(10) + DAY, difficulties={"branding": None}, next_follow_up=date(2026, 11, 18),
               name="@SUM(A1)")
    c4 = _case(channel="hotline", district="宁海县", status="open", created=nov(15),
               difficulties={"financing": None}, name="-2+3")
    oct10 = datetime(2026, 10, 10, 2, 0)
    c5 = _case(channel="self_service", district="象山县", status="resolved", created=oct10, mentor=b,
               contact=oct10 + DAY, matched=oct10 + 2 * DAY, resolved=nov(3), difficulties={"e_commerce": nov(3)},
               name="\tTab")
    _case(channel="early_warning", district="象山县", status="proposed", created=nov(6),
          difficulties={"financing": None})
    _case(channel="questionnaire", district="宁海县", status="dismissed", created=nov(7),
          difficulties={"legal": None})
    db.session.commit()
    return c1, c2, c3, c4, c5


def _by(report, dim):
    return {r.code: (r.found, r.solved) for r in report.by[dim]}


def test_this_month_counts_and_medians_are_exact(generated):
    r = reports.case_report(reports.period_filters("month", lang="en"))
    assert r.filters.label == "2026-11"
    t = r.totals
    assert (t.filed, t.difficulties_found, t.difficulties_solved, t.resolved, t.overdue) == (4, 5, 3, 3, 1)
    assert _by(r, "channel") == {"self_service": (2, 2), "visit": (1, 1), "committee": (1, 0), "hotline": (1, 0)}
    assert _by(r, "district") == {"象山县": (3, 2), "宁海县": (2, 1)}
    assert _by(r, "difficulty") == {"e_commerce": (2, 3), "financing": (2, 0), "branding": (1, 0)}
    assert _by(r, "group") == {"entrepreneur": (3, 1), "craftswoman": (1, 2), "": (1, 0)}
    # first contact: 1 and 3 days (c5's was in October) -> 2.0; match: 1, 2, 4 -> 2.0;
    # solve: 6, 10, 24 (c5 filed in October, solved on 3 November) -> 10.0
    assert (r.medians.first_contact, r.medians.match, r.medians.solve) == (2.0, 2.0, 10.0)
    assert [(g.code, g.mentors, g.capacity, g.load, g.spare) for g in r.mentor_load] == [
        ("craftswoman", 1, 2, 0, 2), ("entrepreneur", 1, 3, 1, 2)]
    assert [(d, n) for d, _label, n in r.overdue_by_district] == [("象山县", 1)]


def test_the_year_the_area_and_a_custom_period(generated):
    year = reports.case_report(reports.period_filters("year", year=2026))
    assert (year.totals.filed, year.totals.difficulties_found, year.totals.difficulties_solved) == (5, 6, 3)
    # contact 1, 3, 1 -> 1.0; match 1, 2, 2, 4 -> 2.0 (the mean of the middle two); solve 6, 10, 24 -> 10.0
    assert (year.medians.first_contact, year.medians.match, year.medians.solve) == (1.0, 2.0, 10.0)
    ninghai = reports.case_report(reports.period_filters("month", districts=["宁海县"]))
    assert (ninghai.totals.filed, ninghai.totals.difficulties_found, ninghai.totals.difficulties_solved) == (2, 2, 1)
    assert ninghai.totals.overdue == 0 and ninghai.medians.match == 4.0
    october = reports.case_report(reports.period_filters("custom", start=date(2026, 10, 1), end=date(2026, 10, 31)))
    assert (october.totals.filed, october.totals.difficulties_solved, october.medians.match) == (1, 0, 2.0)
    empty = reports.case_report(reports.period_filters("month", year=2025, month=1))
    assert empty.totals.filed == 0 and empty.medians.match is None and all(not rows for rows in empty.by.values())


def test_medians_by_dimension_come_from_the_database(generated):
    by_channel = reports.median_days(reports.period_filters("month"), "channel")
    assert by_channel["self_service"].solve == 17.0  # 10 and 24
    assert by_channel["visit"].first_contact == 3.0 and by_channel["committee"].match == 1.0


def test_labels_in_both_languages(generated):
    zh = reports.case_report(reports.period_filters("month", lang="zh"))
    en = reports.case_report(reports.period_filters("month", lang="en"))
    label = {lang: {d: {r.code: r.label for r in rep.by[d]} for d in rep.by} for lang, rep in (("zh", zh), ("en", en))}
    assert label["zh"]["channel"]["self_service"] == "本人申请"
    assert label["en"]["channel"]["self_service"] == "Filed by herself"
    assert label["zh"]["difficulty"]["e_commerce"] == "电商运营" and label["en"]["difficulty"]["e_commerce"] == "E-commerce"
    assert label["zh"]["district"]["宁海县"] == "宁海县" and label["en"]["district"]["宁海县"] == "Ninghai County"
    assert label["zh"]["group"]["craftswoman"] == "凤麓女工匠" and label["en"]["group"][""] == "No mentor yet"


def test_the_dashboard_uses_the_same_service(generated):
    d = reports.dashboard()
    assert d.total == 5 and d.by_channel == {"self_service": 2, "visit": 1, "committee": 1, "hotline": 1}
    assert d.difficulties_solved == 3 and d.resolved_this_year == 3
    assert d.median_days_to_match == 2.0 and d.median_days_to_resolve == 10.0
    assert [c.business_name for c in d.overdue] == ["@SUM(A1)"]


@pytest.mark.parametrize("lang,found_label,channel_label", [("zh", "发现的困难", "本人申请"),
                                                            ("en", "Difficulties found", "Filed by herself")])
def test_the_report_page_in_both_languages(app, generated, make_user, lang, found_label, channel_label):
    client = app.test_client()
    login(client, make_user(("staff",)))
    client.get(f"/lang/{lang}")
    page = client.get("/staff/reports?period=month&year=2026&month=11").get_data(as_text=True)
    assert 'id="stat-found">5<' in page and 'id="median-solve">10.0<' in page
    assert found_label in page and channel_label in page and ">self_service<" not in page
    bad = client.get("/staff/reports?period=custom&start=soon")
    assert bad.status_code == 200 and 'id="report-period"' in bad.get_data(as_text=True)


def _person(make_user, role):
    from market.accounts.services import grant_role

    if role in ("staff", "entrepreneur"):
        return make_user((role,))
    user = make_user(("buyer",))
    grant_role(make_user(("staff",)), user, role)
    return user


def test_reports_are_for_staff_and_supervisors(app, generated, make_user):
    for role, status in (("staff", 200), ("supervisor", 200), ("committee", 403), ("entrepreneur", 403)):
        client = app.test_client()
        login(client, _person(make_user, role))
        assert client.get("/staff/reports").status_code == status, role


# ---- exports ---------------------------------------------------------------------------------

def _exports_audited() -> list[str]:
    db.session.expire_all()
    return list(db.session.scalars(select(AuditEntry.action).where(AuditEntry.action.like("cases.export%"))
                                   .order_by(AuditEntry.id)))


def test_xlsx_export_opened_with_openpyxl(app, generated, make_user):
    c1 = generated[0]
    staff = make_user(("staff",))
    client = app.test_client()
    login(client, staff)
    resp = client.get("/staff/exports/cases.xlsx")
    assert resp.status_code == 200 and resp.mimetype.endswith("spreadsheetml.sheet")
    wb = load_workbook(io.BytesIO(resp.data))
    assert wb.sheetnames == ["困难", "个案记录"]
    rows = list(wb["困难"].iter_rows(values_only=True))
    header, body = rows[0], rows[1:]
    assert header[0] == "个案编号" and "困难" in header
    assert len(body) == db.session.scalar(select(func.count(CaseDifficulty.id)).join(Case).where(
        Case.status.not_in(("proposed", "dismissed")))) == 6, "one row per difficulty, no proposed cases"
    col = {name: i for i, name in enumerate(header)}
    first = [r for r in body if r[0] == c1.id]
    assert [r[col["困难"]] for r in first] == ["电商运营", "融资贷款"]
    assert first[0][col["个案状态"]] == "已解决" and first[0][col["个案来源渠道"]] == "本人申请"
    assert first[0][col["登记时间（北京时间）"]] == "2026-11-02 10:00", "Beijing time, not UTC"
    # No formula anywhere: every cell that could start one is text with a leading apostrophe.
    for ws in wb.worksheets:
        for row in ws.iter_rows():
            for cell in row:
                assert cell.data_type != "f", (cell.coordinate, cell.value)
    names = {r[col["经营主体"]] for r in body}
    assert {"'＝1+1", "'+cmd|' /C calc'!A0", "'@SUM(A1)", "'-2+3", "'\tTab"} <= names
    assert "'=HYPERLINK(\"http://x\")" in {r[col["帮扶措施"]] for r in body}
    log = list(wb["个案记录"].iter_rows(values_only=True))
    assert len(log) - 1 == db.session.scalar(select(func.count(CaseEntry.id)).join(Case).where(
        Case.status.not_in(("proposed", "dismissed"))))
    assert "电话" in {r[3] for r in log[1:]}
    assert _exports_audited() == ["cases.export.xlsx"]
    entry = db.session.scalar(select(AuditEntry).where(AuditEntry.action == "cases.export.xlsx"))
    assert entry.actor_id == staff.id


def test_csv_exports_in_english_with_a_period(app, generated, make_user):
    client = app.test_client()
    login(client, make_user(("staff",)))
    client.get("/lang/en")
    text = client.get("/staff/exports/cases.csv?period=month&year=2026&month=11").get_data(as_text=True)
    rows = list(csv.reader(io.StringIO(text.lstrip("\ufeff"))))
    assert rows[0][:3] == ["Case no.", "Case status", "How did this reach us?"]
    assert len(rows) - 1 == 5, "November's four cases, one row per difficulty"
    assert {r[1] for r in rows[1:]} == {"Resolved", "In progress", "Open"}
    assert "'＝1+1" in {r[3] for r in rows[1:]} and "in_progress" not in text
    log = client.get("/staff/exports/case-log.csv?period=month&year=2026&month=11").get_data(as_text=True)
    assert log.startswith("\ufeffCase no.,Date,") and "Phone call" in log
    assert client.get("/staff/exports/cases.csv?period=nonsense").status_code == 400
    old = client.get("/staff/mentoring/cases.csv").get_data(as_text=True)
    assert old.startswith("\ufeffCase no.,") and len(old.strip().splitlines()) == 1 + 6, "every case"
    assert _exports_audited() == ["cases.export.csv", "cases.export.log", "cases.export.csv"]


@pytest.mark.parametrize("text", ["=1+1", "＝1+1", "+1", "-1", "@x", "\tx", "\rx", "＋1", "－1", "＠x"])
def test_every_formula_start_is_neutralised(text):
    assert exports.safe(text) == "'" + text
    assert exports.safe("安全的文字") == "安全的文字" and exports.safe(-3) == -3


def test_exports_are_staff_only(app, generated, make_user):
    for role in ("supervisor", "committee", "entrepreneur"):
        client = app.test_client()
        login(client, _person(make_user, role))
        assert client.get("/staff/exports/cases.xlsx").status_code == 403
    assert _exports_audited() == []


def _chart_rows(page: str, css_id: str) -> list[list[str]]:
    """The figures table of a market.charts chart (one list of cells per row)."""
    from lxml import html

    return [[td.text_content().strip() for td in tr.findall("td")]
            for tr in html.fromstring(page).xpath(f'//*[@id="{css_id}"]//table[@class="chart-table"]/tbody/tr')]


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_the_dashboard_the_insights_page_and_the_reports_show_the_same_numbers(app, generated, make_user, lang):
    """One source: the staff dashboard, the insights dashboard, the all-time report and the
    overview count the same cases the same way (proposed and dismissed cases never count)."""
    from lxml import html

    client = app.test_client()
    login(client, make_user(("staff", "supervisor")))
    client.get(f"/lang/{lang}")
    dash = html.fromstring(client.get("/staff/mentoring/").get_data(as_text=True))
    dash_kinds = {g.get("data-label"): int(g.get("data-value")) for g in dash.xpath('//*[@id="chart-difficulty"]//g[@class="bar"]')}
    insights = client.get("/staff/insights/").get_data(as_text=True)
    kinds = {label: (int(found), int(solved)) for label, found, solved in _chart_rows(insights, "chart-difficulties")}
    e_commerce = "电商运营" if lang == "zh" else "E-commerce"
    # e-commerce: c1, c2, c5, all solved; financing: c1 and c4 (the proposed case's is not one yet)
    assert kinds[e_commerce] == (3, 3) and sum(found for found, _solved in kinds.values()) == 6
    assert {k: n for k, n in dash_kinds.items() if n} == {k: found for k, (found, _solved) in kinds.items()}
    months = {m: (int(filed), int(solved)) for m, filed, solved in _chart_rows(insights, "chart-cases")}
    assert months["2026-10"] == (1, 0) and months["2026-11"] == (4, 3)
    assert sum(f for f, _s in months.values()) == reports.dashboard().total == 5
    # time to solve: 6, 10 and 24 days -> all three within 30 days, median 10.0 on both pages
    assert [int(n) for _label, n in _chart_rows(insights, "chart-time")] == [3, 0, 0, 0]
    median = "10.0"
    assert f'class="big-number">{median}<' in html.tostring(dash, encoding="unicode")
    assert median in insights and reports.solve_times(reports.Filters()).median == 10.0
    report = client.get("/staff/reports?period=all").get_data(as_text=True)
    assert 'id="stat-found">6<' in report and f'id="median-solve">{median}<' in report
    from market.staff.reports import overview

    o = overview.overview()
    assert (o.open_cases, o.cases_waiting) == (sum(reports.dashboard().by_status[s] for s in
                                                  ("open", "matched", "in_progress", "closure_proposed")), 1) == (2, 1)


def test_the_first_contact_is_kept_on_the_case_as_the_log_is_written(app, generated, make_user):
    """Logging through the help desk's service keeps cases.first_contact_at: a note does not
    count, the first call does, a later visit does not move it; the month's median follows."""
    from market.mentoring.services import followups

    c3 = generated[2]
    staff = make_user(("staff",))
    first_contact = lambda: db.session.scalar(select(Case.first_contact_at).where(Case.id == c3.id))  # noqa: E731
    followups.add_entry(staff, c3.id, "note", "备注")
    db.session.commit()
    assert first_contact() is None
    clock.set(app, T0 + DAY)  # 21 November, 12:00 in Beijing: 11 days after c3 was filed
    followups.add_entry(staff, c3.id, "call", "第一次电话")
    db.session.commit()
    assert first_contact() == T0 + DAY
    clock.set(app, T0 + 2 * DAY)
    followups.add_entry(staff, c3.id, "visit", "上门")
    db.session.commit()
    assert first_contact() == T0 + DAY
    # first contact this month: c1 1 day, c2 3 days, c3 11 days -> 3.0
    assert reports.median_days(reports.period_filters("month"))[""].first_contact == 3.0


@pytest.mark.parametrize("lang,kind,district", [("zh", "电商运营", "宁海县"), ("en", "E-commerce", "Ninghai County")])
def test_the_report_page_draws_its_figures_as_charts(app, generated, make_user, lang, kind, district):
    """Difficulties found vs solved by kind and by district, and cases per month, as SVG charts
    whose figures are the report's (a month's report shows the twelve months up to it)."""
    client = app.test_client()
    login(client, make_user(("staff",)))
    client.get(f"/lang/{lang}")
    page = client.get("/staff/reports?period=month&year=2026&month=11").get_data(as_text=True)
    assert page.count("<svg") >= 3
    kinds = {label: (int(f), int(s)) for label, f, s in _chart_rows(page, "chart-report-difficulty")}
    assert kinds[kind] == (2, 3) and sum(f for f, _s in kinds.values()) == 5
    districts = {label: (int(f), int(s)) for label, f, s in _chart_rows(page, "chart-report-district")}
    assert districts[district] == (2, 1) and sum(f for f, _s in districts.values()) == 5
    months = [(m, int(f), int(s)) for m, f, s in _chart_rows(page, "chart-report-months")]
    assert len(months) == 12 and months[-1] == ("2026-11", 4, 3) and months[-2] == ("2026-10", 1, 0)
    year = client.get("/staff/reports?period=year&year=2026").get_data(as_text=True)
    assert [m for m, _f, _s in _chart_rows(year, "chart-report-months")] == [f"2026-{m:02d}" for m in range(1, 13)]
    empty = client.get("/staff/reports?period=month&year=2025&month=1")
    assert empty.status_code == 200 and 'id="chart-report-difficulty"' in empty.get_data(as_text=True)


def test_the_staff_digest_counts_cases_as_the_reports_do(generated):
    """The digest's "new" and "waiting" come from the report service: a proposed case filed in
    the last day is not a new case yet; c4 (open) waits for a mentor."""
    from market.staff.digest import digest_counts

    counts = digest_counts(datetime(2026, 11, 6, 12, 0))  # the proposed case came in at 02:00
    assert (counts["new"], counts["waiting"]) == (0, 1)
    counts = digest_counts(datetime(2026, 11, 15, 12, 0))  # c4 was filed at 02:00
    assert (counts["new"], counts["waiting"]) == (1, 1)


@pytest.mark.parametrize("period", ["month", "year", "all"])
def test_the_report_grouped_at_once_equals_each_figure_alone(generated, period):
    """case_report groups the difficulties by every dimension in one query per event; each
    dimension alone and the totals' own counts give the same numbers."""
    f = reports.period_filters(period)
    r = reports.case_report(f)
    assert r.totals == reports.totals(f)
    for dim in reports.DIMENSIONS:
        assert [(x.code, x.label, x.found, x.solved) for x in r.by[dim]] == [
            (x.code, x.label, x.found, x.solved) for x in reports.difficulties_by(f, dim)]
