"""Replay the scanner over a sales file as if it had run every night; write the warnings.

    flask --app market early-warning backtest SALES.csv --out FLAGS.csv
    python -m signals.backtest SALES.csv --out FLAGS.csv          (the same, without Flask)

Input: a CSV with the header `shop_id,date,orders,revenue_fen,refunded_fen` and optionally
`category` (any order, other columns ignored); one row per shop and day (days without a row
had no orders), ISO dates (YYYY-MM-DD), whole non-negative numbers, money in fen. The file is
checked completely before anything is computed: a bad file raises `SalesFileError` naming the
line, and nothing is written.

Output: one row per warning, `shop_id,flagged_on,signal,score,evidence` (evidence as JSON),
ordered by date then shop. Signals: `sales_drop` (the scanner) and `refund_share` (refunds
rising; `signals.checks.rising_refund_share`), each decided on day d from the rows up to d
only, each quiet for `cooldown` days after it fires for a shop.
"""
from __future__ import annotations

import argparse
import csv
import datetime as dt
import json
import os
import re
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from .checks import refund_rule, refund_shares, refund_warning
from .scanner import EarlyWarning, SalesScanner

REQUIRED = ("shop_id", "date", "orders", "revenue_fen", "refunded_fen")
NUMBERS = ("orders", "revenue_fen", "refunded_fen")
MAX_BYTES = 32 * 1024 * 1024      # about 700,000 rows: 1,000 shops x 2 years
MAX_DAYS = 3 * 366 + 31           # the span of dates a file may cover
MAX_SHOP_ID = 64
MAX_COUNT = 10 ** 12
FLAG_COLUMNS = ("shop_id", "flagged_on", "signal", "score", "evidence")
_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")
_WHOLE = re.compile(r"-?\d+")


class SalesFileError(ValueError):
    """A sales file that cannot be read; `line` is its 1-based line number (0 for the file as a whole)."""

    def __init__(self, message: str, line: int = 0):
        self.line = line
        super().__init__(f"line {line}: {message}" if line else message)


@dataclass
class Sales:
    shop_ids: list[str]
    start: dt.date
    orders: np.ndarray          # shops x days
    revenue_fen: np.ndarray
    refunded_fen: np.ndarray
    categories: list[str] | None

    @property
    def n_days(self) -> int:
        return self.orders.shape[1]


def read_sales(path: str | os.PathLike, *, max_bytes: int = MAX_BYTES) -> Sales:
    """Read and check a whole sales file; raise SalesFileError at the first bad line."""
    path = Path(path)
    try:
        size = path.stat().st_size
    except OSError as e:
        raise SalesFileError(f"cannot read {path}: {e.strerror}") from None
    if size > max_bytes:
        raise SalesFileError(f"{path.name} is {size / 2 ** 20:.1f} MB; the limit is {max_bytes / 2 ** 20:.0f} MB "
                             "(split the file by shop)")
    try:
        text = path.read_bytes().decode("utf-8-sig")
    except UnicodeDecodeError as e:
        line = path.read_bytes()[:e.start].count(b"\n") + 1
        raise SalesFileError("the file is not UTF-8 text", line) from None
    reader = csv.reader(text.splitlines(keepends=True))
    header = next(reader, None)
    if not header or not any(h.strip() for h in header):
        raise SalesFileError("the file is empty; expected the header " + ",".join(REQUIRED), 1)
    header = [h.strip().lower() for h in header]
    missing = [c for c in REQUIRED if c not in header]
    if missing:
        raise SalesFileError(f"missing column(s) {', '.join(missing)}; expected the header {','.join(REQUIRED)} "
                             "(and optionally category)", 1)
    dupes = sorted({h for h in header if h and header.count(h) > 1})
    if dupes:
        raise SalesFileError(f"column(s) {', '.join(dupes)} appear more than once", 1)
    col = {name: header.index(name) for name in (*REQUIRED, "category") if name in header}
    has_category = "category" in col
    rows: dict[tuple[str, dt.date], tuple[int, int, int, int]] = {}
    categories: dict[str, tuple[str, int]] = {}
    first = last = None
    for fields in reader:
        line = reader.line_num
        if not fields or all(not f.strip() for f in fields):
            continue
        if len(fields) != len(header):
            raise SalesFileError(f"expected {len(header)} fields, found {len(fields)}", line)
        shop = fields[col["shop_id"]].strip()
        if not shop:
            raise SalesFileError("shop_id is empty", line)
        if len(shop) > MAX_SHOP_ID:
            raise SalesFileError(f"shop_id is longer than {MAX_SHOP_ID} characters", line)
        raw_date = fields[col["date"]].strip()
        try:
            if not _DATE.fullmatch(raw_date):
                raise ValueError
            day = dt.date.fromisoformat(raw_date)
        except ValueError:
            raise SalesFileError(f"date {raw_date!r} is not an ISO date (YYYY-MM-DD)", line) from None
        numbers = []
        for name in NUMBERS:
            raw = fields[col[name]].strip()
            if not _WHOLE.fullmatch(raw):
                raise SalesFileError(f"{name} {raw!r} is not a whole number", line)
            value = int(raw)
            if value < 0:
                raise SalesFileError(f"{name} is negative ({value})", line)
            if value > MAX_COUNT:
                raise SalesFileError(f"{name} is too large ({value})", line)
            numbers.append(value)
        key = (shop, day)
        if key in rows:
            raise SalesFileError(f"shop {shop} has a second row for {day.isoformat()} (the first is line "
                                 f"{rows[key][3]})", line)
        if has_category:
            category = fields[col["category"]].strip()
            seen = categories.setdefault(shop, (category, line))
            if seen[0] != category:
                raise SalesFileError(f"shop {shop} is in category {category!r} here but {seen[0]!r} on line "
                                     f"{seen[1]}", line)
        rows[key] = (*numbers, line)
        if first is None or day < first[0]:
            first = (day, line)
        if last is None or day > last[0]:
            last = (day, line)
        if (last[0] - first[0]).days + 1 > MAX_DAYS:
            raise SalesFileError(f"the dates span {first[0]} (line {first[1]}) to {last[0]} (line {last[1]}), "
                                 f"more than {MAX_DAYS} days", line)
    if not rows:
        raise SalesFileError("the file has a header but no rows", 1)
    shop_ids = sorted({shop for shop, _ in rows})
    position = {shop: i for i, shop in enumerate(shop_ids)}
    n_days = (last[0] - first[0]).days + 1
    arrays = [np.zeros((len(shop_ids), n_days), dtype=np.int64) for _ in NUMBERS]
    for (shop, day), values in rows.items():
        i, d = position[shop], (day - first[0]).days
        for array, value in zip(arrays, values[:3], strict=True):
            array[i, d] = value
    return Sales(shop_ids=shop_ids, start=first[0], orders=arrays[0], revenue_fen=arrays[1],
                 refunded_fen=arrays[2], categories=[categories[s][0] for s in shop_ids] if has_category else None)


