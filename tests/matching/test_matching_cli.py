"""`python -m matching.evaluate` and `python -m matching.bench` on small sizes."""
import json

import pytest

from matching import bench, evaluate


@pytest.fixture(scope="module")
def report():
    return evaluate.run(seed=1, n_mentors=400, n_requests=200)


def test_matcher_beats_both_baselines(report):
    ranking = report["ranking"]
    for metric in ("recall@1", "recall@10", "ndcg@10", "relevant_share"):
        assert ranking["matcher"][metric] > ranking["jaccard"][metric] > ranking["random"][metric]
    assert ranking["matcher"]["recall@10"] > 0.5


def test_no_ranker_violates_capacity(report):
    for row in report["ranking"].values():
        assert row["capacity_violations"] == 0


def test_learned_weights_reported_better(report):
    learning = report["learning"]
    assert learning["learned"]["auc"] > learning["default"]["auc"]


def test_table_and_json_output(capsys):
    assert evaluate.main(["--mentors", "150", "--requests", "60", "--seed", "2"]) == 0
    table = capsys.readouterr().out
    for word in ("matcher", "random", "jaccard", "recall@1", "ndcg@10", "learned"):
        assert word in table
    evaluate.main(["--mentors", "150", "--requests", "60", "--seed", "2", "--json"])
    data = json.loads(capsys.readouterr().out)
    assert set(data["ranking"]) == {"matcher", "random", "jaccard"}
    assert data["params"] == {"seed": 2, "mentors": 150, "requests": 60}


def test_metrics_on_hand_made_rankings():
    import numpy as np
    grades = [np.array([0, 2, 1, 0])]
    perfect = evaluate.ranking_metrics([np.array([1, 2, 0, 3])], grades, k=2)
    assert perfect["recall@1"] == 1.0 and perfect["recall@2"] == 1.0 and perfect["ndcg@2"] == 1.0
    worst = evaluate.ranking_metrics([np.array([0, 3, 1, 2])], grades, k=2)
    assert worst["recall@1"] == 0.0 and worst["ndcg@2"] == 0.0
    assert evaluate.gini([1, 1, 1, 1]) == 0.0
    assert evaluate.gini([0, 0, 0, 4]) == pytest.approx(0.75)


def test_quick_bench_reports_every_target(capsys):
    # Whether the targets are met is for `make bench` on a quiet machine, not for the test suite.
    bench.main(["--quick", "--json"])
    data = json.loads(capsys.readouterr().out)
    assert data["targets"] and all(isinstance(t["pass"], bool) for t in data["targets"].values())
    assert data["assign"]["capacity_violations"] == 0
    assert data["rank"]["p95_ms"] > 0 and data["fit"]["traced_peak_mb"] > 0
