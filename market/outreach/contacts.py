"""Grids and contact lists: staff add grids and make a cadre responsible for them, and put
women on a cadre's list (at most `list_size()` each); a cadre records the women she keeps in
touch with or takes those recorded in her grids."""
from __future__ import annotations

from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select

from market import areas, audit, clock
from market.extensions import db
from market.models import Area, ClientProfile, OutreachContact, User, UserRole
from market.outreach.common import NotFound, OutreachError, get_row, is_cadre, is_cadre_user, list_size

# ---- grids and cadres ------------------------------------------------------------------

def cadres() -> list[User]:
    """Everyone who may keep a contact list: staff and committee members (执委)."""
    ids = select(UserRole.user_id).where(UserRole.role.in_(("staff", "committee")))
    return list(db.session.scalars(select(User).where(User.id.in_(ids), User.active.is_(True)).order_by(User.name)))


def add_grid(staff: User, village_id: int, name: str) -> Area:
    if not staff.is_staff:
        raise NotFound("grid")
    parent = get_row(Area, village_id)
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


def _cadre_chosen_by_staff(staff: User, cadre_id: int, what: str) -> User:
    """Only staff assign (others get NotFound(what)); the cadre must be staff or committee."""
    if not staff.is_staff:
        raise NotFound(what)
    cadre = get_row(User, cadre_id)
    if cadre is None or not is_cadre_user(cadre):
        raise OutreachError(_l("Choose a staff member or committee member."))
    return cadre


def assign_grid(staff: User, cadre_id: int, grid_id: int) -> None:
    cadre = _cadre_chosen_by_staff(staff, cadre_id, "grid")
    grid = get_row(Area, grid_id)
    if grid is None or grid.level != "grid":
        raise OutreachError(_l("Choose a grid."))
    areas.grant_responsibility(staff, cadre, grid.id)



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
    cadre = _cadre_chosen_by_staff(staff, cadre_id, "contact")
    profile = get_row(ClientProfile, profile_id)
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
    again = _just_added(cadre, data)
    if again is not None:  # the form sent twice (double click, back button): she is on the list once
        return again
    try:
        profile = create_profile(cadre, data)
    except MentoringError as e:
        db.session.rollback()
        raise OutreachError(str(e)) from e
    row = _put_on_list(cadre, cadre, profile)
    db.session.commit()
    return row


def _just_added(cadre: User, data) -> OutreachContact | None:
    """Her contact for the woman she added last, when it is this one (same name, phone, area
    and business): the add form sent again."""
    from market.mentoring.services import MentoringError

    try:
        clean = data.cleaned()
    except MentoringError:
        return None  # create_profile says why
    latest = db.session.scalar(select(OutreachContact).join(ClientProfile, ClientProfile.id == OutreachContact.profile_id)
                               .where(OutreachContact.cadre_id == cadre.id, ClientProfile.created_by_id == cadre.id)
                               .order_by(ClientProfile.id.desc()).limit(1))
    if latest is None:
        return None
    p = latest.profile
    same = (p.name, p.phone, p.area_id, p.district, p.business_kind) == (
        clean.name, clean.phone, clean.area_id, clean.district, clean.business_kind)
    return latest if same and p.anonymised_at is None else None


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
    row = get_row(OutreachContact, contact_id)
    if not staff.is_staff or row is None:
        raise NotFound(contact_id)
    audit.record(staff, "outreach.unassign", ("client_profiles", row.profile_id), on_behalf_of=("client_profiles",
                                                                                             row.profile_id))
    db.session.delete(row)
    db.session.commit()

