"""The federation's exports of the help desk: one row per difficulty (with its case), and the
case log, as CSV (two files) or one XLSX workbook (two sheets). Labels in the reader's
language, times in Beijing time, and every text cell made safe to open in a spreadsheet (no
formula runs, the full-width ＝ included). The views record each export in the audit log."""
from __future__ import annotations

import csv
import functools
import io
from datetime import date, datetime

from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select
from sqlalchemy.orm import aliased

from market import clock
from market.extensions import db
from market.mentoring import states
from market.mentoring.forms import BUSINESS_SIZE_LABELS
from market.mentoring.services.followups import FOLLOW_UP_KINDS, LOG_LABELS
from market.models import Case, CaseDifficulty, CaseEntry, MentorProfile, User
from market.staff.reports.cases import _scoped, filed_in, label
from market.staff.reports.common import Filters, translated
from matching import schema

# A cell starting with one of these may run as a formula in Excel, LibreOffice or WPS (the
# full-width forms too: WPS and Excel in Chinese locales read ＝ as =).
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r", "\n", "＝", "＋", "－", "＠")

CASE_COLUMNS = (
    ("case", _l("Case no.")), ("status", _l("Case status")), ("channel", _l("How did this reach us?")),
    ("business", _l("Business")), ("size", _l("Size")), ("industry", _l("Industry")), ("stage", _l("Stage")),
    ("district", _l("District")), ("difficulty", _l("Difficulty")), ("difficulty_status", _l("Where it stands")),
    ("measures", _l("Measures taken")), ("result", _l("Result")), ("mentor", _l("Mentor")),
    ("group", _l("Mentor group")), ("filed", _l("Filed (Beijing time)")), ("matched", _l("Matched (Beijing time)")),
    ("resolved", _l("Resolved (Beijing time)")), ("closed", _l("Closed (Beijing time)")),
    ("last_activity", _l("Last activity (Beijing time)")), ("next_follow_up", _l("Next follow-up")),
    ("follow_ups", _l("Follow-ups")), ("rating", _l("Rating")), ("outcome", _l("Outcome")),
    ("on_behalf", _l("Filed on her behalf")),
)
LOG_COLUMNS = (
    ("case", _l("Case no.")), ("happened_on", _l("Date")), ("recorded", _l("Recorded (Beijing time)")),
    ("kind", _l("Kind")), ("author", _l("By")), ("text", _l("What happened")),
    ("next_follow_up", _l("Next follow-up")),
)


def safe(value):
    """A cell value a spreadsheet shows as typed: text that could start a formula gets a
    leading apostrophe; numbers stay numbers."""
    if value is None:
        return ""
    if isinstance(value, str) and value[:1] in FORMULA_STARTS:
        return "'" + value
    return value


def beijing(value: datetime | None) -> str:
    return (value + clock.BEIJING).strftime("%Y-%m-%d %H:%M") if value else ""


def _day(value: date | None) -> str:
    return value.isoformat() if value else ""


def _headers(columns, lang: str) -> list[str]:
    return [translated(dict(columns), key, lang) for key, _label in columns]


def _labeller(lang: str):
    """label(kind, code) in `lang`, each worked out once per export (a locale switch per cell
    would cost more than the rest of the export)."""
    vocabularies = {"status": states.CASE_LABELS, "size": BUSINESS_SIZE_LABELS,
                    "difficulty_status": states.DIFFICULTY_LABELS, "log_status": states.STATUS_LOG_LABELS,
                    "log": LOG_LABELS}
    schemas = {"industry": schema.INDUSTRIES, "stage": schema.BUSINESS_STAGES}

    @functools.cache
    def lab(kind: str, code: str | None) -> str:
        code = code or ""
        if kind in vocabularies:
            return translated(vocabularies[kind], code, lang)
        if kind in schemas:
            return schema.label(schemas[kind], code, lang) if code in schemas[kind] else code
        return label(kind, code, lang)

    return lab


