"""Mentor groups as data: the teams of the 创业互助帮帮团 and their affinities to
difficulties, which the matcher receives as its `groups` parameter. The federation's three
teams (凤麓女工匠, 优秀女企业家, 女科技工作者) are the defaults."""
from __future__ import annotations

from flask import g, has_request_context
from flask_babel import get_locale
from sqlalchemy import select

from market.extensions import db
from market.models import MentorGroup
from matching.schema import DEFAULT_GROUP_AFFINITY, DEFAULT_GROUPS


def _lang() -> str:
    locale = get_locale()
    return "zh" if locale is None or locale.language == "zh" else "en"


def all_groups(active_only: bool = True) -> list[MentorGroup]:
    stmt = select(MentorGroup).order_by(MentorGroup.position, MentorGroup.code)
    if active_only:
        stmt = stmt.where(MentorGroup.active.is_(True))
    return list(db.session.scalars(stmt))


def labels() -> dict[str, tuple[str, str]]:
    """{code: (zh, en)} of every group, retired ones too (old profiles still show a name);
    read once per request."""
    if has_request_context() and "mentor_group_labels" in g:
        return g.mentor_group_labels
    found = {grp.code: (grp.name_zh, grp.name_en or grp.name_zh) for grp in all_groups(active_only=False)}
    if has_request_context():
        g.mentor_group_labels = found
    return found


def label(code: str, lang: str | None = None) -> str:
    pair = labels().get(code)
    if pair is None:
        return code
    return pair[0] if (lang or _lang()) == "zh" else pair[1]


def choices(lang: str | None = None) -> list[tuple[str, str]]:
    i = 0 if (lang or _lang()) == "zh" else 1
    return [(grp.code, (grp.name_zh, grp.name_en or grp.name_zh)[i]) for grp in all_groups()]


def is_group(code: str | None) -> bool:
    group = db.session.get(MentorGroup, code) if isinstance(code, str) and code else None
    return group is not None and group.active


def affinities() -> dict[str, dict[str, float]]:
    """The matcher's `groups` parameter: every group (retired ones too, so their mentors'
    profiles still index)."""
    return {grp.code: dict(grp.affinities or {}) for grp in all_groups(active_only=False)}


def seed_defaults() -> int:
    """Add the federation's three teams if there are no groups (idempotent)."""
    if db.session.scalar(select(MentorGroup.code).limit(1)) is not None:
        return 0
    for position, (code, (zh, en)) in enumerate(DEFAULT_GROUPS.items()):
        db.session.add(MentorGroup(code=code, name_zh=zh, name_en=en, position=position,
                                   affinities=dict(DEFAULT_GROUP_AFFINITY.get(code, {})), active=True))
    db.session.commit()
    return len(DEFAULT_GROUPS)
