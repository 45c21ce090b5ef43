"""Needs questionnaires: staff build one (single and multiple choice, scale, free text, and a
difficulty question; required or not; Chinese and English labels), publish it at a short URL
with a QR code, close it at a date. Answers are validated per question kind; anonymous, or
identified when she leaves a contact and consents; an identified answer reporting a difficulty
becomes a proposed case (channel "questionnaire"). Results per question, filterable by area,
exported as CSV and XLSX."""
from __future__ import annotations

import csv
import io
import secrets
import string
from dataclasses import dataclass, field
from datetime import date

from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from market import areas, audit, clock
from market.extensions import db
from market.models import Area, Question, Questionnaire, QuestionnaireResponse, User
from market.models.outreach import QUESTION_KINDS
from market.outreach.common import NotFound, OutreachError
from matching.schema import BUSINESS_STAGES, DIFFICULTIES, INDUSTRIES

_SLUG_CHARS = string.ascii_lowercase + string.digits


def _get(model, ident):
    if not isinstance(ident, int) or isinstance(ident, bool) or not 0 < ident < 2**31:
        return None
    return db.session.get(model, ident)


def _text(value, limit: int) -> str:
    return " ".join((value or "").split())[:limit] if isinstance(value, str) else ""


def get_for_staff(staff: User, qid: int) -> Questionnaire:
    q = _get(Questionnaire, qid)
    if q is None or not staff.is_staff:
        raise NotFound(qid)
    return q


def by_slug(slug: str) -> Questionnaire:
    q = db.session.scalar(select(Questionnaire).where(Questionnaire.slug == (slug or "")[:12]))
    if q is None or q.status == "draft":
        raise NotFound(slug)
    return q


def all_questionnaires() -> list[Questionnaire]:
    return list(db.session.scalars(select(Questionnaire).order_by(Questionnaire.id.desc())))


def response_counts() -> dict[int, int]:
    return dict(db.session.execute(select(QuestionnaireResponse.questionnaire_id, func.count())
                                   .group_by(QuestionnaireResponse.questionnaire_id)).all())


def create(staff: User, title_zh: str, title_en: str = "", intro: str = "", closes_on: date | None = None,
           allow_identified: bool = True, one_per_person: bool = True) -> Questionnaire:
    if not staff.is_staff:
        raise NotFound("questionnaire")
    title_zh = _text(title_zh, 120)
    if len(title_zh) < 2:
        raise OutreachError(_l("Enter a title (2 to 120 characters)."))
    if closes_on is not None and closes_on < clock.today():
        raise OutreachError(_l("Choose a closing date from today on."))
    q = Questionnaire(slug=_new_slug(), title_zh=title_zh, title_en=_text(title_en, 120),
                      intro=(intro or "").strip()[:2000], closes_on=closes_on, allow_identified=bool(allow_identified),
                      one_per_person=bool(one_per_person), status="draft", created_by_id=staff.id,
                      created_at=clock.now())
    db.session.add(q)
    db.session.flush()
    audit.record(staff, "questionnaire.create", q)
    db.session.commit()
    return q


def _new_slug() -> str:
    while True:
        slug = "".join(secrets.choice(_SLUG_CHARS) for _ in range(6))
        if db.session.scalar(select(Questionnaire.id).where(Questionnaire.slug == slug)) is None:
            return slug


def add_question(staff: User, qid: int, kind: str, label_zh: str, label_en: str = "", options: str = "",
                 required: bool = False, low: int | None = None, high: int | None = None) -> Question:
    """`options`: one choice a line, "中文|English". A scale goes from `low` to `high`. A
    difficulty question offers the help desk's difficulties."""
    q = get_for_staff(staff, qid)
    if q.status != "draft":
        raise OutreachError(_l("A published questionnaire cannot change: its answers would not match."))
    if kind not in QUESTION_KINDS:
        raise OutreachError(_l("Choose the kind of question."))
    label_zh = _text(label_zh, 300)
    if not label_zh:
        raise OutreachError(_l("Enter the question in Chinese."))
    opts: list = []
    if kind in ("single", "multiple"):
        for line in (options or "").splitlines():
            parts = [p.strip() for p in line.split("|", 1)]
            if parts and parts[0]:
                opts.append([parts[0][:120], (parts[1] if len(parts) > 1 else "")[:120]])
        if not 2 <= len(opts) <= 30:
            raise OutreachError(_l("Give 2 to 30 choices, one a line (中文|English)."))
    elif kind == "scale":
        low = 1 if low is None else low
        high = 5 if high is None else high
        if not (isinstance(low, int) and isinstance(high, int) and 0 <= low < high <= 10):
            raise OutreachError(_l("A scale goes from a lower to a higher whole number, 0 to 10."))
        opts = [low, high]
    position = len(q.questions)
    row = Question(questionnaire_id=q.id, position=position, kind=kind, label_zh=label_zh,
                   label_en=_text(label_en, 300), options=opts, required=bool(required))
    db.session.add(row)
    db.session.commit()
    return row


