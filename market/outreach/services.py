"""The front line's rules: grids, who is on whose contact list, coverage, visits (stored once
per phone-made id; difficulties sent to the case desk with her consent) and the archive per
woman with its recorded reads. Views and the JSON endpoint call these; nothing else changes
outreach rows."""
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
from market.models import (
    Area,
    Artisan,
    Case,
    CaseConsent,
    CaseDifficulty,
    ClientProfile,
    OutreachContact,
    User,
    UserRole,
    Visit,
)
from market.models.outreach import VISIT_METHODS
from matching.schema import BUSINESS_STAGES, DIFFICULTIES, INDUSTRIES

log = logging.getLogger("market.outreach")
_CLIENT_ID = re.compile(r"^[A-Za-z0-9-]{8,40}$")


class OutreachError(ValueError):
    """A rule was broken; the message is safe to show."""


class NotFound(LookupError):
    """Missing, or not the caller's to see."""


def is_cadre(user) -> bool:
    return bool(user and user.is_authenticated and (user.is_staff or user.has_role("committee")))


def list_size() -> int:
    return int(current_app.config.get("OUTREACH_LIST_SIZE", 10))


def _get(model, ident):
    if not isinstance(ident, int) or isinstance(ident, bool) or not 0 < ident < 2**31:
        return None
    return db.session.get(model, ident)


# ---- grids and cadres ------------------------------------------------------------------

def cadres() -> list[User]:
    """Everyone who may keep a contact list: staff and committee members (执委)."""
    ids = select(UserRole.user_id).where(UserRole.role.in_(("staff", "committee")))
    return list(db.session.scalars(select(User).where(User.id.in_(ids), User.active.is_(True)).order_by(User.name)))


def add_grid(staff: User, village_id: int, name: str) -> Area:
    if not staff.is_staff:
        raise NotFound("grid")
    parent = _get(Area, village_id)
    if parent is None or parent.level != "village":
        raise OutreachError(_l("Choose the village or community the grid belongs to."))
    try:
        grid = areas.add_area(parent.id, name)
    except areas.AreaError as e:
        raise OutreachError(str(e)) from e
    audit.record(staff, "area.grid_add", ("areas", grid.id), commit=True)
    return grid


def grids() -> list[tuple[int, str]]:
    return areas.area_choices("grid")


def villages() -> list[tuple[int, str]]:
    return areas.area_choices("village")


def my_area_ids(user: User) -> set[int]:
    return areas.responsible_area_ids(user)


def my_grids(user: User) -> list[Area]:
    ids = my_area_ids(user)
    if not ids:
        return []
    return list(db.session.scalars(select(Area).where(Area.id.in_(ids), Area.level == "grid").order_by(Area.name)))


def assign_grid(staff: User, cadre_id: int, grid_id: int) -> None:
    if not staff.is_staff:
        raise NotFound("grid")
    cadre = _get(User, cadre_id)
    grid = _get(Area, grid_id)
    if cadre is None or not is_cadre_user(cadre):
        raise OutreachError(_l("Choose a staff member or committee member."))
    if grid is None or grid.level != "grid":
        raise OutreachError(_l("Choose a grid."))
    areas.grant_responsibility(staff, cadre, grid.id)


def is_cadre_user(user: User) -> bool:
    return user.is_staff or user.has_role("committee")


# ---- contact lists ---------------------------------------------------------------------

def contact_of(profile_id: int) -> OutreachContact | None:
    return db.session.scalar(select(OutreachContact).where(OutreachContact.profile_id == profile_id))


def list_count(cadre_id: int) -> int:
    return db.session.scalar(select(func.count()).select_from(OutreachContact)
                             .where(OutreachContact.cadre_id == cadre_id)) or 0


