"""Organisations: register one (awaiting staff approval), change it, review it, add members."""
from __future__ import annotations

from dataclasses import dataclass

from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from market import audit, clock
from market.extensions import db
from market.models import Organisation, OrganisationMember, User
from market.supply.common import NotFound, SupplyError, clean, codes, count, get, is_member, notify_user
from matching.supply import CERTIFICATIONS, SUPPLY_CATEGORIES


@dataclass
class OrgData:
    name: str
    categories: list
    description: str = ""
    materials: str = ""
    capacity_month: int | None = None
    capacity_unit: str = ""
    min_order: int | None = None
    certifications: list = ()
    district: str = ""


def save_organisation(user: User, data: OrgData, org: Organisation | None = None) -> Organisation:
    """Register an organisation (awaiting staff approval; she becomes its contact and member)
    or change one she is a member of."""
    from market.areas.services import is_district

    name = " ".join((data.name or "").split())
    if not 2 <= len(name) <= 120:
        raise SupplyError(_l("Enter the organisation's name (2 to 120 characters)."), field="name")
    cats = codes(data.categories, SUPPLY_CATEGORIES, "categories")
    if not cats:
        raise SupplyError(_l("Choose at least one category."), field="categories")
    certs = codes(data.certifications, CERTIFICATIONS, "certifications")
    if data.district and not is_district(data.district):
        raise SupplyError(_l("Choose a district."), field="district")
    new = org is None
    if new:
        again = db.session.scalar(select(Organisation).where(Organisation.contact_id == user.id,
                                                             Organisation.name == name)
                                  .order_by(Organisation.id.desc()).limit(1))
        if again is not None:  # the registration sent twice: the organisation it registered
            return again
        org = Organisation(contact_id=user.id, status="pending")
        artisan = getattr(user, "artisan", None)
        if artisan is not None:
            org.artisan_id = artisan.id
        db.session.add(org)
    elif not (is_member(user, org) or user.is_staff):
        raise NotFound(org.id)
    org.name = name
    org.categories = cats
    org.description = clean(data.description, 4000)
    org.materials = clean(data.materials, 2000)
    org.capacity_month = count(data.capacity_month, "capacity_month")
    org.capacity_unit = clean(data.capacity_unit, 20)
    org.min_order = count(data.min_order, "min_order")
    org.certifications = certs
    org.district = data.district or ""
    db.session.flush()
    if new:
        db.session.add(OrganisationMember(organisation_id=org.id, user_id=user.id))
        audit.record(user, "supply.org_register", org)
        from market.notifications import notify_many, staff_members

        notify_many(staff_members(), "approval_needed", {"name": org.name, "role": _l("an organisation"),
                                                         "url": "/staff/organisations"},
                    event=f"approval:organisation:{org.id}")
    else:
        audit.record(user, "supply.org_update", org)
    db.session.commit()
    return org


def review_organisation(staff: User, org_id: int, decision: str) -> Organisation:
    org = get(Organisation, org_id)
    if decision not in ("approved", "rejected"):
        raise SupplyError(_l("Unknown decision."))
    org.status = decision
    org.reviewed_by_id = staff.id
    org.reviewed_at = clock.now()
    audit.record(staff, f"supply.org_{decision}", org)
    notify_user(org.contact, "supply_org_reviewed", {"name": org.name, "url": f"/supply/organisations/{org.id}",
                                                 "decision": decision})
    db.session.commit()
    return org


def add_member(actor: User, org_id: int, email: str) -> OrganisationMember:
    org = get(Organisation, org_id)
    if not (is_member(actor, org) or actor.is_staff):
        raise NotFound(org_id)
    user = db.session.scalar(select(User).where(User.email == (email or "").strip().lower()))
    if user is None:
        raise SupplyError(_l("No account has this e-mail address."), field="email")
    if db.session.get(OrganisationMember, (org.id, user.id)) is None:
        db.session.add(OrganisationMember(organisation_id=org.id, user_id=user.id))
        audit.record(actor, "supply.org_member_add", org)
        db.session.commit()
    return db.session.get(OrganisationMember, (org.id, user.id))
