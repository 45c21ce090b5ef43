"""Staff's work on the help desk's cases: the queue (filters, urgency, bulk actions), the
federation's reports, the exports (CSV, XLSX) and the audit log. Thin: each view reads the
request, calls one service (market.staff.queue, .reports, .exports, market.audit), renders."""
from __future__ import annotations

from datetime import datetime, timedelta

from flask import Blueprint, Response, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required

from market import areas, audit, clock
from market.auth import role_required, staff_required
from market.ids import parse_id, parse_page
from market.mentoring import groups, states
from market.mentoring.forms import CHANNEL_LABELS, DECLINE_LABELS, lang
from market.staff import case_charts, exports, queue, reports
from matching import schema

bp = Blueprint("staff_cases", __name__, url_prefix="/staff")


def _report_filters():
    try:
        return reports.filters_from_args(request.args, lang(), areas.districts()), None
    except ValueError:
        return reports.period_filters("month", lang=lang()), _("The period is not valid; showing this month.")


# ---- the queue -------------------------------------------------------------------------

@bp.get("/queue")
@role_required("committee", "supervisor")
def queue_page():
    f = queue.QueueFilters.from_args(request.args)
    page = queue.queue(current_user, f)
    i = 0 if lang() == "zh" else 1
    return render_template(
        "staff/queue.html", page=page, f=f, may_act=queue.may_act(current_user),
        sees_reasons=queue.sees_decline_reasons(current_user), waiting_labels=queue.WAITING_ON,
        sort_labels=queue.SORTS, bulk_labels=queue.BULK_ACTIONS, decline_labels=DECLINE_LABELS,
        status_choices=list(states.CASE_LABELS.items()), channel_choices=list(CHANNEL_LABELS.items()),
        district_choices=areas.district_choices(), group_choices=groups.choices(),
        difficulty_choices=[(k, v[i]) for k, v in schema.DIFFICULTIES.items()])


@bp.post("/queue/bulk")
@staff_required
def queue_bulk():
    ids = [i for i in (parse_id(v) for v in request.form.getlist("case_id")) if i is not None]
    try:
        result = queue.bulk(current_user, request.form.get("action", ""), ids, (request.form.get("reason") or "")[:2000])
    except queue.QueueError as e:
        flash(str(e), "error")
    else:
        if result.done:
            flash(_("Done for %(n)s case(s).", n=len(result.done)), "success")
        for case_id, message in result.failed:
            flash(_("Case %(id)s: %(message)s", id=case_id, message=message), "error")
    back = request.form.get("back") or ""
    return redirect(url_for("staff_cases.queue_page") + ("?" + back if back and "//" not in back else ""))


# ---- reports ---------------------------------------------------------------------------

@bp.get("/reports")
@role_required("supervisor")
def reports_page():
    filters, problem = _report_filters()
    if problem:
        flash(problem, "error")
    r = reports.case_report(filters)
    return render_template("staff/reports.html", r=r, filters=filters, charts=case_charts.report_charts(r),
                           district_choices=areas.district_choices(), today=clock.today(),
                           dimension_labels={"channel": _("By channel"), "district": _("By district"),
                                             "difficulty": _("By difficulty"), "group": _("By mentor group")})


# ---- exports ---------------------------------------------------------------------------

def _download(body, mimetype: str, filename: str, action: str, filters) -> Response:
    """The file, and one audit row saying who exported (the cases' names are in it)."""
    audit.record_read(current_user, action, ("cases", None))
    return Response(body, mimetype=mimetype, headers={"Content-Disposition": f"attachment; filename={filename}"})


def _export_filters():
    """Every case unless a period is given (?period=year&year=2026, ?district=...)."""
    try:
        return reports.filters_from_args(request.args, lang(), areas.districts(), default_period="all")
    except ValueError:
        abort(400)


@bp.get("/exports/cases.csv")
@staff_required
def export_cases_csv():
    filters = _export_filters()
    return _download(exports.cases_csv(filters), "text/csv", "mutual-aid-difficulties.csv", "cases.export.csv", filters)


@bp.get("/exports/case-log.csv")
@staff_required
def export_log_csv():
    filters = _export_filters()
    return _download(exports.log_csv(filters), "text/csv", "mutual-aid-case-log.csv", "cases.export.log", filters)


@bp.get("/exports/cases.xlsx")
@staff_required
def export_cases_xlsx():
    filters = _export_filters()
    return _download(exports.cases_xlsx(filters),
                     "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", "mutual-aid-cases.xlsx",
                     "cases.export.xlsx", filters)


# ---- the audit log ---------------------------------------------------------------------

def _day(value: str | None):
    try:
        return datetime.strptime((value or "").strip(), "%Y-%m-%d") if value and value.strip() else None
    except ValueError:
        return None


@bp.get("/audit")
@login_required
def audit_log():
    if not audit.may_audit(current_user):
        abort(403)
    start, end = _day(request.args.get("start")), _day(request.args.get("end"))
    q = audit.Search(
        actor_id=parse_id(request.args.get("actor") or ""), action=(request.args.get("action") or "").strip()[:60],
        object_type=(request.args.get("object_type") or "").strip()[:40],
        object_id=parse_id(request.args.get("object_id") or ""),
        start=start - clock.BEIJING if start else None,
        end=end + timedelta(days=1) - clock.BEIJING if end else None,
        reads_only=request.args.get("reads") == "1")
    page = parse_page(request.args.get("page"))
    rows, total = audit.search(q, page=page)
    return render_template("staff/audit.html", rows=rows, total=total, page=page, q=q, args=request.args,
                           names=audit.actor_names(rows), action_label=audit.action_label)