def _put_on_list(actor: User, cadre: User, profile: ClientProfile) -> OutreachContact:
    if list_count(cadre.id) >= list_size():
        raise OutreachError(_l("This contact list is full (%(n)s women).", n=list_size()))
    current = contact_of(profile.id)
    if current is not None:
        if current.cadre_id == cadre.id:
            return current
        if not actor.is_staff:
            raise OutreachError(_l("She is already on another contact list."))
        current.cadre_id, current.assigned_by_id = cadre.id, actor.id
        audit.record(actor, "outreach.reassign", ("client_profiles", profile.id), on_behalf_of=profile)
        return current
    row = OutreachContact(profile_id=profile.id, cadre_id=cadre.id, assigned_by_id=actor.id, created_at=clock.now())
    db.session.add(row)
    audit.record(actor, "outreach.assign", ("client_profiles", profile.id), on_behalf_of=profile)
    return row


def assign_contact(staff: User, cadre_id: int, profile_id: int) -> OutreachContact:
    """Staff put a woman (a recorded profile, with or without an account) on a cadre's list."""
    if not staff.is_staff:
        raise NotFound("contact")
    cadre = _get(User, cadre_id)
    profile = _get(ClientProfile, profile_id)
    if cadre is None or not is_cadre_user(cadre):
        raise OutreachError(_l("Choose a staff member or committee member."))
    if profile is None or profile.anonymised_at is not None:
        raise OutreachError(_l("Choose a woman."))
    row = _put_on_list(staff, cadre, profile)
    db.session.commit()
    return row


def assign_account(staff: User, cadre_id: int, email: str) -> OutreachContact:
    """Staff put a woman who has an account on a cadre's list: her profile (the help desk's),
    made from her account when she has none yet."""
    from market.accounts.services import find_user_by_email
    from market.mentoring.services import MentoringError, normalise_phone

    if not staff.is_staff:
        raise NotFound("contact")
    user = find_user_by_email((email or "").strip()[:254])
    if user is None:
        raise OutreachError(_l("No account has this email."))
    profile = db.session.scalar(select(ClientProfile).where(ClientProfile.user_id == user.id))
    if profile is None:
        try:
            phone = normalise_phone(user.phone)
        except MentoringError:
            phone = None
        profile = ClientProfile(name=user.name, phone=phone, user_id=user.id, created_by_id=staff.id,
                                created_at=clock.now(), claimed_at=clock.now())
        db.session.add(profile)
        db.session.flush()
        audit.record(staff, "profile.create", profile, on_behalf_of=profile)
    return assign_contact(staff, cadre_id, profile.id)


def add_woman(cadre: User, data) -> OutreachContact:
    """A cadre records a woman she keeps in touch with (name, phone, village or grid, kind of
    business) and puts her on her own list."""
    from market.mentoring.services import MentoringError
    from market.mentoring.services.profiles import create_profile

    if not is_cadre(cadre):
        raise NotFound("contact")
    if list_count(cadre.id) >= list_size():
        raise OutreachError(_l("This contact list is full (%(n)s women).", n=list_size()))
    if data.area_id and not cadre.is_staff and data.area_id not in my_area_ids(cadre):
        raise OutreachError(_l("Choose one of your own areas."))
    try:
        profile = create_profile(cadre, data)
    except MentoringError as e:
        db.session.rollback()
        raise OutreachError(str(e)) from e
    row = _put_on_list(cadre, cadre, profile)
    db.session.commit()
    return row


def take_from_grids(cadre: User) -> int:
    """Women recorded in her grids who are on nobody's list join hers, up to its size."""
    if not is_cadre(cadre):
        raise NotFound("contact")
    ids = my_area_ids(cadre)
    room = list_size() - list_count(cadre.id)
    if not ids or room <= 0:
        return 0
    taken = select(OutreachContact.profile_id)
    found = list(db.session.scalars(select(ClientProfile).where(
        ClientProfile.area_id.in_(ids), ClientProfile.anonymised_at.is_(None), ClientProfile.id.not_in(taken))
        .order_by(ClientProfile.id).limit(room)))
    for profile in found:
        _put_on_list(cadre, cadre, profile)
    db.session.commit()
    return len(found)


def assignable_profiles(limit: int = 500) -> list[ClientProfile]:
    return list(db.session.scalars(select(ClientProfile).where(ClientProfile.anonymised_at.is_(None))
                                   .order_by(ClientProfile.name).limit(limit)))


