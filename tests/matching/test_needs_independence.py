"""The evaluation set stays outside the matcher (issue 18's hard rule): no phrasing of the
shipped bank, no development request and no held-out test request may resemble one of its
sentences. Char 2-3-gram TF-IDF cosine (the tagger's own n-grams) below 0.7 for every pair.

This reads the evaluation file only to compare; a failure names OUR line, never the eval's."""
from __future__ import annotations

from pathlib import Path

import pytest
from sklearn.metrics.pairwise import cosine_similarity

from matching.evaluate_text import DEFAULT_FILE, load
from matching.operating_point import development_requests, parse_requests
from matching.schema import DIFFICULTIES
from matching.text import char_vectorizer, default_phrases

MAX_COSINE = 0.7
HELD_OUT_FILE = Path(__file__).with_name("needs_heldout_zh.txt")


def our_lines() -> list[tuple[str, str]]:
    lines = [("needs_zh.txt", p) for items in default_phrases("needs_zh").values() for p in items]
    lines += [("needs_dev_zh.txt", t) for t, _ in development_requests()]
    held = parse_requests(HELD_OUT_FILE.read_text(encoding="utf-8"), DIFFICULTIES)
    lines += [("needs_heldout_zh.txt", t) for t, _ in held]
    return lines


def closest_to_eval(lines: list[str], eval_texts: list[str]):
    """Each line's highest cosine with any evaluation sentence."""
    vectorizer = char_vectorizer((2, 3)).fit(eval_texts + lines)
    return cosine_similarity(vectorizer.transform(lines), vectorizer.transform(eval_texts)).max(axis=1)


def test_the_check_catches_a_near_copy():
    eval_texts = ["家里的橙子今年卖不出去，堆在院子里", "想学做直播，但是对着手机不敢说话"]
    mine = ["家里的橙子今年卖不出去，都堆在院子里了", "账本记得一塌糊涂"]
    got = closest_to_eval(mine, eval_texts)
    assert got[0] >= MAX_COSINE > got[1]


@pytest.mark.skipif(not Path(DEFAULT_FILE).is_file(), reason="no evaluation file beside the project")
def test_no_phrasing_or_development_request_resembles_an_evaluation_sentence():
    eval_texts = [row["text"] for row in load(DEFAULT_FILE)]
    lines = our_lines()
    sims = closest_to_eval([t for _, t in lines], eval_texts)
    too_close = [f"{where}: {text} ({s:.2f})" for (where, text), s in zip(lines, sims, strict=True)
                 if s >= MAX_COSINE]
    assert not too_close, "reword these (too close to an evaluation sentence):\n" + "\n".join(too_close)
