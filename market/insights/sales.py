"""Daily sales of the watched shops: her shop here (summed from paid orders, by Beijing date),
and shops on other platforms imported by staff from a CSV and mapped to her profile."""
from __future__ import annotations

import csv
import datetime as dt
import io
import os
import tempfile
from collections import defaultdict

import numpy as np
from flask_babel import lazy_gettext as _l
from sqlalchemy import delete, select

from market import audit
from market.clock import BEIJING
from market.extensions import db
from market.models import Artisan, ClientProfile, Order, SubOrder, User
from market.models.insights import SalesDay, SalesShop
from signals.backtest import SalesFileError, read_sales

HISTORY_DAYS = 549             # what the scanner reads: 18 months
IMPORT_MAX_BYTES = 50 * 1024 * 1024
PLATFORMS = ("taobao", "pinduoduo", "douyin", "wechat", "other")


class InsightsError(ValueError):
    """A message safe to show (a form error or flash)."""


def market_shop(artisan: Artisan) -> SalesShop:
    """Her shop here as a watched shop (created the first time)."""
    shop = db.session.scalar(select(SalesShop).where(SalesShop.artisan_id == artisan.id))
    if shop is None:
        shop = SalesShop(source="market", external_id=f"artisan-{artisan.id}", platform="market",
                         name=artisan.display_name, artisan_id=artisan.id)
        db.session.add(shop)
        db.session.flush()
    return shop


def refresh_market_sales(today: dt.date, days: int = HISTORY_DAYS) -> int:
    """Sum the paid orders of every approved shop per Beijing day over the last `days` days and
    store them (the rows of that span are replaced). Returns the number of shop-days written."""
    since = today - dt.timedelta(days=days - 1)
    since_utc = dt.datetime.combine(since, dt.time()) - BEIJING
    artisans = list(db.session.scalars(select(Artisan).where(Artisan.status == "approved")))
    shops = {a.id: market_shop(a) for a in artisans}
    totals: dict[tuple[int, dt.date], list[int]] = defaultdict(lambda: [0, 0, 0])
    rows = db.session.execute(
        select(SubOrder.artisan_id, Order.paid_at, SubOrder.subtotal_fen, SubOrder.refunded_fen)
        .join(Order, Order.id == SubOrder.order_id)
        .where(Order.paid_at.is_not(None), Order.paid_at >= since_utc))
    for artisan_id, paid_at, subtotal, refunded in rows:
        if artisan_id not in shops:
            continue
        day = (paid_at + BEIJING).date()
        if day > today:
            continue
        t = totals[(artisan_id, day)]
        t[0] += 1
        t[1] += subtotal or 0
        t[2] += refunded or 0
    shop_ids = [s.id for s in shops.values()]
    if shop_ids:
        db.session.execute(delete(SalesDay).where(SalesDay.shop_id.in_(shop_ids), SalesDay.day >= since))
    for (artisan_id, day), (n, revenue, refunded) in totals.items():
        db.session.add(SalesDay(shop_id=shops[artisan_id].id, day=day, orders=n, revenue_fen=revenue,
                                refunded_fen=min(refunded, revenue)))
    db.session.commit()
    return len(totals)


# ---- shops on other platforms ----------------------------------------------------------

def map_shop(staff: User, external_id: str, platform: str, profile_id: int | None, name: str = "") -> SalesShop:
    """Staff say whose a shop on another platform is (the id its export uses), so its sales can
    be imported; mapping an id again moves it to another profile."""
    external_id = (external_id or "").strip()
    if not 1 <= len(external_id) <= 64 or "," in external_id:
        raise InsightsError(_l("Enter the shop id as the platform's export writes it (at most 64 characters)."))
    if platform not in PLATFORMS:
        raise InsightsError(_l("Choose the platform."))
    profile = db.session.get(ClientProfile, profile_id) if profile_id else None
    if profile is None or profile.anonymised_at is not None:
        raise InsightsError(_l("Choose her profile."))
    shop = db.session.scalar(select(SalesShop).where(SalesShop.source == "import",
                                                     SalesShop.external_id == external_id))
    if shop is None:
        shop = SalesShop(source="import", external_id=external_id, created_by_id=staff.id)
        db.session.add(shop)
    shop.platform, shop.profile_id = platform, profile.id
    shop.name = (name or "").strip()[:80] or f"{profile.name} ({external_id})"
    db.session.flush()
    audit.record(staff, "sales_shop.map", shop, on_behalf_of=profile)
    db.session.commit()
    return shop


