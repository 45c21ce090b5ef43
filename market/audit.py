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
from dataclasses import dataclass
from datetime import UTC, datetime

from flask import has_request_context, request
from flask_babel import lazy_gettext as _l
from sqlalchemy import func, or_, select

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


def record_read(actor, action: str, obj, on_behalf_of=None) -> AuditEntry | None:
    """One read of someone's data (a case, a profile, an archive) by someone other than the
    person herself (callers skip her own reads): one row, committed at once, since a read has
    no transaction of its own. `action` names a read ("case.read") or an export."""
    if ".read" not in action and ".export" not in action:
        raise ValueError(f"{action!r} is not a read")
    return record(actor, action, obj, on_behalf_of, commit=True)


def entries_for(obj) -> list[AuditEntry]:
    """Every row about one object, oldest first."""
    object_type, object_id = _ref(obj)
    return list(db.session.scalars(select(AuditEntry).where(AuditEntry.object_type == object_type,
                                                            AuditEntry.object_id == object_id)
                                   .order_by(AuditEntry.id)))


def is_read(action: str) -> bool:
    return ".read" in action or ".export" in action


def viewers(obj, limit: int = 200) -> list[AuditEntry]:
    """Who read this object (cases, profiles, archives), newest first."""
    object_type, object_id = _ref(obj)
    return list(db.session.scalars(
        select(AuditEntry).where(AuditEntry.object_type == object_type, AuditEntry.object_id == object_id,
                                 or_(AuditEntry.action.like("%.read%"), AuditEntry.action.like("%.export%")))
        .order_by(AuditEntry.id.desc()).limit(limit)))


def may_audit(user) -> bool:
    """The audit permission: a role staff grant ("auditor"), held by a member of staff."""
    return bool(user and getattr(user, "is_authenticated", False) and user.is_staff and user.has_role("auditor"))


@dataclass
class Search:
    """What the audit log page filters on (every field optional)."""

    actor_id: int | None = None
    action: str = ""  # a prefix: "case." or "case.read"
    object_type: str = ""
    object_id: int | None = None
    behalf_type: str = ""
    behalf_id: int | None = None
    start: datetime | None = None  # naive UTC, inclusive
    end: datetime | None = None  # naive UTC, exclusive
    reads_only: bool = False


def search(q: Search, *, page: int = 1, per_page: int = 100) -> tuple[list[AuditEntry], int]:
    """Rows matching `q`, newest first, one page, and how many match in all."""
    stmt = select(AuditEntry)
    if q.actor_id is not None:
        stmt = stmt.where(AuditEntry.actor_id == q.actor_id)
    if q.action:
        stmt = stmt.where(AuditEntry.action.startswith(q.action, autoescape=True))
    if q.object_type:
        stmt = stmt.where(AuditEntry.object_type == q.object_type)
    if q.object_id is not None:
        stmt = stmt.where(AuditEntry.object_id == q.object_id)
    if q.behalf_type:
        stmt = stmt.where(AuditEntry.on_behalf_of_type == q.behalf_type)
    if q.behalf_id is not None:
        stmt = stmt.where(AuditEntry.on_behalf_of_id == q.behalf_id)
    if q.start is not None:
        stmt = stmt.where(AuditEntry.at >= q.start)
    if q.end is not None:
        stmt = stmt.where(AuditEntry.at < q.end)
    if q.reads_only:
        stmt = stmt.where(or_(AuditEntry.action.like("%.read%"), AuditEntry.action.like("%.export%")))
    total = db.session.scalar(select(func.count()).select_from(stmt.subquery())) or 0
    page = max(page, 1)
    rows = list(db.session.scalars(stmt.order_by(AuditEntry.id.desc()).limit(per_page).offset((page - 1) * per_page)))
    return rows, total


# What the log's action codes mean, for people (the rest show their code).
ACTION_LABELS = {
    "case.read": _l("Read the case"),
    "case.read.contact": _l("Read the case and her contact"),
    "case.file": _l("Filed the case"),
    "case.propose": _l("Proposed the case"),
    "case.open": _l("Opened the proposed case"),
    "case.dismiss": _l("Dismissed the proposed case"),
    "case.ask": _l("Asked a mentor"),
    "case.ask_lead": _l("Asked a mentor"),
    "case.ask_second": _l("Asked a second mentor"),
    "case.withdraw_ask": _l("Withdrew an ask"),
    "case.reassign": _l("Reassigned the case"),
    "case.log": _l("Wrote in the case log"),
    "case.close": _l("Closed the case"),
    "case.verify": _l("Signed off the case"),
    "case.reopen": _l("Reopened the case"),
    "case.not_yet": _l("Sent the case back to the mentor"),
    "case.escalate.staff": _l("Escalated to the staff of its area"),
    "case.escalate.supervisor": _l("Escalated to a supervisor"),
    "cases.export": _l("Exported the cases"),
    "cases.export.csv": _l("Exported the cases (CSV)"),
    "cases.export.xlsx": _l("Exported the cases (XLSX)"),
    "cases.export.log": _l("Exported the case log (CSV)"),
    "profile.read": _l("Read her profile"),
    "profile.create": _l("Created her profile"),
    "profile.merge": _l("Merged profiles"),
    "profile.claim": _l("Claimed her profile"),
    "profile.link": _l("Linked her account"),
    "profile.export": _l("Exported her data"),
    "profile.anonymise": _l("Anonymised her data"),
    "difficulty.update": _l("Updated a difficulty"),
    "area.grant": _l("Gave responsibility for an area"),
    "area.revoke": _l("Took back responsibility for an area"),
    "audit.search": _l("Searched the audit log"),
}
PREFIX_LABELS = {
    "consent.give": _l("Recorded consent given"),
    "consent.withdraw": _l("Recorded consent withdrawn"),
    "role.grant": _l("Granted a role"),
    "role.revoke": _l("Revoked a role"),
}


def action_label(action: str) -> str:
    if action in ACTION_LABELS:
        return str(ACTION_LABELS[action])
    for prefix, text in PREFIX_LABELS.items():
        if action.startswith(prefix + "."):
            return f"{text} ({action[len(prefix) + 1:]})"
    return action


def actor_names(entries) -> dict[int, str]:
    """{user id: name} for the actors of these rows (the log holds ids only)."""
    from market.models import User

    ids = {e.actor_id for e in entries if e.actor_id}
    if not ids:
        return {}
    return dict(db.session.execute(select(User.id, User.name).where(User.id.in_(ids))).all())
