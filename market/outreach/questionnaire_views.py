"""Needs questionnaires: the staff builder, results and exports; the public answer page at a
short URL (/q/<slug>) with its QR code. One answer per person: a signed cookie holds a random
respondent id (or her account), and anonymous answers are rate limited per address."""
from __future__ import annotations

import secrets
from datetime import date

from flask import Response, abort, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from itsdangerous import BadSignature, URLSafeSerializer

from market import areas
from market.auth import staff_required
from market.extensions import limiter
from market.mentoring.forms import labelled, lang
from market.outreach import questionnaires as qs
from market.outreach.blueprint import _id, bp
from market.outreach.common import NotFound, OutreachError
from market.outreach.labels import QUESTION_KIND_LABELS
from market.views_common import run_and_redirect
from matching.schema import BUSINESS_STAGES, INDUSTRIES

COOKIE = "q_respondent"


def _serializer() -> URLSafeSerializer:
    return URLSafeSerializer(current_app.secret_key, salt="questionnaire-respondent")


def _respondent() -> tuple[str, str | None]:
    """(respondent id, a new cookie value to set or None)."""
    if current_user.is_authenticated:
        return f"user:{current_user.id}", None
    raw = request.cookies.get(COOKIE)
    if raw:
        try:
            value = _serializer().loads(raw)
            if isinstance(value, str) and len(value) <= 40:
                return f"anon:{value}", None
        except BadSignature:
            pass
    value = secrets.token_urlsafe(16)
    return f"anon:{value}", _serializer().dumps(value)


def _date(value: str | None) -> date | None:
    try:
        return date.fromisoformat(value) if value else None
    except ValueError:
        return None


# ---- staff ---------------------------------------------------------------------------------

@bp.route("/staff/outreach/questionnaires", methods=["GET", "POST"])
@staff_required
def staff_questionnaires():
    if request.method == "POST":
        closes = request.form.get("closes_on") or ""
        if closes and _date(closes) is None:
            flash(_("Enter a date such as 2026-12-31."), "error")
        else:
            try:
                q = qs.create(current_user, request.form.get("title_zh", ""), request.form.get("title_en", ""),
                              request.form.get("intro", ""), _date(closes),
                              request.form.get("allow_identified") in ("1", "y", "on"),
                              request.form.get("one_per_person") in ("1", "y", "on"))
            except OutreachError as e:
                flash(str(e), "error")
            else:
                return redirect(url_for("outreach.staff_questionnaire", qid=q.id))
    return render_template("outreach/questionnaires.html", items=qs.all_questionnaires(), counts=qs.response_counts(),
                           lang=lang())


@bp.get("/staff/outreach/questionnaires/<int:qid>")
@staff_required
def staff_questionnaire(qid: int):
    try:
        q = qs.get_for_staff(current_user, qid)
    except NotFound:
        abort(404)
    short = url_for("outreach.answer", slug=q.slug, _external=True)
    return render_template("outreach/questionnaire.html", q=q, short=short, kinds=list(QUESTION_KIND_LABELS.items()),
                           lang=lang(), is_open=qs.is_open(q))


@bp.post("/staff/outreach/questionnaires/<int:qid>/questions")
@staff_required
def add_question(qid: int):
    def num(name):
        value = request.form.get(name) or ""
        return int(value) if value.strip().isdigit() and len(value) < 4 else None

    form = request.form
    return run_and_redirect(lambda: qs.add_question(current_user, qid, form.get("kind", ""), form.get("label_zh", ""),
                                                    form.get("label_en", ""), form.get("options", ""),
                                                    form.get("required") in ("1", "y", "on"), num("low"), num("high")),
                            done=_("Question added."), to=url_for("outreach.staff_questionnaire", qid=qid),
                            errors=OutreachError, missing=NotFound)


@bp.post("/staff/outreach/questionnaires/<int:qid>/publish")
@staff_required
def publish(qid: int):
    return run_and_redirect(lambda: qs.publish(current_user, qid),
                            done=_("Published: share the short link or the QR code."),
                            to=url_for("outreach.staff_questionnaire", qid=qid), errors=OutreachError,
                            missing=NotFound)


@bp.post("/staff/outreach/questionnaires/<int:qid>/close")
@staff_required
def close(qid: int):
    return run_and_redirect(lambda: qs.close(current_user, qid), done=_("The questionnaire is closed."),
                            to=url_for("outreach.staff_questionnaire", qid=qid), missing=NotFound)


