"""Visits: stored once per phone-made id (a late one is kept and flagged stale); with her
consent, the difficulties found go to the case desk at once."""
from __future__ import annotations

import logging
import re
from dataclasses import dataclass, field
from datetime import UTC, date, datetime

from flask import current_app
from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from market import areas, audit, clock
from market.extensions import db
from market.mentoring.states import ACTIVE_CASE_STATES
from market.models import Case, CaseDifficulty, ClientProfile, User, Visit
from market.models.outreach import VISIT_METHODS
from market.outreach.common import NotFound, OutreachError, get_row, is_cadre
from market.outreach.contacts import contact_of
from matching.schema import BUSINESS_STAGES, DIFFICULTIES, INDUSTRIES

log = logging.getLogger("market.outreach")
_CLIENT_ID = re.compile(r"^[A-Za-z0-9-]{8,40}$")


# ---- visits --------------------------------------------------------------------------------

@dataclass
class VisitData:
    client_id: str
    profile_id: int
    method: str
    happened_on: date | str | None
    step: int
    situation: str = ""
    difficulties: list[str] = field(default_factory=list)
    difficulty_notes: str = ""
    measures: str = ""
    consent: bool = False
    consent_method: str = ""
    consent_photos: bool = False
    industry: str = ""
    stage: str = ""
    written_at: datetime | str | None = None

    def cleaned(self) -> VisitData:
        if not isinstance(self.client_id, str) or not _CLIENT_ID.match(self.client_id):
            raise OutreachError(_l("The visit has no valid id; write it again."))
        if self.method not in VISIT_METHODS:
            raise OutreachError(_l("Choose how you were in touch: visit, call, WeChat or meeting."))
        day = self.happened_on
        if isinstance(day, str):
            try:
                day = date.fromisoformat(day)
            except ValueError:
                day = None
        if not isinstance(day, date) or day > clock.today() or day.year < 2000:
            raise OutreachError(_l("Enter the day of the contact (not in the future)."))
        if isinstance(self.step, bool) or not isinstance(self.step, int) or not 1 <= self.step <= 5:
            raise OutreachError(_l("Choose the step the visit reached."))
        given = self.difficulties or []
        if isinstance(given, str):
            given = given.split()
        if not isinstance(given, list | tuple) or any(not isinstance(c, str) or c not in DIFFICULTIES for c in given):
            raise OutreachError(_l("Choose difficulties from the list."))
        codes = list(dict.fromkeys(given))
        texts = {}
        for name, limit in (("situation", 4000), ("difficulty_notes", 4000), ("measures", 4000)):
            value = getattr(self, name)
            value = value.strip() if isinstance(value, str) else ""
            if len(value) > limit:
                raise OutreachError(_l("A text is too long (at most 4000 characters)."))
            texts[name] = value
        consent = bool(self.consent)
        method = self.consent_method if consent else ""
        if consent and method not in ("spoken", "paper"):
            raise OutreachError(_l("Say how she gave her consent: spoken or on signed paper."))
        if consent and codes:
            if self.industry not in INDUSTRIES:
                raise OutreachError(_l("Choose her industry."))
            if self.stage not in BUSINESS_STAGES:
                raise OutreachError(_l("Choose the stage of her business."))
        written = self.written_at
        if isinstance(written, str):
            try:
                written = datetime.fromisoformat(written.replace("Z", "+00:00"))
                if written.tzinfo is not None:
                    written = written.astimezone(UTC).replace(tzinfo=None)
            except ValueError:
                written = None
        if not isinstance(written, datetime):
            written = None
        return VisitData(self.client_id, self.profile_id, self.method, day, self.step, texts["situation"], codes,
                         texts["difficulty_notes"], texts["measures"], consent, method,
                         bool(self.consent_photos), self.industry, self.stage, written)


def may_visit(user: User, profile: ClientProfile) -> bool:
    if user.is_staff:
        return True
    contact = contact_of(profile.id)
    return contact is not None and contact.cadre_id == user.id


def photo_folder():
    """Visit photos are personal: kept outside the public media folder, served only to
    the archive's readers."""
    from pathlib import Path

    configured = current_app.config.get("OUTREACH_PHOTO_FOLDER")
    return Path(configured) if configured else Path(current_app.config["UPLOAD_FOLDER"]).parent / "outreach-photos"


def _store_photo(photo) -> str:
    from market import images

    cfg = current_app.config
    try:
        stored = images.store_image(getattr(photo, "stream", photo), photo_folder(), max_bytes=cfg["MAX_IMAGE_BYTES"],
                                    max_side=cfg["IMAGE_MAX_SIDE"], thumb_size=cfg["THUMBNAIL_SIZE"],
                                    max_pixels=cfg["IMAGE_MAX_PIXELS"])
    except images.ImageError as e:
        raise OutreachError(str(e)) from e
    return stored.filename


