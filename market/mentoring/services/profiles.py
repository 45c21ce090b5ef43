"""Profiles of women the federation helps, with or without an account: created by staff or a
committee member (执委) when filing on her behalf, flagged when two share a phone, claimed
when she registers with that phone (or staff link her account), exported and anonymised in
place when she asks for her data to be deleted (PIPL)."""
from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select, update

from market import areas, audit
from market.extensions import db
from market.mentoring.services.common import MentoringError, NotFound, get, log, utcnow
from market.models import Area, Case, CaseDifficulty, CaseEntry, ClientProfile, User

ANONYMISED = "已匿名"


def normalise_phone(raw: str | None) -> str | None:
    """Digits only; a leading +86/86 country code dropped. None when empty; MentoringError
    when it cannot be a Chinese mobile or landline number."""
    # NFKC first: full-width digits from a Chinese input method (１３８…) become ASCII ones.
    digits = re.sub(r"[^0-9]", "", unicodedata.normalize("NFKC", raw or ""))
    if not digits:
        return None
    if len(digits) == 13 and digits.startswith("86"):
        digits = digits[2:]
    if not 7 <= len(digits) <= 12:
        raise MentoringError(_l("Enter a phone number of 7 to 12 digits."))
    return digits


def may_file_for_others(user: User) -> bool:
    return user.is_staff or user.has_role("committee")


@dataclass
class ProfileData:
    name: str
    phone: str
    area_id: int | None = None
    district: str = ""
    business_kind: str = ""

    def cleaned(self) -> ProfileData:
        name = " ".join((self.name or "").split())
        if not 1 <= len(name) <= 80:
            raise MentoringError(_l("Enter her name (at most 80 characters)."))
        phone = normalise_phone(self.phone)
        if phone is None:
            raise MentoringError(_l("Enter her phone number, so she can be reached and claim her profile later."))
        area_id = self.area_id if self.area_id else None
        district = self.district or ""
        if area_id is not None:
            area = get(Area, area_id)
            if area is None:
                raise MentoringError(_l("Choose her village or community."))
            # Her district is the district above the chosen area.
            top = area
            while top.parent_id is not None:
                top = db.session.get(Area, top.parent_id)
            district = top.name
        if district and not areas.is_district(district):
            raise MentoringError(_l("Choose your district or county."))
        kind = " ".join((self.business_kind or "").split())
        if len(kind) > 80:
            raise MentoringError(_l("Describe her business in at most 80 characters."))
        return ProfileData(name, phone, area_id, district, kind)


def create_profile(actor: User, data: ProfileData) -> ClientProfile:
    if not may_file_for_others(actor):
        raise NotFound("profile")
    data = data.cleaned()
    profile = ClientProfile(name=data.name, phone=data.phone, area_id=data.area_id, district=data.district,
                            business_kind=data.business_kind, created_by_id=actor.id, created_at=utcnow())
    db.session.add(profile)
    db.session.flush()
    audit.record(actor, "profile.create", profile, on_behalf_of=profile)
    return profile


def visible_profile(user: User, profile_id: int) -> ClientProfile:
    """Staff see every profile; a committee member those she created."""
    profile = get(ClientProfile, profile_id)
    if profile is None or not (user.is_staff or (user.has_role("committee") and profile.created_by_id == user.id)):
        raise NotFound(profile_id)
    return profile


def read_profile(user: User, profile_id: int) -> ClientProfile:
    """Her profile page for staff or the committee member who created it; the read is
    recorded in the audit log (unless she reads her own)."""
    profile = visible_profile(user, profile_id)
    if profile.user_id != user.id:
        audit.record_read(user, "profile.read", profile, on_behalf_of=profile)
    return profile


def profiles_for(user: User) -> list[ClientProfile]:
    stmt = select(ClientProfile).order_by(ClientProfile.id.desc())
    if not user.is_staff:
        stmt = stmt.where(ClientProfile.created_by_id == user.id)
    return list(db.session.scalars(stmt))


def duplicate_phones() -> dict[str, list[ClientProfile]]:
    """Profiles sharing a phone number: flagged for staff to merge."""
    dup = select(ClientProfile.phone).where(ClientProfile.phone.is_not(None)).group_by(ClientProfile.phone) \
        .having(func.count() > 1)
    groups: dict[str, list[ClientProfile]] = {}
    for profile in db.session.scalars(select(ClientProfile).where(ClientProfile.phone.in_(dup))
                                      .order_by(ClientProfile.phone, ClientProfile.id)):
        groups.setdefault(profile.phone, []).append(profile)
    return groups


def merge_profiles(staff: User, keep_id: int, merge_id: int) -> ClientProfile:
    """Move every case of one profile to another (same woman, filed twice) and remove it."""
    if not staff.is_staff:
        raise NotFound(keep_id)
    keep, other = get(ClientProfile, keep_id), get(ClientProfile, merge_id)
    if keep is None or other is None or keep.id == other.id:
        raise NotFound(merge_id)
    if keep.user_id and other.user_id and keep.user_id != other.user_id:
        raise MentoringError(_l("These profiles belong to two different accounts."))
    user_id = keep.user_id or other.user_id
    db.session.execute(update(Case).where(Case.profile_id == other.id).values(profile_id=keep.id)
                       .execution_options(synchronize_session=False))
    if user_id:
        db.session.execute(update(Case).where(Case.profile_id == keep.id, Case.author_id.is_(None))
                           .values(author_id=user_id).execution_options(synchronize_session=False))
    other_user = other.user_id
    db.session.delete(other)
    db.session.flush()
    if other_user and not keep.user_id:
        keep.user_id, keep.claimed_at = other_user, utcnow()
    audit.record(staff, "profile.merge", keep, on_behalf_of=keep)
    db.session.commit()
    log.info("profile %s merged into %s by staff=%s", merge_id, keep.id, staff.id)
    return keep


