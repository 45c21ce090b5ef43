"""Mentors: enrolment (awaiting staff approval), profile changes, pausing, staff review."""
from __future__ import annotations

from dataclasses import dataclass

from flask_babel import lazy_gettext as _l
from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import joinedload

from market import areas
from market.extensions import db
from market.mentoring import groups
from market.mentoring.services.common import MentoringError, NotFound, add_role, get, log, utcnow
from market.models import MentorProfile, User
from matching.schema import DIFFICULTIES, INDUSTRIES


@dataclass
class MentorData:
    display_name: str
    group: str
    industries: list[str]
    skills: list[str]
    bio: str
    district: str
    capacity: int
    availability: str = ""

    def cleaned(self) -> MentorData:
        name = " ".join((self.display_name or "").split())
        if not 1 <= len(name) <= 80:
            raise MentoringError(_l("Enter the name mentees will see (at most 80 characters)."))
        if not groups.is_group(self.group):
            raise MentoringError(_l("Choose your group in the mutual-aid team."))
        industries = [c for c in dict.fromkeys(self.industries or []) if c in INDUSTRIES]
        if not industries or len(industries) != len(set(self.industries or [])):
            raise MentoringError(_l("Choose at least one industry you know well."))
        skills = [c for c in dict.fromkeys(self.skills or []) if c in DIFFICULTIES]
        if not skills or len(skills) != len(set(self.skills or [])):
            raise MentoringError(_l("Choose at least one kind of help you can give."))
        if not areas.is_district(self.district):
            raise MentoringError(_l("Choose your district or county."))
        if not isinstance(self.capacity, int) or not 1 <= self.capacity <= 20:
            raise MentoringError(_l("You can take between 1 and 20 mentees at a time."))
        bio = (self.bio or "").strip()
        if len(bio) > 2000:
            raise MentoringError(_l("Your introduction is too long (at most 2000 characters)."))
        return MentorData(name, self.group, industries, skills, bio, self.district, self.capacity,
                          " ".join((self.availability or "").split())[:200])


def mentor_profile(user: User) -> MentorProfile | None:
    return db.session.scalar(select(MentorProfile).where(MentorProfile.user_id == user.id))


def save_mentor_profile(user: User, data: MentorData, *, _again: bool = False) -> MentorProfile:
    """Enrol (awaiting staff approval) or update one's mentor profile."""
    data = data.cleaned()
    profile = mentor_profile(user)
    if profile is not None and data.capacity < profile.current_load:
        raise MentoringError(_l("You are helping %(n)s entrepreneurs now: capacity cannot be lower than that.",
                                n=profile.current_load))
    new = profile is None
    if new:
        profile = MentorProfile(user_id=user.id, status="pending", current_load=0)
        db.session.add(profile)
    profile.display_name, profile.group, profile.bio = data.display_name, data.group, data.bio
    profile.industries, profile.skills, profile.district = data.industries, data.skills, data.district
    profile.availability = data.availability
    profile.capacity = data.capacity
    profile.updated_at = utcnow()
    user_id = user.id
    try:
        add_role(user, "mentor")
        db.session.flush()
    except IntegrityError:  # the form sent at the same moment (a double click) enrolled her first
        db.session.rollback()
        if not new and not _again:  # her role was added meanwhile: save it again, as an update
            return save_mentor_profile(db.session.get(User, user_id), data, _again=True)
        first = db.session.scalar(select(MentorProfile).where(MentorProfile.user_id == user_id)) if new else None
        if first is None:
            raise
        log.info("mentor profile form sent again id=%s user=%s", first.id, user_id)
        return first
    if not new:
        # Capacity never drops below the load, even if a case was accepted since we read it.
        db.session.execute(update(MentorProfile).where(MentorProfile.id == profile.id,
                                                       MentorProfile.current_load > data.capacity)
                           .values(capacity=MentorProfile.current_load).execution_options(synchronize_session=False))
    db.session.commit()
    log.info("mentor profile %s id=%s user=%s", "enrolled" if new else "updated", profile.id, user.id)
    if new:
        from market.notifications import tell_staff_to_approve

        tell_staff_to_approve(profile.display_name, "mentor", f"approval:mentor:{profile.id}")
        db.session.commit()
    elif profile.status == "approved":
        _refit()
    return profile


def _refit() -> None:
    from market.mentoring.matcher import request_refit

    request_refit()


def set_paused(user: User, paused: bool) -> MentorProfile:
    profile = mentor_profile(user)
    if profile is None:
        raise NotFound("mentor")
    profile.paused = bool(paused)  # availability: applied to the loaded matcher, no refit
    db.session.commit()
    log.info("mentor %s %s by herself", profile.id, "paused" if paused else "resumed")
    return profile


def review_mentor(staff: User, mentor_id: int, decision: str) -> MentorProfile:
    profile = get(MentorProfile, mentor_id)
    if profile is None:
        raise NotFound(mentor_id)
    if decision not in ("approved", "rejected"):
        raise MentoringError(_l("Unknown decision."))
    profile.status = decision
    profile.approved_at = utcnow() if decision == "approved" else None
    profile.updated_at = utcnow()
    db.session.commit()
    log.info("mentor %s %s by staff=%s", profile.id, decision, staff.id)
    _refit()
    return profile


def mentors_for_staff(status: str | None = None) -> list[MentorProfile]:
    stmt = select(MentorProfile).options(joinedload(MentorProfile.user)).order_by(MentorProfile.id)
    if status:
        stmt = stmt.where(MentorProfile.status == status)
    return list(db.session.scalars(stmt))


