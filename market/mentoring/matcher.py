"""The bridge between the database and the `matching` library: turning rows into the
library's dataclasses, and one fitted matcher per app server, refitted when mentors change.

The fitted matcher is a cache, never a source of truth: it is keyed by a fingerprint of the
mentor table (count, last change, total load), so every app server refits on its own when
any server changes a mentor, and capacity is enforced again in the database at accept time.
"""
from __future__ import annotations

import logging
import threading

from flask import current_app
from sqlalchemy import func, select
from sqlalchemy.orm import selectinload

import matching
from market import areas
from market.extensions import db
from market.mentoring import groups
from market.models import Case, Introduction, MentorProfile

log = logging.getLogger(__name__)
_lock = threading.Lock()


def to_mentor(profile: MentorProfile) -> matching.Mentor:
    return matching.Mentor(
        id=profile.id, group=profile.group, industries=tuple(profile.industries or ()),
        skills=tuple(profile.skills or ()), region=profile.district, capacity=profile.capacity,
        bio=profile.bio or "", current_load=min(profile.current_load, profile.capacity), active=profile.matchable,
    )


def to_request(case: Case) -> matching.HelpRequest:
    return matching.HelpRequest(
        id=case.id, industry=case.industry, difficulties=tuple(case.difficulties or ()), region=case.district,
        description=case.description or "", stage=case.stage,
    )


def matcher_data() -> dict:
    """What the matcher takes as data rather than constants: the groups with their
    affinities, and the districts of the area tree."""
    return {"groups": groups.affinities(), "regions": areas.region_names()}


def _fingerprint(data: dict) -> tuple:
    row = db.session.execute(
        select(func.count(MentorProfile.id), func.max(MentorProfile.updated_at), func.sum(MentorProfile.current_load))
        .where(MentorProfile.status == "approved")
    ).one()
    return (*row, repr(sorted((k, sorted(v.items())) for k, v in data["groups"].items())), data["regions"])


def training_outcomes() -> list[matching.Outcome]:
    """Every introduction a mentor answered, with how the case ended when it has."""
    rows = db.session.execute(
        select(Introduction, Case).join(Case, Introduction.case_id == Case.id)
        .where(Introduction.status.in_(("accepted", "declined", "released")))
        .options(selectinload(Case.difficulty_items))
    )
    outcomes = []
    for intro, case in rows:
        accepted = intro.status in ("accepted", "released")
        resolved = None
        if intro.status == "accepted" and case.status in ("resolved", "closed_unresolved"):
            resolved = case.status == "resolved"
        outcomes.append(matching.Outcome(request=to_request(case), mentor_id=intro.mentor_id, accepted=accepted,
                                         resolved=resolved, satisfaction=case.rating if resolved is not None else None))
    return outcomes


def _learnable(outcomes: list[matching.Outcome]) -> bool:
    labels = {o.success for o in outcomes}
    return len(outcomes) >= int(current_app.config.get("MATCHER_MIN_OUTCOMES", 40)) and labels == {True, False}


def get_matcher() -> matching.MentorMatcher | None:
    """The fitted matcher over approved mentors, or None when there are none yet."""
    cache = current_app.extensions.setdefault("mentor_matcher", {})
    data = matcher_data()
    fingerprint = _fingerprint(data)
    if cache.get("fingerprint") == fingerprint:
        return cache.get("matcher")
    with _lock:
        if cache.get("fingerprint") == fingerprint:
            return cache.get("matcher")
        profiles = list(db.session.scalars(select(MentorProfile).where(MentorProfile.status == "approved")
                                           .order_by(MentorProfile.id)))
        matcher = None
        if profiles:
            outcomes = training_outcomes()
            matcher = matching.MentorMatcher(groups=data["groups"], regions=data["regions"]).fit([to_mentor(p) for p in profiles],
                                                    outcomes=outcomes if _learnable(outcomes) else None)
            log.info("matcher fitted on %s mentors (weights from %s)", len(profiles), matcher.weight_source_)
        cache.update(fingerprint=fingerprint, matcher=matcher)
        return matcher


def reasons_as_json(match: matching.Match) -> list[dict]:
    return [r.to_dict() for r in match.reasons]


def reason_texts(reasons: list[dict], lang: str, audience: str = "her") -> list[str]:
    """Stored reasons in the reader's language. The matcher speaks to the woman ("what you
    need"); staff and committee members read them about her (`audience="staff"`)."""
    out = []
    group_labels, region_labels = groups.labels(), areas.districts()
    for r in reasons or []:
        try:
            if audience != "her" and r["code"] == "shared_skills":
                sep = "、" if lang == "zh" else ", "
                names = sep.join(matching.schema.label(matching.schema.SKILLS, s, lang) for s in r["params"]["skills"])
                out.append(f"擅长她需要的：{names}" if lang == "zh" else f"Skilled in what she needs: {names}")
                continue
            out.append(matching.Reason(r["code"], r.get("params") or {}).text(lang, group_labels, region_labels))
        except (KeyError, TypeError, ValueError):
            continue  # a reason from an older matcher version: skip, never break the page
    return out
