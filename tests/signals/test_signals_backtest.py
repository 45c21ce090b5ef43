"""`flask --app market early-warning backtest SALES.csv --out FLAGS.csv` on small hand-written
files: the warnings row by row, and a clear error naming the line (nothing written) for bad files."""
import csv
import datetime as dt
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from market import create_app
from signals import SalesScanner
from signals.backtest import MAX_BYTES, SalesFileError, read_sales
from tests.support import app_config

ROOT = Path(__file__).resolve().parents[2]
HEADER = "shop_id,date,orders,revenue_fen,refunded_fen"
START = dt.date(2025, 6, 2)


def small_sales() -> str:
    """200 days of three shops: A sells 6 a day, then 2 from day 140 (2025-10-20); B sells 6 a
    day but closes for a week (no rows on days 120-126); C sells 3 a day and refunds one order
    in three from day 150 (2025-10-30)."""
    lines = [HEADER]
    for k in range(200):
        day = (START + dt.timedelta(days=k)).isoformat()
        a = 6 if k < 140 else 2
        lines.append(f"A,{day},{a},{a * 3000},0")
        if not 120 <= k < 127:
            lines.append(f"B,{day},6,18000,0")
        lines.append(f"C,{day},3,6000,{2000 if k >= 150 else 0}")
    return "\n".join(lines) + "\n"


@pytest.fixture
def cli(tmp_path):
    """The app's CLI runner on an app whose database is never created."""
    app = create_app(app_config(f"sqlite:///{tmp_path / 'never-created.db'}", tmp_path / "uploads"))

    def invoke(*args):
        return app.test_cli_runner().invoke(args=["early-warning", "backtest", *map(str, args)])
    yield invoke
    assert not (tmp_path / "never-created.db").exists()


def test_backtest_writes_one_row_per_warning(cli, tmp_path):
    sales, out = tmp_path / "sales.csv", tmp_path / "flags.csv"
    sales.write_text(small_sales())
    result = cli(sales, "--out", out)
    assert result.exit_code == 0, result.output
    assert "2 warnings for 3 shops over 200 days" in result.output
    rows = list(csv.reader(out.open()))
    assert rows[0] == ["shop_id", "flagged_on", "signal", "score", "evidence"]
    assert [r[:3] for r in rows[1:]] == [
        # 8 days of refunds: a tenth of the last four weeks' revenue, against none before
        ["C", "2025-11-07", "refund_share"],
        # 21 days after the fall began (a fall must last three weeks before it is believed)
        ["A", "2025-11-09", "sales_drop"],
    ]
    c, a = (json.loads(r[4]) for r in rows[1:])
    assert c == {"orders_28d": 84, "refund_share_28d": 0.107, "refund_share_before": 0.0,
                 "refunded_28d_fen": 18000, "revenue_28d_fen": 168000}
    assert float(rows[1][3]) == 3.57       # 10.7 % against the 3 % floor
    assert a["change_point"] == "2025-10-20" and a["expected_28d"] == 168.0 and a["orders_28d"] == 7 * 6 + 21 * 2
    assert a["fall"] == 0.667 and a["band_28d"][0] <= 168 <= a["band_28d"][1]
    assert float(rows[2][3]) >= SalesScanner().threshold        # past the threshold


def test_backtest_replays_without_look_ahead(cli, tmp_path):
    """Cut the file the day A is flagged: the same warnings, the same days, the same evidence."""
    text = small_sales()
    cut = "\n".join(line for line in text.splitlines() if line == HEADER or line.split(",")[1] <= "2025-11-09")
    (tmp_path / "cut.csv").write_text(cut + "\n")
    assert cli(tmp_path / "cut.csv", "--out", tmp_path / "f.csv").exit_code == 0
    rows = list(csv.reader((tmp_path / "f.csv").open()))
    assert [r[:3] for r in rows[1:]] == [["C", "2025-11-07", "refund_share"], ["A", "2025-11-09", "sales_drop"]]
    (tmp_path / "all.csv").write_text(text)
    cli(tmp_path / "all.csv", "--out", tmp_path / "g.csv")
    assert list(csv.reader((tmp_path / "g.csv").open())) == rows


