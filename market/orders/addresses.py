"""A signed-in buyer's address book: add, edit, delete, make default; picked at checkout.
Every entry passes the same rules as a checkout address (a mainland China mobile number)."""
from __future__ import annotations

from flask import current_app
from flask_babel import lazy_gettext as _l
from sqlalchemy import case, delete, func, select, update
from sqlalchemy.exc import IntegrityError

from market.extensions import db
from market.models import SavedAddress, User
from market.orders.errors import NotFound, OrderError
from market.orders.services import Address


def for_user(user: User) -> list[SavedAddress]:
    return list(db.session.scalars(select(SavedAddress).where(SavedAddress.user_id == user.id)
                                   .order_by(SavedAddress.is_default.desc(), SavedAddress.id)))


def get(user: User, address_id: int) -> SavedAddress:
    entry = db.session.get(SavedAddress, address_id)
    if entry is None or entry.user_id != user.id:
        raise NotFound(address_id)  # someone else's entry is no entry
    return entry


def _same(user_id: int, clean: Address) -> SavedAddress | None:
    return db.session.scalar(select(SavedAddress).where(
        SavedAddress.user_id == user_id, SavedAddress.name == clean.name, SavedAddress.phone == clean.phone,
        SavedAddress.address == clean.address))


def add(user: User, address: Address, *, default: bool = False) -> SavedAddress:
    """Save an address; the same address again (the form sent twice, even at the same moment:
    a unique constraint) is the entry already there."""
    clean = address.cleaned()
    user_id = user.id
    limit = int(current_app.config.get("MAX_SAVED_ADDRESSES", 20))
    count = db.session.scalar(select(func.count()).select_from(SavedAddress).where(SavedAddress.user_id == user_id)) or 0
    existing = _same(user_id, clean)
    if existing is None:
        if count >= limit:
            raise OrderError(_l("Your address book is full (%(n)s addresses). Delete one first.", n=limit))
        entry = SavedAddress(user_id=user_id, name=clean.name, phone=clean.phone, address=clean.address,
                             is_default=default or count == 0)
        db.session.add(entry)
        try:
            db.session.flush()
        except IntegrityError:  # the same form, sent at the same moment, saved it first
            db.session.rollback()
            existing = _same(user_id, clean)
        else:
            if entry.is_default:
                _only_default(user_id, entry.id)
            db.session.commit()
            return entry
    if default:  # the same address again: nothing new
        make_default(user, existing.id)
    return existing


def edit(user: User, address_id: int, address: Address, *, default: bool = False) -> SavedAddress:
    entry = get(user, address_id)
    clean = address.cleaned()
    other = _same(user.id, clean)
    if other is not None and other.id != entry.id:
        raise OrderError(_l("This address is in your address book already."))
    entry.name, entry.phone, entry.address = clean.name, clean.phone, clean.address
    if default:
        entry.is_default = True
        _only_default(user.id, entry.id)
    db.session.commit()
    return entry


def remove(user: User, address_id: int) -> None:
    entry = get(user, address_id)
    was_default = entry.is_default
    db.session.execute(delete(SavedAddress).where(SavedAddress.id == entry.id))
    if was_default:  # the oldest remaining one becomes the default
        first = db.session.scalar(select(SavedAddress.id).where(SavedAddress.user_id == user.id)
                                  .order_by(SavedAddress.id).limit(1))
        if first is not None:
            _only_default(user.id, first)
    db.session.commit()


def make_default(user: User, address_id: int) -> None:
    get(user, address_id)
    _only_default(user.id, address_id)
    db.session.commit()


def _only_default(user_id: int, address_id: int) -> None:
    db.session.execute(update(SavedAddress).where(SavedAddress.user_id == user_id)
                       .values(is_default=case((SavedAddress.id == address_id, True), else_=False))
                       .execution_options(synchronize_session=False))
