"""Needs the matcher read in a case's free text, and her answer to "we understood you also
need: X — right?". A confirmed need becomes one of the case's difficulties (ticked); a
removed one is never counted for the case again. Both are kept as training data (see
`market.mentoring.matcher.phrase_bank`). Staff's example phrasings of needs live here too."""
from __future__ import annotations

from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from market import audit
from market.extensions import db
from market.mentoring.matcher import get_matcher, request_refit, to_request
from market.mentoring.services.common import MentoringError, NotFound, log
from market.models import Case, CaseInferredNeed, NeedPhrase, User
from matching.schema import DIFFICULTIES
from matching.text import NEEDS_THRESHOLD

# Only needs read with at least this confidence are put to her: the tagger's operating point
# (chosen on the project's own development requests, `python -m matching.operating_point`).
ASK_CONFIDENCE = NEEDS_THRESHOLD
MAX_PHRASE = 200


def read_needs(case: Case, matcher=None) -> list[CaseInferredNeed]:
    """Record the needs the matcher reads in the case's text (once per case)."""
    if case.id is None or not (case.description or "").strip():
        return []
    if db.session.scalar(select(CaseInferredNeed.id).where(CaseInferredNeed.case_id == case.id).limit(1)):
        return []
    matcher = matcher or get_matcher()
    if matcher is None:
        return []
    try:
        found = matcher.infer_needs(to_request(case))
    except ValueError as exc:
        log.warning("case %s: needs not read: %s", case.id, exc)
        return []
    # Ask only what the tagger would tag: a need beyond the best one must be the best need of
    # a clause of its own (a runner-up in the clause that said another need is not asked).
    tagger = getattr(matcher, "tagger_", None)
    said = {code for code, _ in tagger.tag(case.description)} if hasattr(tagger, "tag") else None
    rows = [CaseInferredNeed(case_id=case.id, code=code, confidence=round(float(conf), 4), status="pending")
            for code, conf in found.items()
            if conf >= ASK_CONFIDENCE and code in DIFFICULTIES and (said is None or code in said)]
    db.session.add_all(rows)
    db.session.commit()
    return rows


def pending_needs(case: Case) -> list[CaseInferredNeed]:
    return list(db.session.scalars(select(CaseInferredNeed).where(CaseInferredNeed.case_id == case.id,
                                                                   CaseInferredNeed.status == "pending")
                                   .order_by(CaseInferredNeed.confidence.desc(), CaseInferredNeed.id)))


# ---- staff's example phrasings ------------------------------------------------------------

def phrases() -> list[NeedPhrase]:
    return list(db.session.scalars(select(NeedPhrase).order_by(NeedPhrase.code, NeedPhrase.id)))


def add_phrase(staff: User, code: str, phrase: str) -> NeedPhrase:
    phrase = " ".join((phrase or "").split())
    if code not in DIFFICULTIES:
        raise MentoringError(_l("Choose a difficulty."))
    if not phrase:
        raise MentoringError(_l("Write how a woman might say it."))
    if len(phrase) > MAX_PHRASE:
        raise MentoringError(_l("A phrasing must be at most 200 characters."))
    if db.session.scalar(select(NeedPhrase.id).where(NeedPhrase.code == code, NeedPhrase.phrase == phrase)):
        raise MentoringError(_l("This phrasing is already there."))
    row = NeedPhrase(code=code, phrase=phrase, created_by_id=staff.id)
    db.session.add(row)
    db.session.flush()
    audit.record(staff, "matcher.phrase_add", row)
    db.session.commit()
    request_refit()
    return row


def delete_phrase(staff: User, phrase_id: int) -> None:
    row = db.session.get(NeedPhrase, phrase_id)
    if row is None:
        raise NotFound(phrase_id)
    audit.record(staff, "matcher.phrase_delete", row)
    db.session.delete(row)
    db.session.commit()
    request_refit()
