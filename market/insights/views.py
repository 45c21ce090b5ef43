"""The web side of early warning and outcomes: staff's warning queue and dashboard, the sales
import, the evidence on a proposed case, business results at closing, and her sales page
with the opt-out."""
from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required

from market import charts
from market.auth import staff_required
from market.ids import parse_id
from market.insights import services
from market.insights.forms import DismissWarningForm, ImportForm, MapShopForm, OpenForm, ResultsForm, WatchForm
from market.insights.sales import IMPORT_MAX_BYTES, InsightsError, import_sales, map_shop
from market.insights.views_helpers import case_evidence, dashboard_charts, warning_chart
from market.mentoring.forms import lang
from market.staff import reports
from market.staff.reports import insights as figures

bp = Blueprint("insights", __name__)


@bp.app_context_processor
def insights_helpers():
    def business_results(case):
        from types import SimpleNamespace

        saved = services.results_of(case.id)
        form = ResultsForm(obj=saved, loan_yuan=(saved.loan_fen // 100) if saved and saved.loan_fen else None) \
            if saved else ResultsForm(formdata=None)
        return SimpleNamespace(form=form, saved=saved)

    return {"sales_evidence": case_evidence, "business_results": business_results}


@bp.get("/staff/insights/")
@staff_required
def dashboard():
    report = figures.outcome_report()
    everything = reports.Filters(lang=lang())
    return render_template("insights/dashboard.html", charts=dashboard_charts(report, everything), report=report,
                           totals=figures.business_totals(), warnings=figures.warning_totals(),
                           median_days=reports.median_days(everything)[""].solve)


@bp.get("/staff/insights/warnings")
@staff_required
def warnings():
    return render_template("insights/warnings.html", warnings=services.proposed_warnings(),
                           labels=services.SIGNAL_LABELS)


def _warning_or_404(warning_id: int):
    try:
        return services.get_warning(warning_id)
    except LookupError:
        abort(404)


@bp.get("/staff/insights/warnings/<int:warning_id>")
@staff_required
def warning(warning_id: int):
    w = _warning_or_404(warning_id)
    return render_template("insights/warning.html", w=w, chart=warning_chart(w), others=services.other_signals(w),
                           labels=services.SIGNAL_LABELS, reason=services.describe(w),
                           open_form=OpenForm(), dismiss_form=DismissWarningForm())


@bp.post("/staff/insights/warnings/<int:warning_id>/open")
@staff_required
def open_case(warning_id: int):
    _warning_or_404(warning_id)
    form = OpenForm()
    from market.mentoring import services as mentoring

    try:
        case = services.open_on_her_behalf(current_user, warning_id, form.note.data or "",
                                           request.form.get("consent_method", ""), bool(form.consent_details.data),
                                           bool(form.consent_contact.data))
    except (InsightsError, mentoring.MentoringError) as e:
        flash(str(e), "error")
        return redirect(url_for("insights.warning", warning_id=warning_id))
    except mentoring.NotFound:
        abort(404)
    flash(_("The case is open on her behalf; the matcher suggests mentors."), "success")
    return redirect(url_for("mentoring.case_page", case_id=case.id))


@bp.post("/staff/insights/warnings/<int:warning_id>/dismiss")
@staff_required
def dismiss(warning_id: int):
    _warning_or_404(warning_id)
    from market.mentoring import services as mentoring

    try:
        services.dismiss(current_user, warning_id, DismissWarningForm().reason.data or "")
    except (InsightsError, mentoring.MentoringError) as e:
        flash(str(e), "error")
        return redirect(url_for("insights.warning", warning_id=warning_id))
    except mentoring.NotFound:
        abort(404)
    flash(_("The warning is dismissed; the reason is kept."), "info")
    return redirect(url_for("insights.warnings"))


@bp.route("/staff/insights/import", methods=["GET", "POST"])
@staff_required
def import_page():
    from market.mentoring import services as mentoring

    map_form, import_form = MapShopForm(), ImportForm()
    map_form.profile_id.choices = [("", "—")] + [(str(p.id), f"{p.name} ({p.district})")
                                                 for p in mentoring.profiles_for(current_user)
                                                 if p.anonymised_at is None]
    if request.method == "POST":
        try:
            if request.form.get("action") == "map":
                shop = map_shop(current_user, map_form.external_id.data or "", map_form.platform.data or "",
                                parse_id(map_form.profile_id.data), map_form.name.data or "")
                flash(_("Shop %(shop)s is mapped to her profile.", shop=shop.external_id), "success")
            else:
                upload = request.files.get("file")
                if upload is None or not upload.filename:
                    raise InsightsError(_("Choose a CSV file to import."))
                data = upload.stream.read(IMPORT_MAX_BYTES + 1)
                rows, shops = import_sales(current_user, data, upload.filename)
                flash(_("%(rows)s days of sales imported for %(shops)s shop(s).", rows=rows, shops=shops), "success")
        except InsightsError as e:
            flash(str(e), "error")
            return render_template("insights/import.html", map_form=map_form, import_form=import_form), 400
        return redirect(url_for("insights.import_page"))
    return render_template("insights/import.html", map_form=map_form, import_form=import_form)


def _allow_big_import():
    if request.endpoint == "insights.import_page" and request.method == "POST":
        request.max_content_length = IMPORT_MAX_BYTES + 1024 * 1024


@bp.record_once
def _before_csrf(state):
    # The sales import may be up to 50 MB (the app's limit is lower); the limit must be raised
    # before anything (the CSRF check) reads the form, so this runs first of all.
    state.app.before_request_funcs.setdefault(None, []).insert(0, _allow_big_import)


@bp.post("/mentoring/cases/<int:case_id>/business-results")
@login_required
def business_results(case_id: int):
    form = ResultsForm()
    if not form.validate():
        flash(_("Check the business results: numbers of jobs from 0, a loan amount in whole yuan."), "error")
        return redirect(url_for("mentoring.case_page", case_id=case_id) + "#business-results")
    try:
        services.record_results(current_user, case_id, new_channel=form.new_channel.data or "",
                                loan_obtained=bool(form.loan_obtained.data),
                                loan_fen=form.loan_yuan.data * 100 if form.loan_yuan.data else None,
                                jobs_created=form.jobs_created.data or 0, jobs_kept=form.jobs_kept.data or 0,
                                certificate=form.certificate.data or "")
    except LookupError:
        abort(404)
    except InsightsError as e:
        flash(str(e), "error")
    else:
        flash(_("The business results are saved."), "success")
    return redirect(url_for("mentoring.case_page", case_id=case_id) + "#business-results")


@bp.route("/shop/sales-help", methods=["GET", "POST"])
@login_required
def my_sales():
    shop = services.artisan_shop(current_user)
    if shop is None:
        abort(404)
    form = WatchForm(watched=shop.opted_out_at is None)
    if request.method == "POST":
        if form.validate():
            services.set_watched(current_user, bool(form.watched.data))
            flash(_("Saved."), "success")
        return redirect(url_for("insights.my_sales"))
    weeks = figures.weekly_sales(shop, weeks=26)
    chart = charts.column_chart([(w, n) for w, n, _r in weeks], series=[_("Orders")],
                                title=_("Your orders per week, last 26 weeks"), css_id="my-sales-chart")
    return render_template("insights/my_sales.html", shop=shop, form=form, chart=chart,
                           orders=sum(n for _w, n, _r in weeks), revenue=sum(r for _w, _n, r in weeks))