def publish(staff: User, qid: int) -> Questionnaire:
    q = get_for_staff(staff, qid)
    if not q.questions:
        raise OutreachError(_l("Add at least one question before publishing."))
    if q.status == "draft":
        q.status = "published"
        audit.record(staff, "questionnaire.publish", q)
        db.session.commit()
    return q


def close(staff: User, qid: int) -> Questionnaire:
    q = get_for_staff(staff, qid)
    if q.status != "closed":
        q.status = "closed"
        audit.record(staff, "questionnaire.close", q)
        db.session.commit()
    return q


def is_open(q: Questionnaire) -> bool:
    return q.status == "published" and (q.closes_on is None or clock.today() <= q.closes_on)


def choice_labels(question: Question, lang: str) -> list[tuple[str, str]]:
    """(value, label) of each choice; the value is the choice's index (or difficulty code)."""
    if question.kind == "difficulty":
        i = 0 if lang == "zh" else 1
        return [(code, labels[i]) for code, labels in DIFFICULTIES.items()]
    if question.kind in ("single", "multiple"):
        return [(str(k), (zh if lang == "zh" or not en else en)) for k, (zh, en) in enumerate(question.options)]
    if question.kind == "scale":
        low, high = question.options
        return [(str(v), str(v)) for v in range(low, high + 1)]
    return []


@dataclass
class Answer:
    values: dict  # question id (str) -> raw value (str) or list of str
    area_id: int | None = None
    identified: bool = False
    name: str = ""
    phone: str = ""
    consent: bool = False
    industry: str = ""
    stage: str = ""
    errors: dict = field(default_factory=dict)


def _clean_answers(q: Questionnaire, answer: Answer) -> dict:
    out: dict = {}
    for question in q.questions:
        raw = answer.values.get(str(question.id))
        allowed = {v for v, _ in choice_labels(question, "zh")}
        if question.kind in ("multiple", "difficulty"):
            given = [v for v in (raw if isinstance(raw, list) else ([raw] if raw else [])) if v]
            if any(v not in allowed for v in given):
                answer.errors[question.id] = _l("Choose from the list.")
                continue
            value = list(dict.fromkeys(given))
            empty = not value
        elif question.kind == "text":
            value = (raw if isinstance(raw, str) else "").strip()
            if len(value) > 2000:
                answer.errors[question.id] = _l("At most 2000 characters.")
                continue
            empty = not value
        else:  # single, scale
            value = raw if isinstance(raw, str) else ""
            if value and value not in allowed:
                answer.errors[question.id] = _l("Choose from the list.")
                continue
            empty = not value
        if empty:
            if question.required:
                answer.errors[question.id] = _l("This question needs an answer.")
            continue
        out[str(question.id)] = int(value) if question.kind == "scale" else value
    return out


def submit(q: Questionnaire, respondent: str, answer: Answer, user: User | None = None) -> QuestionnaireResponse:
    """Store one answer. OutreachError when closed, invalid (answer.errors says where) or already
    answered by this person."""
    from market.mentoring.services import normalise_phone

    if not is_open(q):
        raise OutreachError(_l("This questionnaire is closed."))
    values = _clean_answers(q, answer)
    area = _get(Area, answer.area_id) if answer.area_id else None
    if answer.area_id and area is None:
        answer.errors["area"] = _l("Choose from the list.")
    identified = bool(answer.identified and q.allow_identified)
    name = phone = ""
    difficulties = [c for qu in q.questions if qu.kind == "difficulty" for c in values.get(str(qu.id), [])]
    if identified:
        name = _text(answer.name, 80)
        try:
            phone = normalise_phone(answer.phone) or ""
        except ValueError:
            phone = ""
        if not name or not phone:
            answer.errors["contact"] = _l("Leave your name and phone number, or answer anonymously.")
        if not answer.consent:
            answer.errors["consent"] = _l("To leave your contact, agree that the federation may contact you.")
        if difficulties and (answer.industry not in INDUSTRIES or answer.stage not in BUSINESS_STAGES
                             or area is None):
            answer.errors["business"] = _l("Choose your area, industry and business stage, so the right "
                                           "people can help.")
    if answer.errors:
        raise OutreachError(_l("Some answers need attention."))
    district = ""
    if area is not None:
        top = area
        while top.parent_id is not None:
            top = db.session.get(Area, top.parent_id)
        district = top.name
    if not q.one_per_person:
        respondent = f"{respondent}:{secrets.token_hex(6)}"
    row = QuestionnaireResponse(questionnaire_id=q.id, respondent=respondent[:64], area_id=area.id if area else None,
                                district=district, answers=values, name=name, phone=phone, consent=identified,
                                created_at=clock.now())
    db.session.add(row)
    try:
        db.session.flush()
    except IntegrityError:
        db.session.rollback()
        raise OutreachError(_l("You have already answered this questionnaire. Thank you!")) from None
    if identified and difficulties:
        from market.mentoring.services import CaseData, MentoringError, propose_case

        data = CaseData(business_name=name, industry=answer.industry, stage=answer.stage, district=district,
                        difficulties=difficulties, description=_describe(q, values), consent_to_share=False,
                        contact_phone=phone)
        reason = f"questionnaire {q.slug}: {', '.join(difficulties)}"
        row_id = row.id
        try:
            db.session.commit()
            case = propose_case(None, data, reason, channel="questionnaire", author=user)
        except MentoringError:
            db.session.rollback()
            return db.session.get(QuestionnaireResponse, row_id)
        row = db.session.get(QuestionnaireResponse, row_id)
        row.case_id = case.id
    db.session.commit()
    return row


