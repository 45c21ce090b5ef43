"""Teams for the case desk: small complementary teams of mentors for an open case, and asking one."""
from __future__ import annotations

from flask_babel import lazy_gettext as _l

from market import audit
from market.extensions import db
from market.mentoring.matcher import get_matcher, to_request
from market.mentoring.services.assignment import new_introduction
from market.mentoring.services.common import (
    MentoringError,
    load_case,
    log,
)
from market.mentoring.services.loop import ask_named_mentor
from market.models import Case, MentorProfile, User


def team_suggestions(case: Case, k: int = 3) -> list[dict]:
    """Small complementary teams for an open case (staff see them on the case desk):
    [{"coverage", "members": [(MentorProfile, [difficulty codes])], "uncovered"}]."""
    matcher = get_matcher()
    if matcher is None:
        return []
    try:
        teams = matcher.rank_teams(to_request(case), k=k, max_size=3)
    except ValueError as exc:
        log.warning("case %s: no teams: %s", case.id, exc)
        return []
    out = []
    for team in teams:
        if len(team.members) < 2:
            continue  # a single mentor is already among the suggestions
        profiles = [db.session.get(MentorProfile, int(m.mentor_id)) for m in team.members]
        if any(p is None for p in profiles):
            continue
        out.append({"coverage": team.coverage, "uncovered": list(team.uncovered),
                    "members": [(p, list(m.covers)) for p, m in zip(profiles, team.members, strict=True)],
                    "mentor_ids": [p.id for p in profiles]})
    return out


def ask_team(staff: User, case_id: int, mentor_ids: list[int]):
    """The case desk asks a team: the first member is asked as the case's mentor now; the
    others are recorded as the team's planned second mentors (staff ask them to join, one at a
    time, once the first has accepted: one ask at a time keeps answers clear)."""
    if not mentor_ids or len(mentor_ids) != len(set(mentor_ids)) or len(mentor_ids) > 3:
        raise MentoringError(_l("Choose a team of up to three different mentors."))
    intro = ask_named_mentor(staff, case_id, mentor_ids[0])
    case = load_case(case_id)
    known = {i.mentor_id: i for i in case.introductions}
    matcher = get_matcher()
    for mentor_id in mentor_ids[1:]:
        mentor = db.session.get(MentorProfile, mentor_id)
        if mentor is None:
            continue
        if mentor_id in known:
            if known[mentor_id].status == "suggested":  # planned for the team, not the next lead
                known[mentor_id].role, known[mentor_id].source = "second", "staff"
            continue
        new_introduction(case, mentor, matcher, source="staff", role="second")
    audit.record(staff, "case.ask_team", case)
    db.session.commit()
    return intro
