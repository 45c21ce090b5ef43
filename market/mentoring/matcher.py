"""The bridge between the database and the `matching` library: turning rows into the
library's dataclasses, and one fitted matcher shared by every app process.

A refit writes the fitted matcher (pickled) to `matcher_models` with a new version and the
signature of what it was fitted on (approved mentors' profiles, groups, districts, staff
phrasings, confirmed needs). Every process keeps the version it loaded and reloads when a
newer one appears. A refit happens only when the signature changes (a profile, group,
district or phrasing changed: `request_refit()` runs it as a background job; a process that
finds no model for the current signature fits one itself). Loads, pending asks and
availability (paused, busy) are NOT refits: they are applied to the loaded matcher through
`set_load`, `set_pending` and `set_available` on every use. Capacity is enforced again in the
database at accept time.
"""
from __future__ import annotations

import hashlib
import logging
import pickle
import threading
from datetime import timedelta

from flask import current_app
from sqlalchemy import delete, func, or_, select
from sqlalchemy.orm import selectinload

import matching
from market import areas, jobs
from market.extensions import db
from market.mentoring import groups
from market.models import (
    Case,
    CaseInferredNeed,
    Introduction,
    MatcherModel,
    MentorProfile,
    NeedPhrase,
    User,
)
from matching.text import NeedsTagger, default_phrases, merge_phrases

log = logging.getLogger(__name__)
_lock = threading.Lock()
# Bump when the library's fitted state changes shape: stored models of older code are refitted.
MODEL_FORMAT = "matcher2.1"
KEEP_MODELS = 3
# Asks pending or made in this many days count against a mentor's exposure (spreads asks).
EXPOSURE_DAYS = 30


def to_mentor(profile: MentorProfile) -> matching.Mentor:
    return matching.Mentor(
        id=profile.id, group=profile.group, industries=tuple(profile.industries or ()),
        skills=tuple(profile.skills or ()), region=profile.district, capacity=profile.capacity,
        bio=profile.bio or "", current_load=min(profile.current_load, profile.capacity), active=available(profile),
    )


def available(profile: MentorProfile, today=None) -> bool:
    """Matchable and not busy (she declined an ask as busy until `busy_until`)."""
    from market.mentoring.services.common import today as local_today

    if not profile.matchable:
        return False
    return profile.busy_until is None or profile.busy_until <= (today or local_today())


def to_request(case: Case) -> matching.HelpRequest:
    """The case as the matcher sees it: ticked difficulties (a confirmed need became one),
    needs she removed, and the matcher reads the rest from her text."""
    ticked = tuple(case.difficulties or ())
    removed = tuple(n.code for n in _inferred_rows(case) if n.status == "removed" and n.code not in ticked)
    return matching.HelpRequest(
        id=case.id, industry=case.industry, difficulties=ticked, region=case.district,
        description=case.description or "", stage=case.stage, rejected=removed,
    )


def _inferred_rows(case: Case) -> list[CaseInferredNeed]:
    if case.id is None:
        return []
    return list(db.session.scalars(select(CaseInferredNeed).where(CaseInferredNeed.case_id == case.id)
                                   .order_by(CaseInferredNeed.id)))


def matcher_data() -> dict:
    """What the matcher takes as data rather than constants: the groups with their
    affinities, and the districts of the area tree."""
    return {"groups": groups.affinities(), "regions": areas.region_names()}


def signature(data: dict) -> str:
    """What a fitted matcher depends on. Loads and availability are not in it."""
    mentors = db.session.execute(
        select(func.count(MentorProfile.id), func.max(MentorProfile.updated_at))
        .where(MentorProfile.status == "approved")
    ).one()
    phrases = db.session.execute(select(func.count(NeedPhrase.id), func.max(NeedPhrase.id))).one()
    decided = db.session.execute(select(func.count(CaseInferredNeed.id))
                                 .where(CaseInferredNeed.status != "pending")).scalar()
    text = repr((MODEL_FORMAT, tuple(mentors), tuple(phrases), decided,
                 sorted((k, sorted(v.items())) for k, v in data["groups"].items()), list(data["regions"])))
    return hashlib.sha256(text.encode()).hexdigest()


def phrase_bank() -> dict[str, list[str]]:
    """The shipped phrasings, the staff's, and the clauses of confirmed needs."""
    staff: dict[str, list[str]] = {}
    for row in db.session.scalars(select(NeedPhrase).order_by(NeedPhrase.id)):
        if row.code in matching.schema.DIFFICULTIES:
            staff.setdefault(row.code, []).append(row.phrase)
    return merge_phrases(default_phrases(), staff, confirmed_phrases())


def confirmed_phrases() -> dict[str, list[str]]:
    """Training data from her answers: for each confirmed need, the clause of the case's
    text that said it (removed needs are kept as data; the model does not use them yet)."""
    rows = db.session.execute(
        select(CaseInferredNeed.code, Case.description).join(Case, Case.id == CaseInferredNeed.case_id)
        .where(CaseInferredNeed.status == "confirmed").order_by(CaseInferredNeed.id)
    ).all()
    if not rows:
        return {}
    reader = NeedsTagger().fit()
    out: dict[str, list[str]] = {}
    for code, description in rows:
        clause = reader.best_clause(description or "", code) if code in reader.labels_ else ""
        if clause:
            out.setdefault(code, []).append(clause[:200])
    return out


