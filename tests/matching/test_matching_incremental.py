"""add_mentor / update_mentor / deactivate / set_load without refitting."""
import pytest
from matching_cases import seafood_request, xiangshan_mentors

from matching import HelpRequest, Mentor, MentorMatcher
from matching.synthetic import benchmark

STRUCTURE_ONLY = dict(text_weight=0.0)


def new_streamer(**changes):
    fields = dict(id="xs-new", group="entrepreneur", industries=["seafood"],
                  skills=["live_streaming", "e_commerce"], region="象山县", capacity=2,
                  bio="象山海鲜直播带货达人，教姐妹们做网店运营。")
    fields.update(changes)
    return Mentor(**fields)


def ids(matches):
    return [m.mentor_id for m in matches]


def test_added_mentor_can_be_returned_and_uses_the_fitted_vocabulary():
    matcher = MentorMatcher().fit(xiangshan_mentors())
    vocabulary = dict(matcher.vectorizer_.vocabulary_)
    matcher.add_mentor(new_streamer())
    ranked = matcher.rank(seafood_request(), k=3)
    assert "xs-new" in ids(ranked[:2])
    assert ranked[ids(ranked).index("xs-new")].components["text"] > 0
    assert matcher.vectorizer_.vocabulary_ == vocabulary


def test_deactivated_mentor_is_never_returned():
    matcher = MentorMatcher().fit(xiangshan_mentors())
    matcher.deactivate("xs-seafood")
    assert "xs-seafood" not in ids(matcher.rank(seafood_request(), k=10))
    assert "xs-seafood" not in {m for _, m, _ in matcher.assign([seafood_request()]).pairs}
    # Still explainable, for staff looking at history.
    assert matcher.explain(seafood_request(), "xs-seafood").components["skill"] == 1.0


def test_incremental_changes_match_a_full_refit():
    mentors, requests, _ = benchmark(200, 30, seed=5)
    first, later = mentors[:150], mentors[150:]
    incremental = MentorMatcher(**STRUCTURE_ONLY).fit(first)
    for mentor in later:
        incremental.add_mentor(mentor)
    incremental.deactivate(mentors[3].id)
    incremental.set_load(mentors[160].id, mentors[160].capacity)

    changed = [m for m in mentors]
    changed[3] = Mentor(**{**vars(mentors[3]), "active": False})
    changed[160] = Mentor(**{**vars(mentors[160]), "current_load": mentors[160].capacity})
    refit = MentorMatcher(**STRUCTURE_ONLY).fit(changed)
    def without_text(matches):
        # The text component is unweighted here, and its IDF differs after a refit.
        return [(m.mentor_id, m.score, m.reasons) for m in matches]

    for request in requests:
        assert without_text(incremental.rank(request, k=10)) == \
            without_text(refit.rank(request, k=10))
    assert incremental.assign(requests) == refit.assign(requests)


def test_added_mentor_text_matches_a_refit_on_the_same_vocabulary():
    mentors = xiangshan_mentors()
    incremental = MentorMatcher().fit(mentors[:-1])
    incremental.add_mentor(mentors[-1])
    refit = MentorMatcher().fit(mentors)
    request = seafood_request(description="海产品冷链物流太慢，想做外贸出口")
    # The refit learns a slightly different IDF; the order of the top mentors agrees.
    assert ids(incremental.rank(request, k=3)) == ids(refit.rank(request, k=3))


def test_update_mentor_changes_her_features():
    matcher = MentorMatcher().fit(xiangshan_mentors())
    before = matcher.explain(seafood_request(), "yz-finance")
    matcher.update_mentor(Mentor("yz-finance", "entrepreneur", ["seafood"],
                                 ["live_streaming"], "象山县", 2, bio="象山海鲜直播"))
    after = matcher.explain(seafood_request(), "yz-finance")
    assert after.score > before.score
    assert after.components["region"] == 1.0 and after.components["industry"] == 1.0
    assert matcher.rank(seafood_request(), k=2)[1].mentor_id == "yz-finance"


def test_update_can_reactivate():
    matcher = MentorMatcher().fit(xiangshan_mentors())
    matcher.deactivate("xs-seafood")
    matcher.update_mentor(xiangshan_mentors()[0])
    assert matcher.rank(seafood_request(), k=1)[0].mentor_id == "xs-seafood"


def test_set_load_at_capacity_hides_and_below_capacity_shows():
    matcher = MentorMatcher().fit(xiangshan_mentors())
    matcher.set_load("xs-seafood", 3)
    assert "xs-seafood" not in ids(matcher.rank(seafood_request(), k=10))
    matcher.set_load("xs-seafood", 2)
    assert matcher.rank(seafood_request(), k=1)[0].mentor_id == "xs-seafood"


@pytest.mark.parametrize("load", [-1, 4])
def test_set_load_outside_zero_to_capacity_is_rejected(load):
    matcher = MentorMatcher().fit(xiangshan_mentors())
    with pytest.raises(ValueError, match="load"):
        matcher.set_load("xs-seafood", load)
    assert matcher.rank(seafood_request(), k=1)[0].mentor_id == "xs-seafood"


def test_unknown_or_duplicate_ids_are_rejected():
    matcher = MentorMatcher().fit(xiangshan_mentors())
    with pytest.raises(ValueError, match="mentor_id"):
        matcher.deactivate("nobody")
    with pytest.raises(ValueError, match="mentor_id"):
        matcher.update_mentor(new_streamer(id="nobody"))
    with pytest.raises(ValueError, match="duplicate"):
        matcher.add_mentor(xiangshan_mentors()[0])


def test_region_first_seen_on_an_added_mentor_matches_requests_from_there():
    matcher = MentorMatcher().fit(xiangshan_mentors())
    matcher.add_mentor(new_streamer(id="hz", region="杭州市"))
    request = HelpRequest("r", "seafood", ["live_streaming"], "杭州市")
    assert matcher.explain(request, "hz").components["region"] == 1.0
    assert matcher.explain(request, "xs-seafood").components["region"] == 0.0
