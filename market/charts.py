"""Charts as server-side SVG: data in, markup out. The one chart module (supply chain and
outreach reuse it).

Why SVG drawn here: nothing is fetched (no CDN, no script), the Content-Security-Policy stays
strict (no `style` attributes: colours are SVG presentation attributes and CSS classes in
static/css/app.css), the browser tests see real elements, screen readers get a title and a
table of the figures, and `viewBox` with `width: 100%` (CSS `svg.chart-svg`) lets a chart
shrink to a phone's width while its text stays legible (charts are 640 units wide at most,
with 13-unit text).

    bar_chart([("Finance", 4), ...], title=...)          horizontal bars with values
    column_chart([("2026-01", 3, 2), ...], series=[...])  grouped columns per period
    line_chart(labels, [Series(...)], band=(low, high), marker=index, title=...)

Every function returns `markupsafe.Markup`; labels are escaped here.
"""
from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from markupsafe import Markup, escape

PALETTE = ("#c2185b", "#1565c0", "#2e7d32", "#ef6c00", "#6a1b9a", "#00838f")
BAND = "#f8bbd0"
TEXT = 13


@dataclass(frozen=True)
class Series:
    name: str
    values: Sequence[float | None]
    colour: str = PALETTE[0]
    dashed: bool = False


def _num(x: float) -> str:
    return f"{x:.1f}".rstrip("0").rstrip(".")


def _figure(css_id: str, title: str, svg: str, table: str, height: float, width: float) -> Markup:
    return Markup(
        f'<figure class="chart" id="{escape(css_id)}"><figcaption>{escape(title)}</figcaption>'
        f'<svg role="img" aria-label="{escape(title)}" viewBox="0 0 {_num(width)} {_num(height)}" '
        f'width="{_num(width)}" height="{_num(height)}" class="chart-svg" xmlns="http://www.w3.org/2000/svg">'
        f'<title>{escape(title)}</title>{svg}</svg>'
        f'<details class="chart-data"><summary>{escape(_data_label())}</summary>{table}</details></figure>')


def _data_label() -> str:
    try:
        from flask_babel import gettext as _

        return _("The figures")
    except Exception:  # outside a request (tests of the module alone)
        return "The figures"


def _table(header: Sequence[str], rows: Sequence[Sequence]) -> str:
    head = "".join(f"<th>{escape(h)}</th>" for h in header)
    body = "".join("<tr>" + "".join(f"<td>{escape(_cell(v))}</td>" for v in row) + "</tr>" for row in rows)
    return f'<table class="chart-table"><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>'


def _cell(v) -> str:
    if v is None:
        return "—"
    if isinstance(v, float):
        return _num(v)
    return str(v)


def nice_max(value: float) -> float:
    """A round axis maximum at or above `value` (1, 2, 2.5, 5 x 10^k)."""
    if value <= 0:
        return 1.0
    power = 10 ** math.floor(math.log10(value))
    for step in (1, 2, 2.5, 5, 10):
        if value <= step * power:
            return step * power
    return 10 * power


def bar_chart(rows: Sequence[tuple[str, float]], *, title: str, css_id: str = "chart", unit: str = "",
              fmt: Callable[[float], str] | None = None) -> Markup:
    """Horizontal bars, one per (label, value), longest first as given; values printed at the end
    (through `fmt` when given, e.g. fen shown as yuan, in the bars and the table)."""
    show = fmt or _cell
    row_h, label_w, bar_w, width = 28, 170, 360, 640
    top = max([v for _, v in rows] + [0])
    scale = bar_w / (top if top > 0 else 1)
    parts = []
    for k, (label, value) in enumerate(rows):
        y = k * row_h
        w = max(value, 0) * scale
        parts.append(
            f'<g class="bar" data-label="{escape(label)}" data-value="{escape(_cell(value))}">'
            f'<text x="{label_w - 8}" y="{y + 18}" text-anchor="end" font-size="{TEXT}">{escape(_short(label, 14))}</text>'
            f'<rect x="{label_w}" y="{y + 5}" width="{_num(w)}" height="{row_h - 10}" rx="3" fill="{PALETTE[0]}"></rect>'
            f'<text x="{_num(label_w + w + 6)}" y="{y + 18}" font-size="{TEXT}">{escape(show(value))}{escape(unit)}</text></g>')
    height = max(len(rows), 1) * row_h + 4
    if not rows:
        parts.append(f'<text x="10" y="20" font-size="{TEXT}" class="chart-empty">{escape(_empty())}</text>')
    table_rows = rows if fmt is None else [(label, fmt(value)) for label, value in rows]
    return _figure(css_id, title, "".join(parts), _table(("", title), table_rows), height, width)