def training_outcomes() -> list[matching.Outcome]:
    """Every introduction a mentor answered, with how the case ended when it has, and why
    she declined (a busy decline is availability, not fit: the library skips it)."""
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
        reason = intro.decline_code if (not accepted and intro.decline_code in matching.schema.DECLINE_REASONS) else None
        outcomes.append(matching.Outcome(request=to_request(case), mentor_id=intro.mentor_id, accepted=accepted,
                                         resolved=resolved, satisfaction=case.rating if resolved is not None else None,
                                         decline_reason=reason))
    return outcomes


def _learnable(outcomes: list[matching.Outcome]) -> bool:
    labels = {o.success for o in outcomes if o.says_about_fit}
    return len(outcomes) >= int(current_app.config.get("MATCHER_MIN_OUTCOMES", 40)) and labels == {True, False}


def build_matcher(data: dict) -> matching.MentorMatcher | None:
    profiles = list(db.session.scalars(select(MentorProfile).where(MentorProfile.status == "approved")
                                       .options(selectinload(MentorProfile.user)).order_by(MentorProfile.id)))
    if not profiles:
        return None
    outcomes = training_outcomes()
    tagger = NeedsTagger(phrases=phrase_bank())
    matcher = matching.MentorMatcher(groups=data["groups"], regions=data["regions"], needs_tagger=tagger)
    matcher.fit([to_mentor(p) for p in profiles], outcomes=outcomes if _learnable(outcomes) else None)
    log.info("matcher fitted on %s mentors (weights from %s)", len(profiles), matcher.weight_source_)
    return matcher


def refit() -> int | None:
    """Fit on the current data and store it as the newest version; returns the version."""
    data = matcher_data()
    sig = signature(data)
    matcher = build_matcher(data)
    if matcher is None:
        return None
    row = MatcherModel(signature=sig, mentors=len(matcher.index_), weight_source=matcher.weight_source_,
                       payload=pickle.dumps(matcher, protocol=pickle.HIGHEST_PROTOCOL))
    db.session.add(row)
    db.session.flush()
    version = row.version
    old = select(MatcherModel.version).order_by(MatcherModel.version.desc()).offset(KEEP_MODELS)
    stale = list(db.session.scalars(old))
    if stale:
        db.session.execute(delete(MatcherModel).where(MatcherModel.version.in_(stale)))
    db.session.commit()
    log.info("matcher version %s stored (%s mentors)", version, row.mentors)
    return version


@jobs.task("refit_matcher")
def refit_matcher_job() -> int | None:
    data = matcher_data()
    latest = _latest()
    if latest is not None and latest[1] == signature(data):
        return latest[0]  # someone refitted already
    return refit()


def request_refit() -> None:
    """A profile, group or phrasing changed: refit in the background (inline without Redis)."""
    try:
        jobs.enqueue("refit_matcher")
    except Exception:  # never fail the edit because of the matcher; the next use refits
        log.exception("could not enqueue the matcher refit")


def _latest() -> tuple[int, str] | None:
    row = db.session.execute(select(MatcherModel.version, MatcherModel.signature)
                             .order_by(MatcherModel.version.desc()).limit(1)).first()
    return (row[0], row[1]) if row else None


def get_matcher() -> matching.MentorMatcher | None:
    """The newest stored matcher (loaded once per version per process), with today's loads,
    pending asks and availability applied; None when there are no approved mentors."""
    cache = current_app.extensions.setdefault("mentor_matcher", {})
    data = matcher_data()
    sig = signature(data)
    latest = _latest()
    if latest is None or latest[1] != sig:
        with _lock:
            latest = _latest()
            if latest is None or latest[1] != signature(data):
                version = refit()
                if version is None:
                    cache.clear()
                    return None
                latest = _latest()
    version = latest[0]
    if cache.get("version") != version:
        with _lock:
            if cache.get("version") != version:
                payload = db.session.execute(select(MatcherModel.payload)
                                             .where(MatcherModel.version == version)).scalar()
                cache.update(version=version, matcher=pickle.loads(payload))
                log.info("matcher version %s loaded", version)
    matcher = cache["matcher"]
    sync_state(matcher)
    return matcher


def sync_state(matcher: matching.MentorMatcher) -> None:
    """Loads, recent asks (pending or in the last EXPOSURE_DAYS) and availability from
    the database, without a refit."""
    from market.mentoring.services.common import today, utcnow

    now = today()
    since = utcnow() - timedelta(days=EXPOSURE_DAYS)
    pending = dict(db.session.execute(
        select(Introduction.mentor_id, func.count(Introduction.id))
        .where(or_(Introduction.status == "asked", Introduction.asked_at >= since))
        .group_by(Introduction.mentor_id)).all())
    rows = db.session.execute(select(MentorProfile.id, MentorProfile.current_load, MentorProfile.status,
                                     MentorProfile.paused, MentorProfile.busy_until, User.active)
                              .join(User, User.id == MentorProfile.user_id)).all()
    index = matcher.index_
    for mentor_id, load, status, paused, busy_until, active in rows:
        row = index.row_of.get(mentor_id)
        if row is None:
            continue
        load = min(int(load or 0), int(index.capacity[row]))
        if index.load[row] != load:
            matcher.set_load(mentor_id, load)
        is_available = (status == "approved" and not paused and bool(active)
                        and (busy_until is None or busy_until <= now))
        if bool(index.active[row]) != is_available:
            matcher.set_available(mentor_id, is_available)
        n = int(pending.get(mentor_id, 0))
        if index.pending[row] != n:
            matcher.set_pending(mentor_id, n)


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
