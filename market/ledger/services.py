"""The ledger's read side: statements, balances, commission income, CSV exports."""
from __future__ import annotations

import csv
import io
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import case, func, select
from sqlalchemy.orm import joinedload

from market.extensions import db
from market.ledger.operations import balances, due_condition, utcnow
from market.models import Artisan, LedgerEntry, Payout, PayoutBatch
from market.models.ledger import ENTRY_KINDS
from market.timefmt import localtime


@dataclass
class Month:
    month: str
    totals: dict[str, int] = field(default_factory=lambda: dict.fromkeys(ENTRY_KINDS, 0))

    @property
    def net_fen(self) -> int:
        return sum(self.totals.values())


@dataclass
class Statement:
    artisan: Artisan
    balance_fen: int
    due_fen: int
    months: list[Month]
    entries: list[LedgerEntry]
    payouts: list[Payout]

    @property
    def pending_fen(self) -> int:
        return self.balance_fen - self.due_fen


def statement(artisan: Artisan, as_of: datetime | None = None) -> Statement:
    as_of = as_of or utcnow()
    total, due = balances(as_of, artisan.id).get(artisan.id, (0, 0))
    entries = list(db.session.scalars(select(LedgerEntry).where(LedgerEntry.artisan_id == artisan.id)
                                      .order_by(LedgerEntry.id.desc())))
    months: dict[str, Month] = {}
    for e in entries:
        key = localtime(e.created_at, "month")  # the Beijing month (TIMEZONE), not the UTC one
        months.setdefault(key, Month(key)).totals[e.kind] += e.amount_fen
    payouts = list(db.session.scalars(select(Payout).where(Payout.artisan_id == artisan.id)
                                      .order_by(Payout.id.desc())))
    return Statement(artisan, total, due, sorted(months.values(), key=lambda m: m.month, reverse=True), entries,
                     payouts)


def all_balances(as_of: datetime | None = None) -> list[tuple[Artisan, int, int]]:
    found = balances(as_of)
    artisans = {a.id: a for a in db.session.scalars(select(Artisan).where(Artisan.id.in_(list(found))))} \
        if found else {}
    return [(artisans[a], total, due) for a, (total, due) in sorted(found.items())]


def commission_income() -> list[tuple[str, int]]:
    """The platform's commission (net of reversals) by month of posting, newest first."""
    rows = db.session.execute(select(LedgerEntry.created_at, LedgerEntry.amount_fen)
                              .where(LedgerEntry.kind.in_(("commission", "commission_reversal"))))
    months: dict[str, int] = {}
    for created_at, amount in rows:
        key = localtime(created_at, "month")
        months[key] = months.get(key, 0) - amount
    return sorted(months.items(), reverse=True)


def due_now(artisan_id: int) -> int:
    return db.session.scalar(select(func.coalesce(func.sum(case((due_condition(utcnow()), LedgerEntry.amount_fen),
                                                                else_=0)), 0))
                             .where(LedgerEntry.artisan_id == artisan_id)) or 0


def batches() -> list[PayoutBatch]:
    return list(db.session.scalars(select(PayoutBatch).order_by(PayoutBatch.id.desc()).limit(100)))


def batch(batch_id: int) -> PayoutBatch | None:
    return db.session.scalar(select(PayoutBatch).where(PayoutBatch.id == batch_id))


def batch_payouts(batch_id: int) -> list[Payout]:
    return list(db.session.scalars(select(Payout).where(Payout.batch_id == batch_id)
                                   .options(joinedload(Payout.artisan)).order_by(Payout.id)))


def csv_safe(value) -> str:
    """A cell a spreadsheet will not run: text starting with = + - @ or a control character is
    prefixed with an apostrophe (numbers are written as numbers, not through here)."""
    text = "" if value is None else str(value)
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text


def _csv(header: list[str], rows: list[list]) -> str:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(header)
    writer.writerows(rows)
    return "\ufeff" + out.getvalue()  # BOM: Excel opens UTF-8 (Chinese names) correctly


def batch_csv(batch_id: int) -> str:
    """For the bank: the payout details in full (this export is where a payout is made)."""
    from market.ledger.details import details_of

    rows = []
    for p in batch_payouts(batch_id):
        d = details_of(p.artisan_id)
        rows.append([p.id, p.artisan_id, csv_safe(p.artisan.display_name), f"{p.amount_fen / 100:.2f}",
                     d.method if d else "", csv_safe(d.bank_name) if d else "", csv_safe(d.account) if d else "",
                     csv_safe(d.holder) if d else "", p.status, csv_safe(p.reference)])
    return _csv(["payout_id", "artisan_id", "artisan", "amount_yuan", "method", "bank", "account", "holder",
                 "status", "reference"], rows)


def statement_csv(s: Statement) -> str:
    """Times in the TIMEZONE setting (Beijing time), as on the page."""
    return _csv(["date", "kind", "amount_yuan", "parcel", "note"],
                [[localtime(e.created_at, "datetime"), e.kind, f"{e.amount_fen / 100:.2f}",
                  e.sub_order_id or "", csv_safe(e.note)] for e in reversed(s.entries)])
