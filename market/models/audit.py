"""The audit log: one append-only table for the whole app (see market.audit)."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import Index, String, event
from sqlalchemy.orm import Mapped, Session, mapped_column

from market.extensions import db


class AuditEntry(db.Model):
    """Who did what to which object, on whose behalf, from which address, and when.

    Ids only: no names, phone numbers or free text, so the log itself never needs erasing
    when a woman asks for her data to be deleted. Rows are never updated or deleted."""

    __tablename__ = "audit_log"
    __table_args__ = (
        Index("ix_audit_log_object", "object_type", "object_id"),
        Index("ix_audit_log_on_behalf", "on_behalf_of_type", "on_behalf_of_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[datetime] = mapped_column(index=True)
    # No foreign keys: the log outlives what it names and must never block a deletion.
    actor_id: Mapped[int | None] = mapped_column(index=True)
    action: Mapped[str] = mapped_column(String(60))
    object_type: Mapped[str] = mapped_column(String(40))
    object_id: Mapped[int | None]
    on_behalf_of_type: Mapped[str | None] = mapped_column(String(40))
    on_behalf_of_id: Mapped[int | None]
    address: Mapped[str | None] = mapped_column(String(45))


@event.listens_for(Session, "before_flush")
def _append_only(session: Session, flush_context, instances) -> None:
    for obj in list(session.dirty) + list(session.deleted):
        if isinstance(obj, AuditEntry) and (obj in session.deleted or session.is_modified(obj)):
            raise RuntimeError("the audit log is append-only")
