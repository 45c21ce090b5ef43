"""The audit log of the whole app: `record(actor, action, obj, on_behalf_of=None)`.

Called for every action taken on someone's behalf, every consent change and every read of a
case by someone other than the woman herself. The row holds ids only (who, which object, on
whose behalf), the action's name, the time and the client address: never names, phone
numbers or text, so erasing a person's data never has to touch the log.

`record` adds the row to the current transaction: it is committed with the action it
describes, or rolled back with it. For reads (no transaction of their own) pass
`commit=True`. The table is append-only (an ORM guard refuses updates and deletes; in
production grant the app's database role only INSERT and SELECT on it).
"""
from __future__ import annotations

import logging
import re
from datetime import UTC, datetime

from flask import has_request_context, request

from market.extensions import db
from market.models import AuditEntry

log = logging.getLogger(__name__)
_ACTION = re.compile(r"^[a-z][a-z0-9_.]{0,59}$")


def _ref(obj) -> tuple[str | None, int | None]:
    """A model instance, or a (type, id) pair, as (type, id). The type is the table name."""
    if obj is None:
        return None, None
    if isinstance(obj, tuple):
        kind, ident = obj
        return str(kind), (int(ident) if ident is not None else None)
    table = getattr(obj, "__tablename__", None)
    if table is None:
        raise TypeError(f"cannot audit a {type(obj).__name__}")
    return table, getattr(obj, "id", None)


def client_address() -> str | None:
    if not has_request_context():
        return None
    return (request.remote_addr or "")[:45] or None


def record(actor, action: str, obj, on_behalf_of=None, *, commit: bool = False) -> AuditEntry:
    """Append one row: `actor` (a User, an id or None for the system) did `action`
    (a dotted name such as "case.file" or "consent.withdraw") to `obj`, on behalf of
    `on_behalf_of` (a model instance or (type, id), e.g. an on-behalf profile)."""
    if not _ACTION.match(action or ""):
        raise ValueError(f"bad audit action {action!r}")
    object_type, object_id = _ref(obj)
    behalf_type, behalf_id = _ref(on_behalf_of)
    actor_id = getattr(actor, "id", actor)
    entry = AuditEntry(at=datetime.now(UTC).replace(tzinfo=None), actor_id=int(actor_id) if actor_id else None,
                       action=action, object_type=object_type or "", object_id=object_id,
                       on_behalf_of_type=behalf_type, on_behalf_of_id=behalf_id, address=client_address())
    db.session.add(entry)
    if commit:
        db.session.commit()
    log.info("audit %s %s:%s by=%s behalf=%s:%s", action, object_type, object_id, actor_id, behalf_type, behalf_id)
    return entry


def entries_for(obj) -> list[AuditEntry]:
    """Every row about one object, oldest first (the staff-queue issue adds search)."""
    from sqlalchemy import select

    object_type, object_id = _ref(obj)
    return list(db.session.scalars(select(AuditEntry).where(AuditEntry.object_type == object_type,
                                                            AuditEntry.object_id == object_id)
                                   .order_by(AuditEntry.id)))
