"""The archive per woman (家庭档案): her profile, visits, cases, consents and shop sales, and
the photos of her visits. Every read by someone other than herself is in the audit log."""
from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import func, select

from market import audit
from market.extensions import db
from market.models import Artisan, Case, CaseConsent, ClientProfile, OutreachContact, User, Visit
from market.outreach.common import NotFound, get_row
from market.outreach.contacts import contact_of
from market.outreach.visits import photo_folder, visits_of


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
    profile = get_row(ClientProfile, profile_id)
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


def visit_photo(reader: User, visit_id: int) -> tuple[str, str]:
    """(folder, file name) of a visit's photo, for a reader of her archive (others' reads audited)."""
    visit = get_row(Visit, visit_id)
    if visit is None or not visit.photo or not reader.is_authenticated:
        raise NotFound(visit_id)
    profile = db.session.get(ClientProfile, visit.profile_id)
    if not may_read_archive(reader, profile):
        raise NotFound(visit_id)
    if profile.user_id != reader.id:
        audit.record(reader, "archive.photo_read", visit, on_behalf_of=profile, commit=True)
    return str(photo_folder()), visit.photo

