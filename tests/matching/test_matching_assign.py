"""Global assignment: capacity is never exceeded and the total score is optimal."""
from collections import Counter

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from matching_cases import seafood_request, xiangshan_mentors
from scipy.optimize import linear_sum_assignment

from matching import Assignment, HelpRequest, Mentor, MentorMatcher
from matching.schema import DEFAULT_GROUPS as GROUPS
from matching.schema import DIFFICULTIES

INDUSTRY_POOL = ["tea", "agriculture", "seafood", "embroidery"]
REGION_POOL = ["象山县", "余姚市", "鄞州区", "杭州市"]
TEXT_POOL = ["", "茶叶网店运营", "海鲜直播带货", "刺绣产品设计", "杨梅种植技术"]


@st.composite
def mentors_strategy(draw):
    n = draw(st.integers(1, 7))
    mentors = []
    for i in range(n):
        capacity = draw(st.integers(0, 3))
        mentors.append(Mentor(
            id=i, group=draw(st.sampled_from(sorted(GROUPS))),
            industries=draw(st.lists(st.sampled_from(INDUSTRY_POOL), min_size=1, max_size=2,
                                     unique=True)),
            skills=draw(st.lists(st.sampled_from(sorted(DIFFICULTIES)), max_size=4, unique=True)),
            region=draw(st.sampled_from(REGION_POOL)), capacity=capacity,
            current_load=draw(st.integers(0, capacity)), active=draw(st.booleans()),
            bio=draw(st.sampled_from(TEXT_POOL))))
    return mentors


@st.composite
def requests_strategy(draw):
    n = draw(st.integers(0, 12))
    return [HelpRequest(
        id=f"r{i}", industry=draw(st.sampled_from(INDUSTRY_POOL)),
        difficulties=draw(st.lists(st.sampled_from(sorted(DIFFICULTIES)), max_size=3,
                                   unique=True)),
        region=draw(st.sampled_from(REGION_POOL)),
        description=draw(st.sampled_from(TEXT_POOL))) for i in range(n)]


def best_total(matcher: MentorMatcher, mentors, requests, min_score) -> float:
    """The optimum by brute force: a dense assignment over every slot of every mentor."""
    slots = [m.id for m in mentors if m.active for _ in range(m.capacity - m.current_load)]
    if not requests or not slots:
        return 0.0
    gain = np.zeros((len(requests), len(slots) + len(requests)))  # extra columns = unassigned
    for i, request in enumerate(requests):
        scores = {mid: matcher.explain(request, mid).score for mid in set(slots)}
        for j, mid in enumerate(slots):
            gain[i, j] = scores[mid] if scores[mid] >= min_score else -1e9
    rows, cols = linear_sum_assignment(gain, maximize=True)
    return float(sum(max(gain[r, c], 0.0) for r, c in zip(rows, cols, strict=True)))


@settings(max_examples=50, deadline=None)
@given(mentors=mentors_strategy(), requests=requests_strategy(),
       min_score=st.sampled_from([0.0, 0.2, 0.4]))
def test_assignment_respects_capacity_and_is_optimal(mentors, requests, min_score):
    matcher = MentorMatcher(min_score=min_score, candidates=10).fit(mentors)
    result = matcher.assign(requests)

    by_id = {m.id: m for m in mentors}
    load = Counter(mid for _, mid, _ in result.pairs)
    for mid, added in load.items():
        assert by_id[mid].active
        assert by_id[mid].current_load + added <= by_id[mid].capacity
    assigned = [rid for rid, _, _ in result.pairs]
    assert len(assigned) == len(set(assigned))
    assert sorted(assigned + result.unassigned) == sorted(r.id for r in requests)
    assert all(score >= min_score - 1e-9 for _, _, score in result.pairs)
    by_request = {r.id: r for r in requests}
    for rid, mid, score in result.pairs:
        assert score == pytest.approx(matcher.explain(by_request[rid], mid).score, abs=1e-5)
    total = sum(score for _, _, score in result.pairs)
    assert total == pytest.approx(best_total(matcher, mentors, requests, min_score), abs=1e-4)


def test_scarce_capacity_goes_where_it_adds_most():
    mentors = [Mentor("streamer", "entrepreneur", ["seafood"], ["live_streaming"], "象山县", 1),
               Mentor("baker", "entrepreneur", ["food"], ["live_streaming"], "象山县", 1)]
    seafood = HelpRequest("seafood", "seafood", ["live_streaming"], "象山县")
    food = HelpRequest("food", "food", ["live_streaming"], "象山县")
    # Greedy in input order would give the streamer to whoever comes first; both orders
    # must end with each request at the mentor of its own industry.
    for order in ([seafood, food], [food, seafood]):
        result = MentorMatcher().fit(mentors).assign(order)
        assert result.mentor_for("seafood") == "streamer"
        assert result.mentor_for("food") == "baker"


def test_pairs_below_min_score_stay_unassigned():
    result = MentorMatcher(min_score=0.95).fit(xiangshan_mentors()).assign([seafood_request()])
    assert result == Assignment(pairs=[], unassigned=["req-1"])
    result = MentorMatcher(min_score=0.5).fit(xiangshan_mentors()).assign([seafood_request()])
    assert [m for _, m, _ in result.pairs] == ["xs-seafood"]


def test_more_requests_than_capacity_leaves_the_rest_unassigned():
    mentors = [Mentor("only", "entrepreneur", ["seafood"], ["live_streaming"], "象山县", 3,
                      current_load=1)]
    requests = [seafood_request(id=f"r{i}") for i in range(5)]
    result = MentorMatcher().fit(mentors).assign(requests)
    assert len(result.pairs) == 2 and len(result.unassigned) == 3
    assert result.unassigned == [r.id for r in requests if result.mentor_for(r.id) is None]


def test_assign_does_not_change_loads():
    matcher = MentorMatcher().fit(xiangshan_mentors())
    matcher.assign([seafood_request(id=f"r{i}") for i in range(3)])
    assert matcher.rank(seafood_request(), k=1)[0].mentor_id == "xs-seafood"


def test_assign_rejects_duplicates_and_bad_requests():
    matcher = MentorMatcher().fit(xiangshan_mentors())
    with pytest.raises(ValueError, match="duplicate"):
        matcher.assign([seafood_request(), seafood_request()])
    bad = seafood_request()
    bad.difficulties = ("cooking",)
    with pytest.raises(ValueError, match=r"requests\[0\].*difficulty"):
        matcher.assign([bad])
    assert matcher.assign([]) == Assignment(pairs=[], unassigned=[])


def test_assignment_is_deterministic():
    from matching.synthetic import benchmark
    mentors, requests, _ = benchmark(300, 400, seed=11)
    assert MentorMatcher().fit(mentors).assign(requests) == \
        MentorMatcher().fit(mentors).assign(requests)