def refund_warnings(sales: Sales, *, start_day: int = 91, cooldown: int = 90) -> list[EarlyWarning]:
    """The refund-share rule evaluated every night (from `start_day`), quiet for `cooldown` days after firing."""
    f = refund_shares(sales.orders, sales.revenue_fen, sales.refunded_fen)
    hit, score = refund_rule(f)
    warnings = []
    for i, shop in enumerate(sales.shop_ids):
        quiet_until = -1
        for d in np.flatnonzero(hit[i]):
            if d < start_day or d <= quiet_until:
                continue
            warnings.append(refund_warning(shop, sales.start + dt.timedelta(days=int(d)), f, i, int(d),
                                           float(score[i, d])))
            quiet_until = d + cooldown
    return warnings


def run_backtest(sales: Sales, scanner: SalesScanner | None = None) -> list[EarlyWarning]:
    """Every warning a nightly run over `sales` would have raised, by date then shop then signal."""
    scanner = scanner or SalesScanner()
    warnings = scanner.scan(sales.orders, sales.start, sales.shop_ids, sales.categories)
    warnings += refund_warnings(sales, start_day=scanner.warmup, cooldown=scanner.cooldown)
    warnings.sort(key=lambda w: (w.flagged_on, w.shop_id, w.signal))
    return warnings


def write_flags(warnings: list[EarlyWarning], out: str | os.PathLike) -> None:
    """Write the warnings CSV all at once (a temporary file renamed into place: never half a file)."""
    out = Path(out)
    fd, tmp = tempfile.mkstemp(prefix=".flags-", suffix=".csv", dir=out.parent if str(out.parent) else ".")
    try:
        with os.fdopen(fd, "w", newline="", encoding="utf-8") as f:
            writer = csv.writer(f)
            writer.writerow(FLAG_COLUMNS)
            for w in warnings:
                writer.writerow([w.shop_id, w.flagged_on.isoformat(), w.signal, f"{w.score:.2f}",
                                 json.dumps(w.evidence, ensure_ascii=False, sort_keys=True)])
        os.replace(tmp, out)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def backtest(sales_path: str | os.PathLike, out_path: str | os.PathLike, *, max_bytes: int = MAX_BYTES,
             scanner: SalesScanner | None = None) -> tuple[Sales, list[EarlyWarning]]:
    """Read `sales_path`, replay, write `out_path`. Raises SalesFileError (nothing written) on a bad file."""
    out = Path(out_path)
    if out.exists() and out.is_dir():
        raise SalesFileError(f"{out} is a directory")
    if out.parent and not out.parent.exists():
        raise SalesFileError(f"the folder {out.parent} does not exist")
    sales = read_sales(sales_path, max_bytes=max_bytes)
    warnings = run_backtest(sales, scanner)
    write_flags(warnings, out)
    return sales, warnings


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m signals.backtest", description=__doc__.split("\n")[0])
    parser.add_argument("sales")
    parser.add_argument("--out", required=True)
    args = parser.parse_args(argv)
    try:
        sales, warnings = backtest(args.sales, args.out)
    except SalesFileError as e:
        print(f"error: {args.sales}: {e}", file=sys.stderr)
        return 1
    print(f"{len(warnings)} warnings for {len(sales.shop_ids)} shops over {sales.n_days} days written to {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
