"""The area tree: district → town or street → village or community → grid, and who is
responsible for which area. The one source of districts for the whole app."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import CheckConstraint, ForeignKey, String, UniqueConstraint, func
from sqlalchemy.orm import Mapped, mapped_column, relationship

from market.extensions import db

AREA_LEVELS = ("district", "town", "village", "grid")


class Area(db.Model):
    __tablename__ = "areas"
    __table_args__ = (
        UniqueConstraint("parent_id", "name", name="uq_areas_parent_name"),
        CheckConstraint("level IN ('district', 'town', 'village', 'grid')", name="area_level"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    parent_id: Mapped[int | None] = mapped_column(ForeignKey("areas.id", ondelete="CASCADE"), index=True)
    level: Mapped[str] = mapped_column(String(10))
    # The official Chinese name is what other tables store for a district (stable, readable).
    name: Mapped[str] = mapped_column(String(40))
    name_en: Mapped[str] = mapped_column(String(80), default="")
    position: Mapped[int] = mapped_column(default=0)
    created_at: Mapped[datetime] = mapped_column(server_default=func.now())

    parent: Mapped[Area | None] = relationship(remote_side="Area.id")

    def label(self, lang: str) -> str:
        return self.name if lang == "zh" or not self.name_en else self.name_en


class AreaResponsibility(db.Model):
    """A staff member or committee member (执委) is responsible for an area and everything in it."""

    __tablename__ = "area_responsibilities"

    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), primary_key=True)
    area_id: Mapped[int] = mapped_column(ForeignKey("areas.id", ondelete="CASCADE"), primary_key=True, index=True)
    created_at: Mapped[datetime] = mapped_column(server_default=func.now())

    area: Mapped[Area] = relationship()