def column_chart(rows: Sequence[tuple], *, series: Sequence[str], title: str, css_id: str = "chart") -> Markup:
    """Grouped columns: rows of (period label, value of series 1, value of series 2, ...)."""
    width, height, left, bottom, top_pad = 640, 260, 40, 40, 24
    plot_w, plot_h = width - left - 10, height - bottom - top_pad
    top = nice_max(max([v or 0 for r in rows for v in r[1:]] + [0]))
    n = max(len(rows), 1)
    group_w = plot_w / n
    col_w = max(2.0, min(22.0, (group_w - 6) / max(len(series), 1)))
    parts = [_y_axis(left, top_pad, plot_w, plot_h, 0, top)]
    every = max(1, math.ceil(n / 8))     # at most 8 period labels: legible on a phone
    for k, row in enumerate(rows):
        x0 = left + k * group_w + (group_w - col_w * len(series)) / 2
        for j, v in enumerate(row[1:]):
            h = plot_h * (v or 0) / top
            parts.append(f'<rect class="column" data-label="{escape(row[0])}" data-series="{escape(series[j])}" '
                         f'data-value="{escape(_cell(v))}" x="{_num(x0 + j * col_w)}" y="{_num(top_pad + plot_h - h)}" '
                         f'width="{_num(col_w - 1)}" height="{_num(h)}" fill="{PALETTE[j % len(PALETTE)]}"></rect>')
        if k % every == 0:
            parts.append(f'<text x="{_num(left + k * group_w + group_w / 2)}" y="{height - bottom + 16}" '
                         f'text-anchor="middle" font-size="{TEXT - 1}">{escape(_short(str(row[0]), 10))}</text>')
    parts.append(_legend([(s, PALETTE[j % len(PALETTE)], False) for j, s in enumerate(series)], left, height - 8))
    return _figure(css_id, title, "".join(parts), _table(("", *series), rows), height, width)