def _claim(profile: ClientProfile, user: User) -> None:
    profile.user_id, profile.claimed_at = user.id, utcnow()
    db.session.execute(update(Case).where(Case.profile_id == profile.id, Case.author_id.is_(None))
                       .values(author_id=user.id).execution_options(synchronize_session=False))


def claim_profiles(user: User) -> list[ClientProfile]:
    """She registered (or added her phone): profiles filed for her with that phone become
    hers, with their cases."""
    try:
        phone = normalise_phone(user.phone)
    except MentoringError:
        return []
    if phone is None:
        return []
    found = list(db.session.scalars(select(ClientProfile).where(ClientProfile.phone == phone,
                                                               ClientProfile.user_id.is_(None),
                                                               ClientProfile.anonymised_at.is_(None))))
    for profile in found:
        _claim(profile, user)
        audit.record(user, "profile.claim", profile)
    if found:
        from market.mentoring.services.common import add_role

        add_role(user, "entrepreneur")
        db.session.commit()
        log.info("user %s claimed profile(s) %s", user.id, [p.id for p in found])
    return found


def link_account(staff: User, profile_id: int, email: str) -> ClientProfile:
    from market.accounts.services import find_user_by_email

    if not staff.is_staff:
        raise NotFound(profile_id)
    profile = get(ClientProfile, profile_id)
    if profile is None:
        raise NotFound(profile_id)
    user = find_user_by_email(email or "")
    if user is None:
        raise MentoringError(_l("No account has this email."))
    if profile.user_id is not None:
        raise MentoringError(_l("This profile already belongs to an account."))
    if db.session.scalar(select(ClientProfile.id).where(ClientProfile.user_id == user.id)) is not None:
        raise MentoringError(_l("This account already has a profile; merge the two instead."))
    _claim(profile, user)
    audit.record(staff, "profile.link", profile, on_behalf_of=profile)
    from market.mentoring.services.common import add_role

    add_role(user, "entrepreneur")
    db.session.commit()
    return profile


def export_profile(staff: User, profile_id: int) -> dict:
    """Everything the help desk holds about her, for her (PIPL access / before deletion)."""
    if not staff.is_staff:
        raise NotFound(profile_id)
    profile = get(ClientProfile, profile_id)
    if profile is None:
        raise NotFound(profile_id)
    cases = list(db.session.scalars(select(Case).where(Case.profile_id == profile.id).order_by(Case.id)))
    out = {
        "profile": {"id": profile.id, "name": profile.name, "phone": profile.phone, "district": profile.district,
                    "area": profile.area.name if profile.area else "", "business_kind": profile.business_kind,
                    "created_at": _iso(profile.created_at)},
        "cases": [{
            "id": c.id, "status": c.status, "channel": c.channel, "business_name": c.business_name,
            "industry": c.industry, "stage": c.stage, "district": c.district, "description": c.description,
            "contact_phone": c.contact_phone, "contact_wechat": c.contact_wechat, "created_at": _iso(c.created_at),
            "outcome": c.outcome, "rating": c.rating,
            "difficulties": [{"code": d.code, "status": d.status, "measures": d.measures, "result": d.result}
                             for d in c.difficulty_items],
            "log": [{"kind": e.kind, "on": e.happened_on.isoformat() if e.happened_on else "", "text": e.body}
                    for e in c.entries],
            "consents": [{"scope": k.scope, "given": k.given, "method": k.method, "at": _iso(k.created_at)}
                         for k in c.consents],
        } for c in cases],
    }
    audit.record(staff, "profile.export", profile, on_behalf_of=profile, commit=True)
    return out


def anonymise_profile(staff: User, profile_id: int) -> ClientProfile:
    """Her request to be forgotten: names, phone and free text erased in place; ids, codes,
    statuses, dates and counts kept, so the federation's figures stay true."""
    if not staff.is_staff:
        raise NotFound(profile_id)
    profile = get(ClientProfile, profile_id)
    if profile is None:
        raise NotFound(profile_id)
    case_ids = list(db.session.scalars(select(Case.id).where(Case.profile_id == profile.id)))
    profile.name, profile.phone, profile.business_kind, profile.anonymised_at = ANONYMISED, None, "", utcnow()
    if case_ids:
        db.session.execute(update(Case).where(Case.id.in_(case_ids)).values(
            business_name=ANONYMISED, description="", contact_phone="", contact_wechat="", outcome="",
            proposed_reason="", dismissed_reason="").execution_options(synchronize_session=False))
        db.session.execute(update(CaseDifficulty).where(CaseDifficulty.case_id.in_(case_ids))
                           .values(measures="", result="").execution_options(synchronize_session=False))
        db.session.execute(update(CaseEntry).where(CaseEntry.case_id.in_(case_ids), CaseEntry.kind != "status")
                           .values(body="").execution_options(synchronize_session=False))
        # Consent rows hold no personal data: kept, they show what was allowed when.
    audit.record(staff, "profile.anonymise", profile, on_behalf_of=profile)
    db.session.commit()
    log.info("profile %s anonymised by staff=%s (%s cases)", profile.id, staff.id, len(case_ids))
    return profile


def _iso(value) -> str:
    return value.isoformat(timespec="minutes") if value else ""


def _on_registered(user: User, **_kwargs) -> None:
    claim_profiles(user)


# Accounts know nothing of the help desk: a new account claims her profiles through a signal.
from market import signals  # noqa: E402

signals.user_registered.connect(_on_registered)


def cases_of_profile(profile: ClientProfile) -> list[Case]:
    return list(db.session.scalars(select(Case).where(Case.profile_id == profile.id).order_by(Case.id.desc())))