def case_rows(filters: Filters):
    """One row per difficulty of every case filed in the period (a case without any
    difficulty gets one row), in case order. Two queries, streamed."""
    follow_ups = select(CaseEntry.case_id, func.count(CaseEntry.id).label("n")) \
        .where(CaseEntry.kind.in_(FOLLOW_UP_KINDS)).group_by(CaseEntry.case_id).subquery()
    stmt = _scoped(select(Case, CaseDifficulty, MentorProfile.display_name, MentorProfile.group,
                          func.coalesce(follow_ups.c.n, 0))
                   .select_from(Case).outerjoin(CaseDifficulty, CaseDifficulty.case_id == Case.id)
                   .outerjoin(MentorProfile, MentorProfile.id == Case.mentor_id)
                   .outerjoin(follow_ups, follow_ups.c.case_id == Case.id), filters) \
        .where(filed_in(filters)).order_by(Case.id, CaseDifficulty.position, CaseDifficulty.id)
    lab = _labeller(filters.lang)
    lang = filters.lang
    for case, item, mentor, group, n in db.session.execute(stmt.execution_options(yield_per=1000)):
        yield [
            case.id, lab("status", case.status), lab("channel", case.channel),
            case.business_name, lab("size", case.business_size), lab("industry", case.industry),
            lab("stage", case.stage), lab("district", case.district),
            lab("difficulty", item.code) if item else "",
            lab("difficulty_status", item.status) if item else "",
            item.measures if item else "", item.result if item else "",
            mentor or "", lab("group", group) if group else "",
            beijing(case.opened_at or case.created_at), beijing(case.matched_at), beijing(case.resolved_at),
            beijing(case.closed_at), beijing(case.last_activity_at), _day(case.next_follow_up_on), int(n),
            case.rating or "", case.outcome, ("是" if lang == "zh" else "yes") if case.on_behalf else "",
        ]


def log_rows(filters: Filters):
    """The case log of the same cases, oldest first."""
    author = aliased(User)
    stmt = _scoped(select(CaseEntry, author.name).join(Case, Case.id == CaseEntry.case_id)
                   .outerjoin(author, author.id == CaseEntry.author_id), filters) \
        .where(filed_in(filters)).order_by(CaseEntry.case_id, CaseEntry.id)
    lab = _labeller(filters.lang)
    for e, name in db.session.execute(stmt.execution_options(yield_per=1000)):
        text = lab("log_status", e.body) if e.kind == "status" else e.body
        yield [e.case_id, _day(e.happened_on), beijing(e.created_at), lab("log", e.kind),
               name or "", text, _day(e.next_follow_up_on)]


def _csv(header, rows) -> str:
    out = io.StringIO()
    out.write("\ufeff")  # a BOM, so Excel reads the file as UTF-8 (Chinese text)
    writer = csv.writer(out)
    writer.writerow(header)
    for row in rows:
        writer.writerow([safe(v) for v in row])
    return out.getvalue()


def cases_csv(filters: Filters) -> str:
    return _csv(_headers(CASE_COLUMNS, filters.lang), case_rows(filters))


def log_csv(filters: Filters) -> str:
    return _csv(_headers(LOG_COLUMNS, filters.lang), log_rows(filters))


def cases_xlsx(filters: Filters) -> bytes:
    """One workbook: the difficulties on the first sheet, the case log on the second."""
    from openpyxl import Workbook

    wb = Workbook(write_only=True)
    zh = filters.lang == "zh"
    for title, columns, rows in (("困难" if zh else "Difficulties", CASE_COLUMNS, case_rows(filters)),
                                 ("个案记录" if zh else "Case log", LOG_COLUMNS, log_rows(filters))):
        ws = wb.create_sheet(title)
        ws.append(_headers(columns, filters.lang))
        for row in rows:
            ws.append([safe(v) for v in row])
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()
