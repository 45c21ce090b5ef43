"""Early warning on the web side: the nightly scan over the watched shops, each warning a
proposed case in the staff queue (channel early_warning) with its evidence; staff open it on
her behalf once she has been contacted and agreed (consent first), or dismiss it with a
reason. A dismissed shop stays quiet for INSIGHTS_DISMISS_DAYS unless the signal gets worse.
Also: her opt-out, and the business results recorded when a case closes."""
from __future__ import annotations

import datetime as dt
import math
from collections import Counter

from flask import current_app
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from market import audit, jobs
from market.clock import BEIJING
from market.clock import now as utcnow
from market.clock import today as beijing_today
from market.extensions import db
from market.insights.sales import HISTORY_DAYS, InsightsError, market_shop, refresh_market_sales, sales_arrays
from market.models import Artisan, Case, ClientProfile, Order, OrderLine, Product, SubOrder, User
from market.models.insights import CaseBusinessResult, SalesShop, SalesWarning
from matching.schema import INDUSTRIES
from signals import SalesScanner
from signals.backtest import Sales, refund_warnings
from signals.checks import Parcel, ProductStock, best_sellers_out_of_stock, stale_catalogue, unshipped_parcels

# The difficulty a proposed case starts with, by signal (staff change it when they talk to her).
SIGNAL_DIFFICULTY = {"sales_drop": "market_access", "refund_share": "quality", "unshipped_parcels": "supply_chain",
                     "best_sellers_out_of_stock": "supply_chain", "stale_catalogue": "product_design"}
SIGNAL_LABELS = {
    "sales_drop": _l("Sales fell for weeks"),
    "refund_share": _l("A rising share of refunds"),
    "unshipped_parcels": _l("Paid parcels not shipped in time"),
    "best_sellers_out_of_stock": _l("Best sellers out of stock"),
    "stale_catalogue": _l("No new products for months while sales fall"),
}
LOOKBACK_DAYS = 3      # a warning flagged in the last few nights still counts (a missed night)


def _config(name: str, default):
    return current_app.config.get(name, default)


def watched_shops() -> list[SalesShop]:
    return list(db.session.scalars(select(SalesShop).where(SalesShop.opted_out_at.is_(None)).order_by(SalesShop.id)))


@jobs.task("early_warning_scan", every=24 * 3600)
def nightly_scan() -> int:
    return scan(beijing_today())


def scan(today: dt.date) -> int:
    """Refresh this marketplace's daily sales, run the scanner and the checks over every watched
    shop, and turn each new warning into a proposed case (or hold it). Returns warnings stored."""
    refresh_market_sales(today)
    sync_decisions()
    shops = watched_shops()
    if not shops:
        return 0
    first = today - dt.timedelta(days=HISTORY_DAYS - 1)
    orders, revenue, refunded = sales_arrays(shops, first, today)
    ids = [str(s.id) for s in shops]
    categories = [s.category or "-" for s in shops] if any(s.category for s in shops) else None
    scanner = SalesScanner(threshold=_config("INSIGHTS_THRESHOLD", SalesScanner().threshold))
    found = scanner.scan(orders, first, ids, categories)
    weeks = {w.shop_id: _weekly_evidence(scanner, ids.index(w.shop_id), first, (w.flagged_on - first).days)
             for w in found}
    found = [w for w in found if (today - w.flagged_on).days < LOOKBACK_DAYS]
    found += [w for w in refund_warnings(Sales(ids, first, orders, revenue, refunded, categories),
                                         start_day=scanner.warmup, cooldown=scanner.cooldown)
              if (today - w.flagged_on).days < LOOKBACK_DAYS]
    found += _market_checks(shops, today, orders, first)
    by_id = {str(s.id): s for s in shops}
    stored = 0
    for w in found:
        evidence = dict(w.evidence)
        if w.signal == "sales_drop":
            evidence["weeks"] = weeks.get(w.shop_id, [])
        stored += raise_warning(by_id[w.shop_id], w.signal, w.flagged_on, float(w.score), evidence) is not None
    return stored


def _weekly_evidence(scanner: SalesScanner, row: int, first: dt.date, day: int, weeks: int = 26) -> list[dict]:
    """The shop's last `weeks` weeks to the flagged day: orders, expected orders and the 90 %
    band (negative binomial, normal approximation) — what the staff's chart draws."""
    out = []
    counts, expected = scanner.counts_[row], scanner.expected_[row]
    for k in range(weeks, 0, -1):
        end = day + 1 - (k - 1) * 7
        start = end - 7
        if start < 0:
            continue
        mu = expected[start:end]
        e = float(mu.sum())
        sd = math.sqrt(e + float((mu ** 2).sum()) / scanner.dispersion)
        out.append({"start": (first + dt.timedelta(days=start)).isoformat(), "orders": int(counts[start:end].sum()),
                    "expected": round(e, 1), "low": round(max(0.0, e - 1.645 * sd), 1),
                    "high": round(e + 1.645 * sd, 1)})
    return out