def line_chart(labels: Sequence[str], series: Sequence[Series], *, title: str, css_id: str = "chart",
               band: tuple[Sequence[float], Sequence[float]] | None = None, band_label: str = "",
               marker: int | None = None, marker_label: str = "") -> Markup:
    """Lines over periods (`labels`), an optional shaded band (low, high per period: the expected
    range) and an optional vertical marker at period index `marker` (where it turned)."""
    width, height, left, bottom, top_pad = 640, 280, 40, 44, 24
    plot_w, plot_h = width - left - 10, height - bottom - top_pad
    values = [v for s in series for v in s.values if v is not None]
    if band:
        values += [v for v in band[1] if v is not None]
    top = nice_max(max(values + [0]))
    n = max(len(labels), 1)

    def x(k):
        return left + (plot_w * k / (n - 1) if n > 1 else plot_w / 2)

    def y(v):
        return top_pad + plot_h - plot_h * v / top

    parts = [_y_axis(left, top_pad, plot_w, plot_h, 0, top)]
    if band:
        low, high = band
        pts = [(x(k), y(h)) for k, h in enumerate(high) if h is not None]
        pts += [(x(k), y(lo)) for k, lo in reversed(list(enumerate(low))) if lo is not None]
        if pts:
            parts.append('<polygon class="band" fill="' + BAND + '" fill-opacity="0.6" points="'
                         + " ".join(f"{_num(a)},{_num(b)}" for a, b in pts) + '"></polygon>')
    if marker is not None and 0 <= marker < n:
        parts.append(f'<line class="marker" x1="{_num(x(marker))}" x2="{_num(x(marker))}" y1="{top_pad}" '
                     f'y2="{top_pad + plot_h}" stroke="#333" stroke-dasharray="4 3"></line>'
                     f'<text x="{_num(min(x(marker) + 4, width - 120))}" y="{top_pad - 6}" font-size="{TEXT}">'
                     f'{escape(marker_label)}</text>')
    for s in series:
        segments, current = [], []
        for k, v in enumerate(s.values):
            if v is None:
                if current:
                    segments.append(current)
                current = []
            else:
                current.append(f"{_num(x(k))},{_num(y(v))}")
        if current:
            segments.append(current)
        dash = ' stroke-dasharray="6 4"' if s.dashed else ""
        for seg in segments:
            parts.append(f'<polyline class="line" data-series="{escape(s.name)}" fill="none" stroke="{s.colour}" '
                         f'stroke-width="2.5"{dash} points="{" ".join(seg)}"></polyline>')
    every = max(1, math.ceil(n / 7))
    for k in range(0, len(labels), every):
        parts.append(f'<text x="{_num(x(k))}" y="{height - bottom + 16}" text-anchor="middle" '
                     f'font-size="{TEXT - 1}">{escape(_short(labels[k], 10))}</text>')
    legend = [(s.name, s.colour, s.dashed) for s in series]
    if band:
        legend.append((band_label, BAND, False))
    parts.append(_legend(legend, left, height - 8))
    header = ["", *(s.name for s in series)] + ([band_label + " ↓", band_label + " ↑"] if band else [])
    rows = [[labels[k], *(s.values[k] for s in series)] + ([band[0][k], band[1][k]] if band else [])
            for k in range(len(labels))]
    return _figure(css_id, title, "".join(parts), _table(header, rows), height, width)


def _y_axis(left, top_pad, plot_w, plot_h, low, high) -> str:
    parts = []
    for k in range(5):
        v = low + (high - low) * k / 4
        yy = top_pad + plot_h - plot_h * k / 4
        parts.append(f'<line class="grid" x1="{left}" x2="{left + plot_w}" y1="{_num(yy)}" y2="{_num(yy)}" '
                     f'stroke="#ddd"></line><text x="{left - 4}" y="{_num(yy + 4)}" text-anchor="end" '
                     f'font-size="{TEXT - 2}">{escape(_compact(v))}</text>')
    return "".join(parts)


def _legend(items, x0, y) -> str:
    parts, x = [], x0
    for name, colour, dashed in items:
        if not name:
            continue
        dash = ' stroke-dasharray="6 4"' if dashed else ""
        parts.append(f'<line x1="{x}" x2="{x + 18}" y1="{y - 4}" y2="{y - 4}" stroke="{colour}" stroke-width="6"{dash}>'
                     f'</line><text x="{x + 22}" y="{y}" font-size="{TEXT - 1}">{escape(_short(name, 16))}</text>')
        x += 34 + 8 * min(len(name), 16) + (8 if any(ord(c) > 0x2e80 for c in name) else 0) * min(len(name), 16) // 2
    return "".join(parts)


def _compact(v: float) -> str:
    if abs(v) >= 10000:
        return f"{v:,.0f}"
    return _num(v)


def _short(text: str, n: int) -> str:
    text = str(text)
    return text if len(text) <= n else text[: n - 1] + "…"


def _empty() -> str:
    try:
        from flask_babel import gettext as _

        return _("Nothing to show yet.")
    except Exception:
        return "Nothing to show yet."
