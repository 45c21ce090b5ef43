"""The supply blueprint and what its two view modules share (views.py: the board,
organisations, posts, quotes and deals; event_views.py: events for participants and staff):
the state labels, the menu links, and small form helpers."""
from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user

from market.artisans.services import yuan_to_fen
from market.lazy import LazyList
from market.supply import operations as ops
from market.supply import services
from matching.supply import CERTIFICATIONS, SUPPLY_CATEGORIES

bp = Blueprint("supply", __name__)

POST_KIND_LABELS = {"need": _l("Need"), "offer": _l("Offer")}
POST_STATE_LABELS = {"open": _l("Open"), "awarded": _l("Quote accepted"), "closed": _l("Closed")}
QUOTE_STATE_LABELS = {"sent": _l("Sent"), "accepted": _l("Accepted"), "declined": _l("Not chosen"),
                      "withdrawn": _l("Withdrawn")}
DEAL_STATE_LABELS = {"pending": _l("Waiting for both sides"), "signed": _l("Signed"),
                     "not_signed": _l("Not signed")}
ORG_STATE_LABELS = {"pending": _l("Awaiting approval"), "approved": _l("Approved"), "rejected": _l("Rejected")}
REGION_LABELS = {"any": _l("Anywhere"), "city": _l("Ningbo only"), "district": _l("My district only")}
EVENT_KIND_LABELS = {"matchmaking": _l("Matchmaking day"), "training": _l("Training"), "lecture": _l("Lecture"),
                     "job_fair": _l("Job fair")}
ELIGIBILITY_LABELS = {"all": _l("Everyone"), "organisations": _l("Approved organisations"),
                      "women": _l("Women entrepreneurs and artisans")}
EVENT_STATE_LABELS = {"open": _l("Open"), "cancelled": _l("Cancelled"), "finished": _l("Finished")}
REGISTRATION_LABELS = {"registered": _l("Registered"), "waiting": _l("On the waiting list"),
                       "cancelled": _l("Cancelled")}


def _lang() -> str:
    from market.areas.services import _lang as lang

    return lang()


@bp.app_context_processor
def supply_labels():
    lang = _lang()
    i = 0 if lang == "zh" else 1
    return {"supply_category_labels": {c: v[i] for c, v in SUPPLY_CATEGORIES.items()},
            "certification_labels": {c: v[i] for c, v in CERTIFICATIONS.items()},
            "post_kind_labels": POST_KIND_LABELS, "post_state_labels": POST_STATE_LABELS,
            "quote_state_labels": QUOTE_STATE_LABELS, "deal_state_labels": DEAL_STATE_LABELS,
            "org_state_labels": ORG_STATE_LABELS, "region_labels": REGION_LABELS,
            "event_kind_labels": EVENT_KIND_LABELS, "eligibility_labels": ELIGIBILITY_LABELS,
            "event_state_labels": EVENT_STATE_LABELS, "registration_labels": REGISTRATION_LABELS,
            "supply_lang": lang, "supply_case_deals": services.case_deals, "supply_nav": LazyList(_supply_nav),
            "supply_staff_links": LazyList(_supply_staff_links)}


def _supply_nav() -> list[dict]:
    """Menu links for signed-in users: the events for everyone, the board for those who trade
    (artisans, entrepreneurs) and staff."""
    if not getattr(current_user, "is_authenticated", False):
        return []
    items = []
    if current_user.is_staff or current_user.has_role("artisan") or current_user.has_role("entrepreneur"):
        items.append({"url": url_for("supply.index"), "label": _("Supply chain"), "id": "nav-supply"})
    items.append({"url": url_for("supply.events"), "label": _("Events"), "id": "nav-events"})
    return items


def _supply_staff_links() -> list[dict]:
    if not (getattr(current_user, "is_authenticated", False) and current_user.is_staff):
        return []
    return [{"url": url_for("supply.staff_organisations"), "label": _("Organisations")},
            {"url": url_for("supply.events"), "label": _("Matchmaking days")},
            {"url": url_for("supply.new_event"), "label": _("Create an event")}]


def _fen(value) -> int | None:
    return yuan_to_fen(value) if value is not None else None


def _field_error(form, e: ops.SupplyError, default: str) -> None:
    field = getattr(form, e.field, None) if e.field else None
    if field is None:
        field = getattr(form, default)
    field.errors = list(field.errors) + [str(e)]


def _save_form(form, call, *, field: str, done: str, to):
    """A form page's POST: when the form validates, run `call()`; a rule it breaks goes on the
    form (on the field it names, else on `field`) and the page shows again (None); success is
    flashed and redirects to `to(result)`."""
    if not form.validate_on_submit():
        return None
    try:
        result = call()
    except ops.SupplyError as e:
        _field_error(form, e, field)
        return None
    flash(done, "success")
    return redirect(to(result))


def _get(model, ident):
    try:
        return ops.get(model, ident)
    except ops.NotFound:
        abort(404)


def _category_choices():
    i = 0 if _lang() == "zh" else 1
    return [(c, v[i]) for c, v in SUPPLY_CATEGORIES.items()]


def _cert_choices():
    i = 0 if _lang() == "zh" else 1
    return [(c, v[i]) for c, v in CERTIFICATIONS.items()]