def _market_checks(shops: list[SalesShop], today: dt.date, orders, first: dt.date):
    """The checks that read this marketplace's own orders and catalogue."""
    by_artisan = {s.artisan_id: str(s.id) for s in shops if s.artisan_id}
    if not by_artisan:
        return []
    parcels = [Parcel(by_artisan[a], str(sid), (paid + BEIJING).date())
               for sid, a, paid in db.session.execute(
                   select(SubOrder.id, SubOrder.artisan_id, Order.paid_at).join(Order, Order.id == SubOrder.order_id)
                   .where(SubOrder.status == "awaiting_shipment", Order.paid_at.is_not(None),
                          SubOrder.artisan_id.in_(list(by_artisan))))]
    found = unshipped_parcels(parcels, today)
    since = utcnow() - dt.timedelta(days=90)
    units = Counter()
    for product_id, qty in db.session.execute(
            select(OrderLine.product_id, OrderLine.quantity).join(Order, Order.id == OrderLine.order_id)
            .where(Order.paid_at.is_not(None), Order.paid_at >= since, OrderLine.artisan_id.in_(list(by_artisan)))):
        units[product_id] += qty
    stock, newest = [], {}
    for p in db.session.scalars(select(Product).where(Product.artisan_id.in_(list(by_artisan)))):
        shop = by_artisan[p.artisan_id]
        # No stock history is kept: an empty product counts as out of stock since its last change.
        out_since = (p.updated_at + BEIJING).date() if p.stock == 0 and p.updated_at else None
        stock.append(ProductStock(shop, str(p.id), units.get(p.id, 0), out_since))
        created = (p.created_at + BEIJING).date() if p.created_at else None
        if created and (newest.get(shop) is None or created > newest[shop]):
            newest[shop] = created
    found += best_sellers_out_of_stock(stock, today)
    daily = {}
    span = min(112, orders.shape[1])
    for i, s in enumerate(shops):
        if s.artisan_id:
            row = orders[i, -span:]
            start = today - dt.timedelta(days=span - 1)
            daily[str(s.id)] = {start + dt.timedelta(days=d): int(n) for d, n in enumerate(row) if n}
    found += stale_catalogue({by_artisan[a]: newest.get(by_artisan[a]) for a in by_artisan}, daily, today)
    return found


def raise_warning(shop: SalesShop, signal: str, flagged_on: dt.date, score: float, evidence: dict
                  ) -> SalesWarning | None:
    """Store a warning and, unless one is already waiting or the shop was dismissed lately with
    no worse signal, propose a case for her. Returns the stored warning (None: already known)."""
    if shop.opted_out_at is not None:
        return None
    if db.session.scalar(select(SalesWarning.id).where(SalesWarning.shop_id == shop.id, SalesWarning.signal == signal,
                                                       SalesWarning.flagged_on == flagged_on)):
        return None
    warning = SalesWarning(shop_id=shop.id, signal=signal, flagged_on=flagged_on, score=round(score, 3),
                           evidence=evidence, created_at=utcnow())
    pending = db.session.scalar(select(SalesWarning).where(SalesWarning.shop_id == shop.id,
                                                           SalesWarning.status == "proposed")
                                .order_by(SalesWarning.id.desc()).limit(1))
    if pending is not None:
        # one proposed case per shop: the new evidence joins it
        warning.status, warning.case_id = "held", pending.case_id
        warning.reason = "pending"
    elif (reason := _held_by_dismissal(shop, signal, score, flagged_on)) is not None:
        warning.status, warning.reason = "held", reason
    elif _active_case(shop) is not None:
        warning.status, warning.reason, warning.case_id = "held", "in_care", _active_case(shop).id
    db.session.add(warning)
    db.session.commit()
    if warning.status == "proposed":
        warning.case_id = _propose(shop, warning).id
        db.session.commit()
    return warning


def _held_by_dismissal(shop: SalesShop, signal: str, score: float, day: dt.date) -> str | None:
    """A warning for a shop dismissed within INSIGHTS_DISMISS_DAYS stays out of the queue unless
    the same signal is now at least INSIGHTS_WORSE_FACTOR times as strong (or a new kind of signal)."""
    quiet = int(_config("INSIGHTS_DISMISS_DAYS", 90))
    factor = float(_config("INSIGHTS_WORSE_FACTOR", 1.5))
    since = utcnow() - dt.timedelta(days=quiet)
    dismissed = list(db.session.scalars(select(SalesWarning).where(
        SalesWarning.shop_id == shop.id, SalesWarning.status == "dismissed", SalesWarning.decided_at >= since)))
    if not dismissed:
        return None
    same = [w.score for w in dismissed if w.signal == signal]
    if not same:
        return None
    if score >= factor * max(same):
        return None
    return "dismissed_lately"