@bp.get("/staff/outreach/questionnaires/<int:qid>/results")
@staff_required
def results(qid: int):
    from market import charts

    try:
        q = qs.get_for_staff(current_user, qid)
    except NotFound:
        abort(404)
    area_id = _id(request.args.get("area"))
    total, items = qs.summary(q, lang(), area_id or None)
    figures = {s.question.id: charts.bar_chart(s.counts, title=s.question.label(lang()), css_id=f"q{s.question.id}")
               for s in items if s.counts}
    return render_template("outreach/results.html", q=q, total=total, items=items, figures=figures,
                           area_id=area_id, area_choices=areas.area_choices(), lang=lang())


@bp.get("/staff/outreach/questionnaires/<int:qid>/answers.<fmt>")
@staff_required
def export(qid: int, fmt: str):
    try:
        q = qs.get_for_staff(current_user, qid)
    except NotFound:
        abort(404)
    area_id = _id(request.args.get("area")) or None
    name = f"questionnaire-{q.slug}"
    if fmt == "csv":
        return Response(qs.export_csv(q, lang(), area_id), mimetype="text/csv",
                        headers={"Content-Disposition": f"attachment; filename={name}.csv"})
    if fmt == "xlsx":
        return Response(qs.export_xlsx(q, lang(), area_id),
                        mimetype="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
                        headers={"Content-Disposition": f"attachment; filename={name}.xlsx"})
    abort(404)


@bp.get("/q/<slug>/qr.svg")
def qr(slug: str):
    try:
        q = qs.by_slug(slug)
    except NotFound:
        abort(404)
    resp = Response(qs.qr_svg(url_for("outreach.answer", slug=q.slug, _external=True)), mimetype="image/svg+xml")
    resp.headers["Cache-Control"] = "public, max-age=3600"
    return resp


# ---- the public answer page ----------------------------------------------------------------

def _answer_limit() -> str:
    return current_app.config.get("QUESTIONNAIRE_RATE_LIMIT", "20 per hour")


@bp.route("/q/<slug>", methods=["GET", "POST"])
@limiter.limit(_answer_limit, methods=["POST"])
def answer(slug: str):
    try:
        q = qs.by_slug(slug)
    except NotFound:
        abort(404)
    respondent, new_cookie = _respondent()
    ans = qs.Answer({}, None)
    status = 200
    if not qs.is_open(q):
        resp = Response(render_template("outreach/answer_closed.html", q=q, lang=lang()),
                        status=410 if request.method == "POST" else 200)
        return resp
    if request.method == "POST":
        form = request.form
        values = {}
        for question in q.questions:
            key = f"q{question.id}"
            values[str(question.id)] = form.getlist(key) if question.kind in ("multiple", "difficulty") \
                else form.get(key, "")
        ans = qs.Answer(values, _id(form.get("area_id")) or None, form.get("identified") == "1",
                        form.get("name", ""), form.get("phone", ""), form.get("consent") in ("1", "y", "on"),
                        form.get("industry", ""), form.get("stage", ""))
        try:
            qs.submit(q, respondent, ans, current_user if current_user.is_authenticated else None)
        except OutreachError as e:
            flash(str(e), "error")
            status = 422
        else:
            resp = redirect(url_for("outreach.answer_thanks", slug=q.slug))
            if new_cookie:
                resp.set_cookie(COOKIE, new_cookie, max_age=365 * 86400, httponly=True, samesite="Lax")
            return resp
    resp = Response(render_template("outreach/answer.html", q=q, ans=ans, lang=lang(),
                                    choices={qu.id: qs.choice_labels(qu, lang()) for qu in q.questions},
                                    area_choices=areas.area_choices(), industries=labelled(INDUSTRIES),
                                    stages=labelled(BUSINESS_STAGES)), status=status)
    if new_cookie:
        resp.set_cookie(COOKIE, new_cookie, max_age=365 * 86400, httponly=True, samesite="Lax")
    return resp


@bp.get("/q/<slug>/thanks")
def answer_thanks(slug: str):
    try:
        q = qs.by_slug(slug)
    except NotFound:
        abort(404)
    return render_template("outreach/answer_thanks.html", q=q, lang=lang())