def test_exact_command_line_needs_no_database(tmp_path):
    (tmp_path / "SALES.csv").write_text(small_sales())
    env = {**os.environ, "DATA_DIR": str(tmp_path / "data"), "PYTHONPATH": str(ROOT)}
    env.pop("DATABASE_URL", None)
    flask = [sys.executable, "-m", "flask"]
    done = subprocess.run([*flask, "--app", "market", "early-warning", "backtest", "SALES.csv", "--out", "FLAGS.csv"],
                          cwd=tmp_path, env=env, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert (tmp_path / "FLAGS.csv").read_text().splitlines()[0] == "shop_id,flagged_on,signal,score,evidence"
    assert not (tmp_path / "data" / "market.db").exists()
    (tmp_path / "BAD.csv").write_text(HEADER + "\nA,2025-13-01,1,100,0\n")
    done = subprocess.run([*flask, "--app", "market", "early-warning", "backtest", "BAD.csv", "--out", "X.csv"],
                          cwd=tmp_path, env=env, capture_output=True, text=True, timeout=120)
    assert done.returncode != 0
    assert "line 2" in done.stderr and "2025-13-01" in done.stderr
    assert not (tmp_path / "X.csv").exists()


BAD = [
    ("shop_id,date,orders,revenue_fen\nA,2025-01-01,1,100\n", 1, "missing column(s) refunded_fen"),
    ("", 1, "the file is empty"),
    (HEADER + "\n", 1, "no rows"),
    (HEADER + "\nA,2025-01-01,1,100,0\nA,2025/01/02,1,100,0\n", 3, "'2025/01/02' is not an ISO date"),
    (HEADER + "\nA,2025-02-30,1,100,0\n", 2, "'2025-02-30' is not an ISO date"),
    (HEADER + "\nA,20250101,1,100,0\n", 2, "'20250101' is not an ISO date"),
    (HEADER + "\nA,2025-01-01,1,100,0\nA,2025-01-02,-3,100,0\n", 3, "orders is negative (-3)"),
    (HEADER + "\nA,2025-01-01,1,100,-50\n", 2, "refunded_fen is negative (-50)"),
    (HEADER + "\nA,2025-01-01,1.5,100,0\n", 2, "orders '1.5' is not a whole number"),
    (HEADER + "\nA,2025-01-01,1,,0\n", 2, "revenue_fen '' is not a whole number"),
    (HEADER + "\nA,2025-01-01,1,100\n", 2, "expected 5 fields, found 4"),
    (HEADER + "\n,2025-01-01,1,100,0\n", 2, "shop_id is empty"),
    (HEADER + "\nA,2025-01-01,1,100,0\nB,2025-01-01,1,100,0\nA,2025-01-01,2,200,0\n", 4,
     "shop A has a second row for 2025-01-01 (the first is line 2)"),
    (HEADER + ",category\nA,2025-01-01,1,100,0,food\nA,2025-01-02,1,100,0,craft\n", 3,
     "shop A is in category 'craft' here but 'food' on line 2"),
    (HEADER + "\nA,2020-01-01,1,100,0\nA,2025-01-01,1,100,0\n", 3, "more than"),
]


@pytest.mark.parametrize(("text", "line", "message"), BAD, ids=[m for _, _, m in BAD])
def test_bad_files_name_the_line(text, line, message, tmp_path):
    path = tmp_path / "sales.csv"
    path.write_text(text)
    with pytest.raises(SalesFileError) as caught:
        read_sales(path)
    assert caught.value.line == line
    assert message in str(caught.value)
    assert str(caught.value).startswith(f"line {line}: ")


def test_bad_file_through_the_command_writes_nothing(cli, tmp_path):
    path, out = tmp_path / "sales.csv", tmp_path / "flags.csv"
    out.write_text("earlier results\n")
    path.write_text(small_sales() + "Z,2025-07-01,3,-1,0\n")
    result = cli(path, "--out", out)
    assert result.exit_code != 0
    assert f"line {small_sales().count(chr(10)) + 1}: revenue_fen is negative (-1)" in result.output
    assert out.read_text() == "earlier results\n"        # untouched, not half-written
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".flags-")] == []


def test_a_50_mb_file_is_refused_before_reading(cli, tmp_path):
    path = tmp_path / "big.csv"
    with path.open("wb") as f:
        f.write((HEADER + "\n").encode())
        f.truncate(50 * 2 ** 20)
    assert path.stat().st_size > MAX_BYTES
    result = cli(path, "--out", tmp_path / "flags.csv")
    assert result.exit_code != 0
    assert "big.csv is 50.0 MB; the limit is 32 MB" in result.output
    assert not (tmp_path / "flags.csv").exists()


def test_not_utf8_names_the_line(tmp_path):
    path = tmp_path / "sales.csv"
    path.write_bytes((HEADER + "\nA,2025-01-01,1,100,0\n").encode() + "店,2025-01-02,1,100,0\n".encode("gbk"))
    with pytest.raises(SalesFileError, match="line 3: the file is not UTF-8"):
        read_sales(path)


def test_category_column_and_absent_days(tmp_path):
    path = tmp_path / "sales.csv"
    path.write_text("date,shop_id,orders,revenue_fen,refunded_fen,category,note\n"
                    "2025-01-03,B,2,200,0,food,x\n2025-01-01,A,1,100,0,craft,\n")
    sales = read_sales(path)
    assert sales.shop_ids == ["A", "B"] and sales.categories == ["craft", "food"]
    assert sales.start == dt.date(2025, 1, 1) and sales.n_days == 3
    assert sales.orders.tolist() == [[1, 0, 0], [0, 0, 2]]