def _active_case(shop: SalesShop) -> Case | None:
    from market.mentoring.states import ACTIVE_CASE_STATES

    clauses = []
    if shop.artisan_id:
        clauses.append(Case.artisan_id == shop.artisan_id)
    if shop.profile_id:
        clauses.append(Case.profile_id == shop.profile_id)
    if not clauses:
        return None
    from sqlalchemy import or_

    return db.session.scalar(select(Case).where(or_(*clauses), Case.status.in_(ACTIVE_CASE_STATES)).limit(1))


def describe(warning: SalesWarning) -> str:
    """The reason on the proposed case, in words."""
    e = warning.evidence or {}
    label = str(SIGNAL_LABELS.get(warning.signal, warning.signal))
    if warning.signal == "sales_drop":
        return _("%(label)s: since %(day)s her shop had %(orders)s orders where %(expected)s were expected "
                 "(%(fall)s%% fewer).", label=label, day=e.get("change_point", "?"), orders=e.get("orders_since_change"),
                 expected=e.get("expected_since_change"), fall=round(100 * float(e.get("fall", 0))))
    if warning.signal == "refund_share":
        return _("%(label)s: %(share)s%% of the last 4 weeks' revenue was refunded.", label=label,
                 share=round(100 * float(e.get("refund_share_28d", 0))))
    if warning.signal == "unshipped_parcels":
        return _("%(label)s: %(n)s parcels, the oldest %(days)s days late.", label=label, n=e.get("parcels"),
                 days=e.get("most_days_late"))
    return label


def _propose(shop: SalesShop, warning: SalesWarning) -> Case:
    from market import areas
    from market.mentoring import services as mentoring

    author = None
    district, industry, name = "", "", shop.name
    if shop.artisan_id:
        artisan = db.session.get(Artisan, shop.artisan_id)
        author, district, name = artisan.user, artisan.district, artisan.display_name
        kinds = Counter(p.category for p in artisan.products)
        industry = next((k for k, _n in kinds.most_common() if k in INDUSTRIES), "handicraft")
    profile = db.session.get(ClientProfile, shop.profile_id) if shop.profile_id else None
    if profile is not None:
        district = district or profile.district
        industry = industry or (profile.business_kind if profile.business_kind in INDUSTRIES else "ecommerce")
        if author is None and profile.user_id:
            author = db.session.get(User, profile.user_id)
    if not areas.is_district(district):
        district = next(iter(c for c, _label in areas.district_choices()), district)
    data = mentoring.CaseData(business_name=(name or shop.external_id)[:80], industry=industry or "ecommerce",
                              stage="growth", district=district,
                              difficulties=[SIGNAL_DIFFICULTY.get(warning.signal, "market_access")],
                              description="", consent_to_share=False)
    case = mentoring.propose_case(None, data, describe(warning), channel="early_warning", author=author)
    case.artisan_id = shop.artisan_id
    case.profile_id = shop.profile_id
    db.session.commit()
    return case


# ---- staff decide --------------------------------------------------------------------------

def get_warning(warning_id: int) -> SalesWarning:
    warning = db.session.get(SalesWarning, warning_id) if isinstance(warning_id, int) else None
    if warning is None:
        raise LookupError(warning_id)
    return warning


def proposed_warnings() -> list[SalesWarning]:
    sync_decisions()
    return list(db.session.scalars(select(SalesWarning).where(SalesWarning.status == "proposed")
                                   .order_by(SalesWarning.flagged_on.desc(), SalesWarning.id.desc())))


def warning_for_case(case_id: int) -> SalesWarning | None:
    return db.session.scalar(select(SalesWarning).where(SalesWarning.case_id == case_id,
                                                        SalesWarning.status != "held")
                             .order_by(SalesWarning.id.desc()).limit(1))


def other_signals(warning: SalesWarning) -> list[SalesWarning]:
    return list(db.session.scalars(select(SalesWarning).where(
        SalesWarning.shop_id == warning.shop_id, SalesWarning.id != warning.id,
        SalesWarning.flagged_on >= warning.flagged_on - dt.timedelta(days=90)).order_by(SalesWarning.flagged_on)))