def import_sales(staff: User, data: bytes, filename: str = "sales.csv") -> tuple[int, int]:
    """Import a sales CSV (`shop_id,date,orders,revenue_fen,refunded_fen`, optionally `category`)
    whose shop ids staff have mapped. The whole file is checked first: any bad line (or an
    unknown shop id) raises InsightsError naming the line, and nothing is imported. A shop-day
    already stored is replaced. Returns (rows, shops)."""
    if len(data) > IMPORT_MAX_BYTES:
        raise InsightsError(_l("The file is %(mb)s MB; the limit is %(limit)s MB. Split it by shop.",
                               mb=f"{len(data) / 2 ** 20:.1f}", limit=IMPORT_MAX_BYTES // 2 ** 20))
    fd, tmp = tempfile.mkstemp(suffix=".csv")
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
        try:
            sales = read_sales(tmp, max_bytes=IMPORT_MAX_BYTES)
        except SalesFileError as e:
            raise InsightsError(_l("%(file)s: %(error)s", file=filename, error=str(e))) from None
    finally:
        os.unlink(tmp)
    known = {s.external_id: s for s in db.session.scalars(
        select(SalesShop).where(SalesShop.source == "import", SalesShop.external_id.in_(sales.shop_ids)))}
    unknown = set(sales.shop_ids) - set(known)
    if unknown:
        line = _first_line_of(data, unknown)
        raise InsightsError(_l("%(file)s: line %(line)s: shop id %(shop)s is not mapped to anyone's profile; map it "
                               "first (nothing was imported).", file=filename, line=line[0], shop=line[1]))
    rows = 0
    for i, external in enumerate(sales.shop_ids):
        shop = known[external]
        if sales.categories is not None:
            shop.category = sales.categories[i][:40]
        days = np.flatnonzero(sales.orders[i] + sales.revenue_fen[i] + sales.refunded_fen[i])
        dates = [sales.start + dt.timedelta(days=int(d)) for d in days]
        if dates:
            db.session.execute(delete(SalesDay).where(SalesDay.shop_id == shop.id, SalesDay.day.in_(dates)))
        for d, day in zip(days, dates, strict=True):
            db.session.add(SalesDay(shop_id=shop.id, day=day, orders=int(sales.orders[i, d]),
                                    revenue_fen=int(sales.revenue_fen[i, d]),
                                    refunded_fen=int(sales.refunded_fen[i, d])))
            rows += 1
    audit.record(staff, "sales.import", ("sales_shops", None))
    db.session.commit()
    return rows, len(sales.shop_ids)


def _first_line_of(data: bytes, shops: set[str]) -> tuple[int, str]:
    reader = csv.reader(io.StringIO(data.decode("utf-8-sig")))
    header = [h.strip().lower() for h in next(reader)]
    col = header.index("shop_id")
    for fields in reader:
        if fields and len(fields) > col and fields[col].strip() in shops:
            return reader.line_num, fields[col].strip()
    return 0, sorted(shops)[0]


# ---- reading the sales back -------------------------------------------------------------

def sales_arrays(shops: list[SalesShop], first: dt.date, last: dt.date):
    """(orders, revenue, refunded) as shops x days arrays from `first` to `last` inclusive."""
    n_days = (last - first).days + 1
    index = {s.id: i for i, s in enumerate(shops)}
    arrays = [np.zeros((len(shops), n_days), dtype=np.int64) for _ in range(3)]
    if shops:
        for row in db.session.execute(
                select(SalesDay.shop_id, SalesDay.day, SalesDay.orders, SalesDay.revenue_fen, SalesDay.refunded_fen)
                .where(SalesDay.shop_id.in_(list(index)), SalesDay.day >= first, SalesDay.day <= last)):
            i, d = index[row[0]], (row[1] - first).days
            arrays[0][i, d], arrays[1][i, d], arrays[2][i, d] = row[2], row[3], row[4]
    return arrays


def shops_of_user(user: User) -> list[SalesShop]:
    """Her watched shops: her shop here, and those mapped to her profile."""
    shops = []
    artisan = db.session.scalar(select(Artisan).where(Artisan.user_id == user.id))
    if artisan is not None:
        shop = db.session.scalar(select(SalesShop).where(SalesShop.artisan_id == artisan.id))
        shops.append(shop or market_shop(artisan))
    profile = db.session.scalar(select(ClientProfile).where(ClientProfile.user_id == user.id))
    if profile is not None:
        shops += list(db.session.scalars(select(SalesShop).where(SalesShop.profile_id == profile.id,
                                                                 SalesShop.source == "import")))
    return shops
