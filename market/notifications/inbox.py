"""Her in-app notices: the list, opening one (marks it read, keeps the unread counter), the
preferences she chose, and what staff see of failed deliveries."""
from __future__ import annotations

from sqlalchemy import delete, func, select, update

from market import clock
from market.extensions import db
from market.models import Notice, NoticePreference, User
from market.notifications.kinds import KINDS

PAGE = 30
CHANNELS = ("inapp", "mail", "sms")
NOT_CHOSEN = {"delivery_failed"}  # staff always see failed deliveries


def inbox(user: User, page: int = 1) -> list[Notice]:
    page = max(1, min(page, 1000))
    return db.session.execute(select(Notice).where(Notice.user_id == user.id, Notice.channel == "inapp")
                              .order_by(Notice.id.desc()).offset((page - 1) * PAGE).limit(PAGE + 1)).scalars().all()


def open_notice(user: User, notice_id: int) -> Notice | None:
    """Her notice, marked read (the counter drops once, however often it is opened)."""
    notice = db.session.get(Notice, notice_id)
    if notice is None or notice.user_id != user.id or notice.channel != "inapp":
        return None
    marked = db.session.execute(update(Notice).where(Notice.id == notice_id, Notice.read_at.is_(None))
                                .values(read_at=clock.now()).execution_options(synchronize_session=False)).rowcount
    if marked:
        db.session.execute(update(User).where(User.id == user.id, User.unread_notices > 0)
                           .values(unread_notices=User.unread_notices - 1).execution_options(synchronize_session=False))
    db.session.commit()
    return notice


def read_all(user: User) -> int:
    marked = db.session.execute(update(Notice).where(Notice.user_id == user.id, Notice.channel == "inapp",
                                                     Notice.read_at.is_(None))
                                .values(read_at=clock.now()).execution_options(synchronize_session=False)).rowcount
    recount(user.id)
    db.session.commit()
    return marked


def recount(user_id: int) -> None:
    """Set the counter from the notices (after marking many read; repairs any drift)."""
    unread = select(func.count()).select_from(Notice).where(
        Notice.user_id == user_id, Notice.channel == "inapp", Notice.read_at.is_(None)).scalar_subquery()
    db.session.execute(update(User).where(User.id == user_id).values(unread_notices=unread)
                       .execution_options(synchronize_session=False))


def preference_table(user: User) -> list[dict]:
    """One row per kind: which channels are on, which she may change."""
    chosen = {(p.kind, p.channel): p.enabled for p in db.session.execute(
        select(NoticePreference).where(NoticePreference.user_id == user.id)).scalars()}
    rows = []
    for kind in KINDS.values():
        if kind.code in NOT_CHOSEN:
            continue
        cells = {}
        for ch in CHANNELS:
            if ch == "sms":
                on = chosen.get((kind.code, ch), False)
            else:
                on = kind.essential and ch in kind.channels or chosen.get((kind.code, ch), ch in kind.channels)
            cells[ch] = {"on": on, "locked": kind.essential and ch in kind.channels,
                         "available": ch != "sms" or bool(user.phone)}
        rows.append({"kind": kind, "cells": cells})
    return rows


def save_preferences(user: User, checked: set[tuple[str, str]], locale: str | None,
                     phone: str | None = None) -> None:
    """`checked`: the (kind, channel) boxes she left ticked (a browser sends only those).
    Only choices that differ from the default are stored. `phone`: her mobile for SMS (None
    removes it, and with it every SMS choice)."""
    had_phone = bool(user.phone)
    user.phone = phone
    db.session.execute(delete(NoticePreference).where(NoticePreference.user_id == user.id))
    for kind in KINDS.values():
        if kind.code in NOT_CHOSEN:
            continue
        for ch in CHANNELS:
            if kind.essential and ch in kind.channels:
                continue
            if ch == "sms" and not (user.phone and had_phone):
                continue  # no SMS boxes were on the page she submitted
            default = ch in kind.channels if ch != "sms" else False
            on = (kind.code, ch) in checked
            if on != default:
                db.session.add(NoticePreference(user_id=user.id, kind=kind.code, channel=ch, enabled=on))
    if locale is not None:
        user.locale = locale
    db.session.commit()


def unsubscribe(user_id: int, kind: str) -> bool:
    user = db.session.get(User, user_id)
    if user is None:
        return False
    db.session.merge(NoticePreference(user_id=user_id, kind=kind, channel="mail", enabled=False))
    db.session.commit()
    return True


def failed_notices(limit: int = 200) -> list[Notice]:
    return db.session.execute(select(Notice).where(Notice.status.in_(("failed", "retrying", "held")))
                              .order_by(Notice.id.desc()).limit(limit)).scalars().all()


def retry_failed(notice_id: int) -> bool:
    """Staff send a failed notice again (one more round of attempts)."""
    moved = db.session.execute(update(Notice).where(Notice.id == notice_id, Notice.status == "failed")
                               .values(status="retrying", attempts=0, next_attempt_at=clock.now())
                               .execution_options(synchronize_session=False)).rowcount
    db.session.commit()
    return bool(moved)


def recent_all(limit: int = 200) -> list[Notice]:
    return db.session.execute(select(Notice).order_by(Notice.id.desc()).limit(limit)).scalars().all()