def remove_contact(staff: User, contact_id: int) -> None:
    row = _get(OutreachContact, contact_id)
    if not staff.is_staff or row is None:
        raise NotFound(contact_id)
    audit.record(staff, "outreach.unassign", ("client_profiles", row.profile_id), on_behalf_of=("client_profiles",
                                                                                             row.profile_id))
    db.session.delete(row)
    db.session.commit()


# ---- coverage ----------------------------------------------------------------------------

def quarter_start(day: date) -> date:
    return date(day.year, 3 * ((day.month - 1) // 3) + 1, 1)


@dataclass
class ContactRow:
    contact: OutreachContact
    profile: ClientProfile
    cadre: User
    last: Visit | None
    open_difficulty: bool
    this_month: bool
    this_quarter: bool

    @property
    def never(self) -> bool:
        return self.last is None

    @property
    def days_since(self) -> int | None:
        return (clock.today() - self.last.happened_on).days if self.last else None

    def priority(self) -> tuple:
        """Who needs a call or visit first: never contacted, then an open difficulty, then
        whoever was contacted longest ago."""
        return (0 if self.never else 1, 0 if self.open_difficulty else 1,
                self.last.happened_on if self.last else date.min, self.profile.id)


@dataclass
class Coverage:
    rows: list[ContactRow] = field(default_factory=list)

    @property
    def total(self) -> int:
        return len(self.rows)

    @property
    def this_month(self) -> int:
        return sum(r.this_month for r in self.rows)

    @property
    def this_quarter(self) -> int:
        return sum(r.this_quarter for r in self.rows)

    @property
    def never(self) -> int:
        return sum(r.never for r in self.rows)

    @property
    def open_difficulty(self) -> int:
        return sum(r.open_difficulty for r in self.rows)


def _last_visits(profile_ids: list[int]) -> dict[int, Visit]:
    if not profile_ids:
        return {}
    # The latest by the day it happened, then by id (a visit sent late for an older day is not "the last").
    out: dict[int, Visit] = {}
    for v in db.session.scalars(select(Visit).where(Visit.profile_id.in_(profile_ids))
                                .order_by(Visit.profile_id, Visit.happened_on, Visit.id)):
        out[v.profile_id] = v
    return out


def _open_codes(case_ids: set[int]) -> dict[int, set[str]]:
    out: dict[int, set[str]] = {}
    if case_ids:
        for case_id, code in db.session.execute(select(CaseDifficulty.case_id, CaseDifficulty.code).where(
                CaseDifficulty.case_id.in_(case_ids), CaseDifficulty.status.in_(("open", "in_hand")))):
            out.setdefault(case_id, set()).add(code)
    return out


def coverage(cadre_id: int | None = None, area_ids: set[int] | None = None) -> Coverage:
    """Her list (or everyone's, or an area's) with when each woman was last contacted."""
    stmt = select(OutreachContact, ClientProfile, User).join(ClientProfile, ClientProfile.id == OutreachContact.profile_id) \
        .join(User, User.id == OutreachContact.cadre_id)
    if cadre_id is not None:
        stmt = stmt.where(OutreachContact.cadre_id == cadre_id)
    if area_ids is not None:
        stmt = stmt.where(ClientProfile.area_id.in_(area_ids or {0}))
    found = db.session.execute(stmt).all()
    last = _last_visits([p.id for _, p, _ in found])
    open_codes = _open_codes({v.case_id for v in last.values() if v.case_id})
    today = clock.today()
    month, quarter = today.replace(day=1), quarter_start(today)
    rows = []
    for contact, profile, cadre in found:
        v = last.get(profile.id)
        if v is None:
            open_difficulty = False
        elif v.case_id:
            open_difficulty = bool(set(v.difficulties or []) & open_codes.get(v.case_id, set()))
        else:
            open_difficulty = bool(v.difficulties)
        rows.append(ContactRow(contact, profile, cadre, v, open_difficulty,
                               bool(v and v.happened_on >= month), bool(v and v.happened_on >= quarter)))
    rows.sort(key=ContactRow.priority)
    return Coverage(rows)


def coverage_by_cadre() -> list[tuple[User, Coverage]]:
    cov = coverage()
    groups: dict[int, list[ContactRow]] = {}
    people: dict[int, User] = {}
    for row in cov.rows:
        groups.setdefault(row.cadre.id, []).append(row)
        people[row.cadre.id] = row.cadre
    return [(people[k], Coverage(v)) for k, v in sorted(groups.items(), key=lambda kv: people[kv[0]].name)]


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
    profile = _get(ClientProfile, data.profile_id)
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
    except IntegrityError:
        # The same visit arrived twice at once: the other request stored it.
        db.session.rollback()
        existing = db.session.scalar(select(Visit).where(Visit.client_id == data.client_id))
        if existing is None:
            raise
        return existing, False
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
    except IntegrityError:
        db.session.rollback()
        existing = db.session.scalar(select(Visit).where(Visit.client_id == data.client_id))
        if existing is None:
            raise
        return existing, False
    log.info("visit %s stored profile=%s cadre=%s case=%s stale=%s", visit.id, profile.id, cadre.id,
             visit.case_id, visit.stale)
    if case is not None and getattr(case, "_outreach_new", False):
        from market.mentoring.services.introductions import refresh_suggestions
        from market.mentoring.services.notify import notify_new_case

        notify_new_case(case)
        refresh_suggestions(case)
    return visit, True


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


def visit_photo(reader: User, visit_id: int) -> tuple[str, str]:
    """(folder, file name) of a visit's photo, for a reader of her archive (others' reads audited)."""
    visit = _get(Visit, visit_id)
    if visit is None or not visit.photo or not reader.is_authenticated:
        raise NotFound(visit_id)
    profile = db.session.get(ClientProfile, visit.profile_id)
    if not may_read_archive(reader, profile):
        raise NotFound(visit_id)
    if profile.user_id != reader.id:
        audit.record(reader, "archive.photo_read", visit, on_behalf_of=profile, commit=True)
    return str(photo_folder()), visit.photo


def visits_of(profile_id: int) -> list[Visit]:
    return list(db.session.scalars(select(Visit).where(Visit.profile_id == profile_id)
                                   .order_by(Visit.happened_on.desc(), Visit.id.desc())))


# ---- the archive (家庭档案) ------------------------------------------------------------------

@dataclass
class Archive:
    profile: ClientProfile
    contact: OutreachContact | None
    visits: list[Visit]
    cases: list[Case]
    consents: list[CaseConsent]
    shop: Artisan | None
    sales: dict


def may_read_archive(reader: User, profile: ClientProfile) -> bool:
    if reader.is_staff:
        return True
    if profile.user_id is not None and profile.user_id == reader.id:
        return True
    contact = contact_of(profile.id)
    return contact is not None and contact.cadre_id == reader.id


def archive(reader: User, profile_id: int) -> Archive:
    """Her file: profile, visits, cases with their difficulties and results, her shop's sales,
    consent history. Every read by someone other than herself is in the audit log."""
    profile = _get(ClientProfile, profile_id)
    if profile is None or not reader.is_authenticated or not may_read_archive(reader, profile):
        raise NotFound(profile_id)
    cases = list(db.session.scalars(select(Case).where(Case.profile_id == profile.id).order_by(Case.id.desc())))
    consents = list(db.session.scalars(select(CaseConsent).where(CaseConsent.case_id.in_([c.id for c in cases] or [0]))
                                       .order_by(CaseConsent.id)))
    shop = db.session.scalar(select(Artisan).where(Artisan.user_id == profile.user_id)) if profile.user_id else None
    if profile.user_id != reader.id:
        audit.record(reader, "archive.read", profile, on_behalf_of=profile, commit=True)
    return Archive(profile, contact_of(profile.id), visits_of(profile.id), cases, consents, shop, _sales_of(shop))


def _sales_of(shop: Artisan | None) -> dict:
    """Her shop's sales summary: parcels sold (not cancelled) and their value, less refunds."""
    if shop is None:
        return {}
    from market.models import SubOrder

    row = db.session.execute(select(func.count(), func.coalesce(func.sum(SubOrder.subtotal_fen - SubOrder.refunded_fen), 0))
                             .where(SubOrder.artisan_id == shop.id,
                                    SubOrder.status.in_(("awaiting_shipment", "shipped", "delivered")))).one()
    return {"orders": row[0], "total_fen": int(row[1] or 0)}