def record_visit(cadre: User, data: VisitData, photo=None) -> tuple[Visit, bool]:
    """Store a visit once (the phone's id is unique): (the visit, whether it is new). A visit
    arriving after newer ones of the same woman is kept and flagged `stale`; it changes nothing
    newer. With her consent, each difficulty opens a case or joins her open one at once."""
    if not is_cadre(cadre):
        raise NotFound("visit")
    data = data.cleaned()
    existing = db.session.scalar(select(Visit).where(Visit.client_id == data.client_id))
    if existing is not None:
        if existing.cadre_id != cadre.id and not cadre.is_staff:
            raise NotFound("visit")
        return existing, False
    profile = get_row(ClientProfile, data.profile_id)
    if profile is None or profile.anonymised_at is not None or not may_visit(cadre, profile):
        raise NotFound(data.profile_id)
    if photo is not None and not data.consent_photos:
        raise OutreachError(_l("A photo is kept only when she agrees to it."))
    newer = db.session.scalar(select(func.count()).select_from(Visit).where(
        Visit.profile_id == profile.id,
        (Visit.happened_on > data.happened_on) | (Visit.created_at > data.written_at if data.written_at else False)))
    now = clock.now()
    visit = Visit(client_id=data.client_id, profile_id=profile.id, cadre_id=cadre.id, method=data.method,
                  happened_on=data.happened_on, step=data.step, situation=data.situation,
                  difficulties=data.difficulties, difficulty_notes=data.difficulty_notes, measures=data.measures,
                  consent=data.consent, consent_method=data.consent_method, consent_photos=data.consent_photos,
                  stale=bool(newer), written_at=data.written_at, created_at=now)
    if photo is not None:
        visit.photo = _store_photo(photo)
    db.session.add(visit)
    try:
        db.session.flush()
    except IntegrityError as error:
        return _stored_by_the_other(data.client_id, error)
    audit.record(cadre, "visit.record", visit, on_behalf_of=profile)
    case = None
    if data.consent and data.difficulties:
        try:
            case = _send_to_case_desk(cadre, profile, visit, data)
        except OutreachError:
            db.session.rollback()  # nothing of this visit is kept: she fixes it and sends again
            raise
        visit.case_id = case.id
    try:
        db.session.commit()
    except IntegrityError as error:
        return _stored_by_the_other(data.client_id, error)
    log.info("visit %s stored profile=%s cadre=%s case=%s stale=%s", visit.id, profile.id, cadre.id,
             visit.case_id, visit.stale)
    if case is not None and getattr(case, "_outreach_new", False):
        from market.mentoring.services.introductions import refresh_suggestions
        from market.mentoring.services.notify import notify_new_case

        notify_new_case(case)
        refresh_suggestions(case)
    return visit, True


def _stored_by_the_other(client_id: str, error: IntegrityError) -> tuple[Visit, bool]:
    """After a unique-key clash on the phone's id: the same visit arrived twice at once and the
    other request stored it. Undo ours and answer with theirs; re-raise `error` when there is
    none (the clash was something else)."""
    db.session.rollback()
    existing = db.session.scalar(select(Visit).where(Visit.client_id == client_id))
    if existing is None:
        raise error
    return existing, False


def _send_to_case_desk(cadre: User, profile: ClientProfile, visit: Visit, data: VisitData) -> Case:
    """Her open case gains the new difficulties; else a new case opens (channel visit for
    staff, 执委直通车 for a committee member), as new in the staff queue."""
    from market.mentoring.services.cases import CaseData, _new_case
    from market.mentoring.services.common import entry

    body = "\n".join(x for x in (data.situation, data.difficulty_notes, data.measures) if x)[:4000]
    case = db.session.scalar(select(Case).where(Case.profile_id == profile.id,
                                                Case.status.in_(ACTIVE_CASE_STATES)).order_by(Case.id.desc()))
    if case is not None:
        have = {d.code for d in case.difficulty_items}
        position = len(case.difficulty_items)
        for code in data.difficulties:
            if code not in have:
                db.session.add(CaseDifficulty(case_id=case.id, code=code, position=position, status="open"))
                position += 1
        entry(case, cadre, "visit", body or _visit_summary(visit), happened_on=data.happened_on)
        case.last_activity_at = clock.now()
        audit.record(cadre, "case.visit_join", case, on_behalf_of=profile)
        return case
    district = profile.district if areas.is_district(profile.district) else ""
    if not district:
        raise OutreachError(_l("Record her village or district first: the case desk needs it."))
    author = db.session.get(User, profile.user_id) if profile.user_id else None
    case_data = CaseData(business_name=(profile.business_kind or profile.name)[:80], industry=data.industry,
                         stage=data.stage, district=district, difficulties=list(data.difficulties),
                         description=body, consent_to_share=True, contact_phone=profile.phone or "")
    try:
        case_data = case_data.cleaned()
    except ValueError as e:
        raise OutreachError(str(e)) from e
    channel = "visit" if cadre.is_staff else "committee"
    case = _new_case(case_data, author=author, filed_by=cadre, channel=channel, status="open", profile=profile,
                     consent_method=data.consent_method)
    entry(case, cadre, "status", "open")
    entry(case, cadre, "visit", body or _visit_summary(visit), happened_on=data.happened_on)
    audit.record(cadre, "case.file", case, on_behalf_of=profile)
    case._outreach_new = True
    return case


def _visit_summary(visit: Visit) -> str:
    return f"{visit.method} {visit.happened_on.isoformat()}"



def visits_of(profile_id: int) -> list[Visit]:
    return list(db.session.scalars(select(Visit).where(Visit.profile_id == profile_id)
                                   .order_by(Visit.happened_on.desc(), Visit.id.desc())))

