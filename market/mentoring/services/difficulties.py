"""Each difficulty of a case, followed on its own: its status, the measures taken, the result."""
from __future__ import annotations

from flask_babel import lazy_gettext as _l

from market import audit
from market.extensions import db
from market.mentoring import states
from market.mentoring.services.access import visible_case
from market.mentoring.services.common import CHANGED, MentoringError, NotFound, entry, log, move_difficulty, touch
from market.models import CaseDifficulty, User


def update_difficulty(user: User, case_id: int, difficulty_id: int, status: str, measures: str = "",
                      result: str = "") -> CaseDifficulty:
    """A mentor or staff member records what was done for one difficulty and where it stands."""
    case, acc = visible_case(user, case_id)
    if not acc.can_update_difficulties:
        if acc.is_mentor or acc.is_staff:
            raise MentoringError(_l("This case is not being worked on."))
        raise NotFound(case_id)
    item = next((d for d in case.difficulty_items if d.id == difficulty_id), None)
    if item is None:
        raise NotFound(difficulty_id)
    if status not in states.DIFFICULTY_LABELS:
        raise MentoringError(_l("Choose where this difficulty stands."))
    measures, result = (measures or "").strip(), (result or "").strip()
    if len(measures) > 4000 or len(result) > 4000:
        raise MentoringError(_l("Measures and result: at most 4000 characters each."))
    if status in ("solved", "unsolvable") and not result:
        raise MentoringError(_l("Write the result for this difficulty."))
    values = {"measures": measures or item.measures, "result": result or item.result}
    if status == item.status:
        item.measures, item.result = values["measures"], values["result"]
    elif not move_difficulty(item, status, **values):
        db.session.rollback()
        raise MentoringError(CHANGED)
    if measures:
        entry(case, user, "measure", measures)
    touch(case.id)
    if acc.is_staff and not acc.is_mentor:
        audit.record(user, "difficulty.update", item, on_behalf_of=case.author)
    db.session.commit()
    db.session.refresh(item)
    log.info("case %s: difficulty %s now %s (user=%s)", case.id, item.code, item.status, user.id)
    return item