def open_on_her_behalf(staff: User, warning_id: int, contact_note: str, consent_method: str,
                       consent_details: bool, consent_contact: bool) -> Case:
    """Staff contacted her first and she wants help: the proposed case opens, her consent is
    recorded as she gave it (spoken or on paper), and the warning is confirmed."""
    from market.mentoring import services as mentoring
    from market.mentoring.services.consent import write_consent

    warning = get_warning(warning_id)
    if warning.status != "proposed" or warning.case_id is None:
        raise InsightsError(_l("This warning was already decided."))
    if consent_method not in ("spoken", "paper"):
        raise InsightsError(_l("Say how she gave or withdrew her consent: spoken or on signed paper."))
    case = mentoring.open_proposed(staff, warning.case_id, contact_note)
    for scope, given in (("details", consent_details), ("contact", consent_contact), ("sms", False)):
        write_consent(case, staff, scope, given, consent_method, True)
    warning = get_warning(warning_id)
    warning.status, warning.decided_by_id, warning.decided_at = "confirmed", staff.id, utcnow()
    db.session.commit()
    return case


def dismiss(staff: User, warning_id: int, reason: str) -> SalesWarning:
    from market.mentoring import services as mentoring

    warning = get_warning(warning_id)
    if warning.status != "proposed" or warning.case_id is None:
        raise InsightsError(_l("This warning was already decided."))
    mentoring.dismiss_proposed(staff, warning.case_id, reason)
    warning = get_warning(warning_id)
    warning.status, warning.reason = "dismissed", (reason or "").strip()
    warning.decided_by_id, warning.decided_at = staff.id, utcnow()
    db.session.commit()
    return warning


def sync_decisions() -> None:
    """A proposed case opened or dismissed from the case page decides its warning too."""
    rows = db.session.execute(select(SalesWarning, Case).join(Case, Case.id == SalesWarning.case_id)
                              .where(SalesWarning.status == "proposed", Case.status != "proposed")).all()
    for warning, case in rows:
        if case.status == "dismissed":
            warning.status, warning.reason = "dismissed", case.dismissed_reason
            warning.decided_at = case.closed_at or utcnow()
        else:
            warning.status, warning.decided_at = "confirmed", case.opened_at or utcnow()
    if rows:
        db.session.commit()


# ---- her side: what is watched, and the opt-out --------------------------------------------

def set_watched(user: User, watched: bool) -> list[SalesShop]:
    from market.insights.sales import shops_of_user

    shops = shops_of_user(user)
    if not shops:
        raise InsightsError(_l("You have no shop yet."))
    for shop in shops:
        shop.opted_out_at = None if watched else utcnow()
    audit.record(user, "sales_watch.on" if watched else "sales_watch.off", ("users", user.id))
    db.session.commit()
    return shops


def artisan_shop(user: User) -> SalesShop | None:
    artisan = db.session.scalar(select(Artisan).where(Artisan.user_id == user.id))
    if artisan is None:
        return None
    shop = market_shop(artisan)
    db.session.commit()
    return shop


# ---- business results at closing ------------------------------------------------------------

def record_results(user: User, case_id: int, *, new_channel: str, loan_obtained: bool, loan_fen: int | None,
                   jobs_created: int, jobs_kept: int, certificate: str) -> CaseBusinessResult:
    """Staff, her mentor or she herself record what the help brought (where it exists)."""
    from market.mentoring.services.access import visible_case

    case, acc = visible_case(user, case_id)
    if not (acc.is_staff or acc.is_mentor or acc.is_author or acc.is_filer) or case.status in ("proposed", "dismissed"):
        raise LookupError(case_id)
    for value in (jobs_created, jobs_kept):
        if value is None or not 0 <= value <= 10_000:
            raise InsightsError(_l("Jobs are counted from 0 to 10,000."))
    if loan_obtained and (loan_fen is None or not 0 < loan_fen <= 10 ** 11):
        raise InsightsError(_l("Enter the amount of the loan in yuan."))
    result = db.session.get(CaseBusinessResult, case.id) or CaseBusinessResult(case_id=case.id)
    result.new_channel = (new_channel or "").strip()[:80]
    result.loan_obtained = bool(loan_obtained)
    result.loan_fen = loan_fen if loan_obtained else None
    result.jobs_created, result.jobs_kept = jobs_created, jobs_kept
    result.certificate = (certificate or "").strip()[:80]
    result.recorded_by_id, result.recorded_at = user.id, utcnow()
    db.session.add(result)
    audit.record(user, "case.business_results", case)
    db.session.commit()
    return result


def results_of(case_id: int) -> CaseBusinessResult | None:
    return db.session.get(CaseBusinessResult, case_id)


__all__ = ["InsightsError", "dismiss", "nightly_scan", "open_on_her_behalf", "raise_warning", "record_results",
           "scan", "set_watched"]
