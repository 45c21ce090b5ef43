"""The mutual-aid matcher: ranks mentors for a help request, explains each match and
respects mentors' capacity. A pure library (NumPy, SciPy, scikit-learn); no Flask.

Typical use::

    from matching import Mentor, HelpRequest, MentorMatcher

    matcher = MentorMatcher().fit(mentors)            # list[Mentor]; ValueError if empty
    matches = matcher.rank(request, k=5)              # list[Match], best first
    for m in matches:
        m.mentor_id, m.score, m.components            # components: {"text", "skill",
        [r.text("zh") for r in m.reasons]             #   "industry", "region", "group"}
    matcher.explain(request, mentor_id)               # the Match of any one mentor
    result = matcher.assign(requests)                 # Assignment(pairs, unassigned)
    result.pairs                                      # [(request_id, mentor_id, score)]
    result.unassigned                                 # [request_id, ...]

    matcher.add_mentor(mentor); matcher.update_mentor(mentor)
    matcher.deactivate(mentor_id); matcher.set_load(mentor_id, load)

    MentorMatcher().fit(mentors, outcomes=past)       # learn weights from list[Outcome]
    matcher.fit_weights(past)                         # the same, on a fitted matcher
    matcher.weight_source_                            # "outcomes" or "params"
    matcher.score_pairs(requests, mentor_ids)         # scores of given pairs (evaluation)

Outcomes of mentors not in the fitted set are skipped (`outcomes_skipped_`); outcomes that
cannot be learned from (one class only) keep the default weights with a RuntimeWarning.

Shapes:

- ``Mentor(id, group, industries, skills, region, capacity, bio="", current_load=0,
  active=True)``; ``HelpRequest(id, industry, difficulties, region, description="",
  stage="startup")``; ``Outcome(request, mentor_id, accepted, resolved=None,
  satisfaction=None)``. Codes come from the vocabularies in `matching.schema`
  (``DIFFICULTIES``/``SKILLS``, ``INDUSTRIES``, ``BUSINESS_STAGES``; each maps code ->
  (zh, en)). Mentor groups and the city's regions are data the caller passes:
  ``MentorMatcher(groups={code: {difficulty: affinity}}, regions=[district, ...],
  default_affinity=0.3)``; the defaults are the federation's three teams
  (``DEFAULT_GROUPS``, ``DEFAULT_GROUP_AFFINITY``) and Ningbo's districts
  (``DEFAULT_REGIONS``). ``Reason.text(lang, groups=labels, regions=labels)`` names them.
  Bad input raises ValueError naming the field; a region outside the given ones is
  accepted and scored as "elsewhere"; a mentor of an unknown group is refused.
- ``Match(mentor_id, score, reasons, components)``; ``score`` is the weighted sum of the
  components (each 0..1; weights sum to 1 by default).
- ``Reason(code, params)`` with ``text(lang="zh"|"en")`` and ``to_dict()``; codes:
  shared_skills, same_industry, related_industry, same_district, same_city, group_fit,
  similar_words (see `Reason`). Reasons are ordered by how much they added to the score.
- ``Assignment(pairs, unassigned)``: ``assign`` proposes; it does not change loads.

`python -m matching.evaluate` measures quality on a synthetic benchmark with known answers;
`python -m matching.bench` measures speed and memory.

`matching.engine` is what this matcher and the supply-chain matcher (`matching.supply`) share:
the text and category transformers, distance tiers, the reason rule and the constraint helpers.
`python -m matching.operating_point` chooses the text-to-needs threshold by cross-validation
on the phrase bank (`matching.text.NEEDS_THRESHOLD`).

`matching.meetings` (not imported here) schedules matchmaking-day meetings into (slot, table):
`schedule(...)` or `python -m matching.meetings INPUT.json --out OUTPUT.json`; see its docstring.
"""
from .model import MentorMatcher
from .schema import Assignment, HelpRequest, Match, Mentor, Outcome, Reason

__all__ = ["Assignment", "HelpRequest", "Match", "Mentor", "MentorMatcher", "Outcome",
           "Reason"]
