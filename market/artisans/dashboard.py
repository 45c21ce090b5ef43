"""The figures at the top of an artisan's dashboard: what to do first (parcels to ship, low
and sold-out stock) and how sales go (this calendar month against the last, in Beijing
months, net of refunds), and whether she has payouts (then her ledger is linked). Read only."""
from __future__ import annotations

from dataclasses import dataclass, field

from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select, update

from market.extensions import db
from market.models import Artisan, Order, Product, Refund, SubOrder
from market.models.ledger import Payout
from market.orders.services import sold
from market.timefmt import local_now, month_start_utc

MAX_THRESHOLD = 999


class ThresholdError(ValueError):
    """The threshold is not a whole number from 0 to 999; the message is safe to show."""


@dataclass
class Figures:
    to_ship: int = 0
    low_stock: list[Product] = field(default_factory=list)
    sold_out: list[Product] = field(default_factory=list)
    this_month_fen: int = 0
    last_month_fen: int = 0
    this_month_orders: int = 0
    last_month_orders: int = 0
    refunded_this_month_fen: int = 0
    has_payouts: bool = False

    @property
    def change_percent(self) -> int | None:
        if not self.last_month_fen:
            return None
        return round((self.this_month_fen - self.last_month_fen) * 100 / self.last_month_fen)


def _month_sales(artisan_id: int, start, end) -> tuple[int, int, int]:
    """(net sales, parcels, refunded) of her parcels of orders paid in [start, end)."""
    gross, count, refunded = db.session.execute(
        select(func.coalesce(func.sum(SubOrder.subtotal_fen), 0), func.count(SubOrder.id),
               func.coalesce(func.sum(SubOrder.refunded_fen), 0))
        .join(Order, Order.id == SubOrder.order_id)
        .where(SubOrder.artisan_id == artisan_id, sold(), Order.paid_at >= start, Order.paid_at < end)
    ).one()
    return int(gross) - int(refunded), int(count), int(refunded)


def figures(artisan: Artisan) -> Figures:
    out = Figures()
    out.to_ship = db.session.scalar(
        select(func.count()).select_from(SubOrder).join(Order, Order.id == SubOrder.order_id)
        .where(SubOrder.artisan_id == artisan.id, SubOrder.status == "awaiting_shipment", sold())
    ) or 0
    threshold = int(artisan.low_stock_threshold or 0)
    published = list(db.session.scalars(
        select(Product).where(Product.artisan_id == artisan.id, Product.status == "published",
                              Product.stock <= threshold if threshold > 0 else Product.stock <= 0)
        .order_by(Product.stock, Product.id)))
    out.sold_out = [p for p in published if p.stock <= 0]
    out.low_stock = [p for p in published if p.stock > 0]
    now = local_now()
    this_start = month_start_utc(now.year, now.month)
    last_start = month_start_utc(now.year, now.month - 1)
    next_start = month_start_utc(now.year, now.month + 1)
    out.this_month_fen, out.this_month_orders, out.refunded_this_month_fen = _month_sales(
        artisan.id, this_start, next_start)
    out.last_month_fen, out.last_month_orders, _ = _month_sales(artisan.id, last_start, this_start)
    out.has_payouts = db.session.scalar(select(Payout.id).where(Payout.artisan_id == artisan.id).limit(1)) is not None
    return out


def set_threshold(artisan: Artisan, raw) -> int:
    text = str(raw if raw is not None else "").strip()
    if not text.isdigit() or int(text) > MAX_THRESHOLD:
        raise ThresholdError(_l("Enter a whole number from 0 to %(n)s.", n=MAX_THRESHOLD))
    value = int(text)
    db.session.execute(update(Artisan).where(Artisan.id == artisan.id).values(low_stock_threshold=value)
                       .execution_options(synchronize_session=False))
    db.session.commit()
    return value


def refunds_by_sub_order(sub_orders) -> dict[int, list[Refund]]:
    """The refunds touching each of her parcels: of the parcel, of one of its lines, or of the
    whole order (shown on each of its parcels), pending or made; failed ones are left out."""
    subs = list(sub_orders)
    if not subs:
        return {}
    order_ids = {s.order_id for s in subs}
    refunds = list(db.session.scalars(select(Refund).where(Refund.order_id.in_(order_ids),
                                                           Refund.status.in_(("pending", "succeeded")))
                                      .order_by(Refund.id)))
    out: dict[int, list[Refund]] = {}
    for sub in subs:
        line_ids = {ln.id for ln in sub.lines}
        out[sub.id] = [r for r in refunds if r.order_id == sub.order_id and (
            r.sub_order_id == sub.id or (r.line_id is not None and r.line_id in line_ids)
            or (r.sub_order_id is None and r.line_id is None))]
    return out
