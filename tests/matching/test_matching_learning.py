"""Learning the weights from past outcomes."""
import numpy as np
import pytest
from matching_cases import seafood_request, xiangshan_mentors

from matching import MentorMatcher, Outcome, synthetic
from matching.evaluate import outcome_metrics


@pytest.fixture(scope="module")
def outcomes_split():
    rng = np.random.default_rng(42)
    mentors = synthetic.generate_mentors(400, rng)
    requests, profiles = synthetic.generate_requests(mentors, 500, rng)
    outcomes = synthetic.generate_outcomes(mentors, requests, profiles, rng)
    held_out = {r.id for r in requests[350:]}
    train = [o for o in outcomes if o.request.id not in held_out]
    test = [o for o in outcomes if o.request.id in held_out]
    return mentors, train, test


def test_learned_weights_beat_defaults_on_held_out_outcomes(outcomes_split):
    mentors, train, test = outcomes_split
    default = MentorMatcher().fit(mentors)
    learned = MentorMatcher(random_state=0).fit(mentors, outcomes=train)
    assert learned.weight_source_ == "outcomes"
    assert default.weight_source_ == "params"
    before, after = outcome_metrics(default, test), outcome_metrics(learned, test)
    assert after["auc"] > before["auc"] + 0.01
    assert after["ndcg"] > before["ndcg"]
    # The hidden outcome model values the district most; the learned weights find that.
    weights = dict(zip(["text", "skill", "industry", "region", "group"], learned.weights_, strict=True))
    assert weights["region"] == max(weights.values())
    assert learned.weights_.sum() == pytest.approx(1.0)
    assert (learned.weights_ >= 0).all()


def test_fit_weights_on_a_fitted_matcher_equals_fit_with_outcomes(outcomes_split):
    mentors, train, _ = outcomes_split
    together = MentorMatcher(random_state=0).fit(mentors, outcomes=train)
    separate = MentorMatcher(random_state=0).fit(mentors).fit_weights(train)
    np.testing.assert_allclose(together.weights_, separate.weights_)


def test_outcomes_with_one_class_keep_the_default_weights():
    mentors = xiangshan_mentors()
    only_good = [Outcome(seafood_request(), "xs-seafood", accepted=True)] * 3
    with pytest.warns(RuntimeWarning, match="both successes and failures"):
        matcher = MentorMatcher().fit(mentors, outcomes=only_good)
    assert matcher.weight_source_ == "params"
    np.testing.assert_allclose(matcher.weights_, MentorMatcher().fit(mentors).weights_)


def test_outcomes_of_mentors_no_longer_indexed_are_skipped(outcomes_split):
    mentors, train, test = outcomes_split
    departed = {m.id for m in mentors[:50]}
    # The app refits on today's mentors, while history still names those who left.
    matcher = MentorMatcher(random_state=0).fit(mentors[50:], outcomes=train)
    assert matcher.outcomes_skipped_ == sum(o.mentor_id in departed for o in train)
    assert matcher.outcomes_skipped_ > 0
    assert matcher.weight_source_ == "outcomes"


def test_outcome_with_a_bad_request_is_rejected():
    bad = seafood_request()
    bad.difficulties = ("dancing",)
    outcomes = [Outcome(bad, "xs-seafood", accepted=True),
                Outcome(seafood_request(), "yz-finance", accepted=False)]
    with pytest.raises(ValueError, match=r"outcomes\[0\].*difficulty"):
        MentorMatcher().fit(xiangshan_mentors(), outcomes=outcomes)


def test_empty_outcomes_are_rejected():
    with pytest.raises(ValueError, match="outcomes"):
        MentorMatcher().fit(xiangshan_mentors(), outcomes=[])