def _describe(q: Questionnaire, values: dict) -> str:
    lines = []
    for question in q.questions:
        value = values.get(str(question.id))
        if value in (None, "", []):
            continue
        labels = dict(choice_labels(question, "zh"))
        shown = ", ".join(labels.get(v, v) for v in value) if isinstance(value, list) else labels.get(str(value),
                                                                                                     str(value))
        lines.append(f"{question.label_zh}: {shown}")
    return "\n".join(lines)[:4000]


# ---- results ---------------------------------------------------------------------------------

def responses(q: Questionnaire, area_id: int | None = None) -> list[QuestionnaireResponse]:
    stmt = select(QuestionnaireResponse).where(QuestionnaireResponse.questionnaire_id == q.id)
    if area_id:
        stmt = stmt.where(QuestionnaireResponse.area_id.in_(areas.subtree_ids({area_id})))
    return list(db.session.scalars(stmt.order_by(QuestionnaireResponse.id)))


@dataclass
class QuestionSummary:
    question: Question
    counts: list[tuple[str, int]]  # (label, count) for choices and scales
    texts: list[str]
    answered: int
    mean: float | None = None


def summary(q: Questionnaire, lang: str, area_id: int | None = None) -> tuple[int, list[QuestionSummary]]:
    rows = responses(q, area_id)
    out = []
    for question in q.questions:
        key = str(question.id)
        given = [r.answers.get(key) for r in rows if r.answers.get(key) not in (None, "", [])]
        if question.kind == "text":
            out.append(QuestionSummary(question, [], [str(v) for v in given][-50:], len(given)))
            continue
        counts = {v: 0 for v, _ in choice_labels(question, lang)}
        for v in given:
            for one in (v if isinstance(v, list) else [v]):
                if str(one) in counts:
                    counts[str(one)] += 1
        labels = dict(choice_labels(question, lang))
        mean = (sum(int(v) for v in given) / len(given)) if question.kind == "scale" and given else None
        out.append(QuestionSummary(question, [(labels[v], n) for v, n in counts.items()], [], len(given), mean))
    return len(rows), out


def _table(q: Questionnaire, lang: str, area_id: int | None) -> tuple[list[str], list[list]]:
    header = ["id", "created_at", "district", "area_id", "identified", "name", "phone", "case_id"]
    header += [qu.label(lang) for qu in q.questions]
    body = []
    for r in responses(q, area_id):
        line = [r.id, r.created_at.isoformat(timespec="minutes") if r.created_at else "", r.district, r.area_id or "",
                "yes" if r.consent else "no", r.name, r.phone, r.case_id or ""]
        for qu in q.questions:
            value = r.answers.get(str(qu.id))
            labels = dict(choice_labels(qu, lang))
            if isinstance(value, list):
                value = "; ".join(labels.get(v, v) for v in value)
            elif qu.kind == "single":
                value = labels.get(value, value)
            line.append("" if value is None else value)
        body.append(line)
    return header, body


def _safe(cell):
    """A cell a spreadsheet will not run as a formula."""
    if isinstance(cell, str) and cell[:1] in ("=", "+", "-", "@"):
        return "'" + cell
    return cell


def export_csv(q: Questionnaire, lang: str, area_id: int | None = None) -> str:
    header, body = _table(q, lang, area_id)
    buf = io.StringIO()
    writer = csv.writer(buf)
    writer.writerow(header)
    for line in body:
        writer.writerow([_safe(c) for c in line])
    return "\ufeff" + buf.getvalue()  # the BOM lets Excel read Chinese


def export_xlsx(q: Questionnaire, lang: str, area_id: int | None = None) -> bytes:
    from openpyxl import Workbook

    header, body = _table(q, lang, area_id)
    wb = Workbook()
    ws = wb.active
    ws.title = "answers"
    ws.append(header)
    for line in body:
        ws.append([_safe(c) for c in line])
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


def qr_svg(url: str) -> str:
    import segno

    buf = io.BytesIO()
    segno.make(url, error="m").save(buf, kind="svg", scale=6, border=2)
    return buf.getvalue().decode("utf-8")
