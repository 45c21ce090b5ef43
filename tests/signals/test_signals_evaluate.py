"""`python -m signals.evaluate` and its scoring rules."""
import json

import numpy as np

from signals import evaluate


def test_scoring_follows_the_issue():
    trouble = np.array([100, 100, 100, 100, -1, -1, 200])
    first = np.array([100, 142, 143, 99, -1, 50, -1])
    # hit at the start, hit at six weeks, a miss (too late), a false alarm (before the start),
    # a quiet healthy shop, a false alarm (healthy), a miss (never flagged)
    result = evaluate.score(first, trouble)
    assert (result["hits"], result["false_alarms"], result["misses"], result["troubled"]) == (2, 2, 3, 5)
    assert result["recall"] == 0.4 and result["precision"] == 0.5
    assert result["f1"] == round(2 * 0.4 * 0.5 / 0.9, 3)
    assert result["median_delay_days"] == 21.0


def test_naive_rule():
    counts = np.array([[4] * 60 + [1] * 30, [4] * 90])
    first = evaluate.naive_first(counts, start_day=0)
    # on day 69 the last 14 days hold 10 days at 1 and 4 at 4: 26 / 14 < half of 4
    assert first.tolist() == [69, -1]


def test_small_run_reports_every_method(capsys):
    assert evaluate.main(["--seed", "1", "--tune-seed", "2", "--shops", "60", "--days", "420", "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    methods = data["runs"][0]["methods"]
    assert set(methods) == {"scanner", "scanner (no category)", "naive", "oracle"}
    assert methods["oracle"]["f1"] >= methods["naive"]["f1"]
    assert methods["scanner"]["precision"] > methods["naive"]["precision"]
    assert set(data["mean_f1"]) == set(methods)
