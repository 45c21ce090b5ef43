"""The text-to-needs threshold is chosen by cross-validation on the phrase bank (never the
evaluation set), and the shipped default is that choice."""
from __future__ import annotations

import random

from matching import operating_point
from matching.text import NEEDS_THRESHOLD, NeedsTagger


def test_choose_prefers_recall_among_thresholds_meeting_the_precision():
    curve = [{"threshold": 0.3, "precision": 0.70, "recall": 0.90},
             {"threshold": 0.5, "precision": 0.81, "recall": 0.80},
             {"threshold": 0.7, "precision": 0.85, "recall": 0.70}]
    assert operating_point.choose(curve)["threshold"] == 0.5
    # none reaches the precision: the best F1 (0.5: 2*0.61*0.80/1.41 = 0.692 beats 0.643, 0.674)
    low = [{**c, "precision": round(c["precision"] - 0.2, 2)} for c in curve]
    assert operating_point.choose(low)["threshold"] == 0.5
    assert "F1" in operating_point.choose(low)["rule"]


def test_dev_requests_have_one_or_two_true_needs_from_the_held_out_phrases():
    held = {"a": ["直播没人看"], "b": ["账目很乱"], "c": ["不会拍照"], "d": ["进货太贵"]}
    requests = operating_point.dev_requests(held, random.Random(0))
    assert len(requests) == 5
    assert all(len(true) == 2 and "，" in text for text, true in requests[4:])


def test_the_shipped_threshold_is_the_cross_validated_choice():
    result = operating_point.cross_validate(folds=5, seed=0)
    chosen = operating_point.choose(result["curve"])
    assert chosen["threshold"] == NEEDS_THRESHOLD
    assert NeedsTagger().threshold == NEEDS_THRESHOLD
