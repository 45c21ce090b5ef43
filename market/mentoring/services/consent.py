"""Consent as a record: given or withdrawn at any time, per case and scope (share details
with the matched mentor; share her contact; be contacted by SMS), by her, or recorded for her
by whoever filed the case or staff (how: spoken, signed paper). It governs what mentors see;
every change and every read of her case by someone else is in the audit log."""
from __future__ import annotations

from flask_babel import lazy_gettext as _l
from sqlalchemy import update

from market import audit
from market.extensions import db
from market.mentoring.services.access import Access, visible_case
from market.mentoring.services.common import MentoringError, NotFound, log, utcnow
from market.models import Case, CaseConsent, User
from market.models.mentoring import CONSENT_METHODS, CONSENT_SCOPES

COLUMN = {"details": "consent_to_share", "contact": "consent_contact", "sms": "consent_sms"}


def _whose(case: Case):
    """Whom an action on this case is for: her profile, else her account."""
    if case.profile_id is not None:
        return ("client_profiles", case.profile_id)
    return ("users", case.author_id) if case.author_id else None


def write_consent(case: Case, actor: User | None, scope: str, given: bool, method: str, on_behalf: bool) -> None:
    """Append the record and update the case's copy (same transaction); the caller commits."""
    db.session.add(CaseConsent(case_id=case.id, scope=scope, given=bool(given), method=method,
                               recorded_by_id=actor.id if actor else None, on_behalf=on_behalf, created_at=utcnow()))
    db.session.execute(update(Case).where(Case.id == case.id).values(**{COLUMN[scope]: bool(given)})
                       .execution_options(synchronize_session=False))
    audit.record(actor, f"consent.{'give' if given else 'withdraw'}.{scope}", case,
                 on_behalf_of=_whose(case) if on_behalf else None)


def set_consent(user: User, case_id: int, scope: str, given: bool, method: str = "online") -> Case:
    case, acc = visible_case(user, case_id)
    if not (acc.is_author or acc.is_filer or acc.is_staff):
        raise NotFound(case_id)
    if scope not in CONSENT_SCOPES:
        raise MentoringError(_l("Choose what the consent is for."))
    on_behalf = not acc.is_author
    if on_behalf:
        if method not in CONSENT_METHODS or method == "online":
            raise MentoringError(_l("Say how she gave or withdrew her consent: spoken or on signed paper."))
    else:
        method = "online"
    if getattr(case, COLUMN[scope]) == bool(given):
        return case  # nothing changes: no new record
    write_consent(case, user, scope, given, method, on_behalf)
    db.session.commit()
    db.session.refresh(case)
    log.info("case %s: consent %s %s by user=%s (%s)", case.id, scope, "given" if given else "withdrawn", user.id,
             method)
    return case


def record_read(user: User, case: Case, acc: Access) -> None:
    """Every read of a case by someone other than the woman herself is recorded, one row per
    read: "case.read.contact" when the page showed her phone or WeChat (withdrawing consent
    hides them from then on), else "case.read"."""
    if acc.is_author:
        return
    shows_contact = acc.sees_contact and bool(case.contact_phone or case.contact_wechat)
    audit.record_read(user, "case.read.contact" if shows_contact else "case.read", case, on_behalf_of=_whose(case))


def history(case: Case) -> list[CaseConsent]:
    return sorted(case.consents, key=lambda c: c.id)
