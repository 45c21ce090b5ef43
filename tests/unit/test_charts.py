"""market.charts: data in, SVG out — escaped, no inline style (CSP), figures readable as a table."""
import re

from market import charts


def test_line_chart_with_band_and_marker():
    svg = str(charts.line_chart(["01-05", "01-12", "01-19"], [charts.Series("Orders", [10, 4, None])],
                                band=([8, 8, 8], [12, 12, 12]), band_label="Expected", marker=1,
                                marker_label="Turned", title="<Sales> & co", css_id="c1"))
    assert 'id="c1"' in svg and "&lt;Sales&gt; &amp; co" in svg and "<Sales>" not in svg
    assert svg.count("<polygon") == 1 and 'class="marker"' in svg
    assert len(re.findall(r"<polyline", svg)) == 1       # the missing last week breaks the line
    assert "style=" not in svg
    assert "<td>10</td>" in svg and "<td>—</td>" in svg    # the figures as a table too


def test_bar_and_column_charts_scale_to_their_values():
    bars = str(charts.bar_chart([("a", 4), ("b", 2)], title="t"))
    widths = [float(w) for w in re.findall(r'<rect x="170" y="\d+" width="([\d.]+)"', bars)]
    assert widths == [360.0, 180.0]
    cols = str(charts.column_chart([("2026-01", 3, 1), ("2026-02", 0, 2)], series=["Opened", "Solved"], title="t"))
    assert cols.count('class="column"') == 4 and 'data-value="3"' in cols
    empty = str(charts.bar_chart([], title="t"))
    assert "Nothing to show yet." in empty


def test_nice_max():
    assert [charts.nice_max(v) for v in (0, 3, 7, 12, 180, 2600)] == [1.0, 5, 10, 20, 200, 5000]
