"""The federation's people on the help desk: committee members (执委) and supervisors, with
the areas they are responsible for. Roles are granted through market.accounts.services."""
from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import selectinload

from market.extensions import db
from market.models import Area, AreaResponsibility, User, UserRole


@dataclass
class Member:
    user: User
    roles: list[str]
    areas: list[Area]


def team_members() -> list[Member]:
    users = list(db.session.scalars(
        select(User).join(UserRole, UserRole.user_id == User.id)
        .where(UserRole.role.in_(("committee", "supervisor", "staff"))).distinct().order_by(User.id)
        .options(selectinload(User.roles))
    ))
    links: dict[int, list[Area]] = {}
    for link in db.session.scalars(select(AreaResponsibility).where(AreaResponsibility.user_id.in_([u.id for u in users]))
                                   .options(selectinload(AreaResponsibility.area))):
        links.setdefault(link.user_id, []).append(link.area)
    return [Member(u, sorted(u.role_names & {"committee", "supervisor", "staff"}), links.get(u.id, [])) for u in users]
