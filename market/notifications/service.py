"""notify(recipient, kind, context): which channels, in which language, recorded once per
event, delivered after the caller's commit (a background job with Redis, inline otherwise),
retried with backoff, then marked failed and shown to staff."""
from __future__ import annotations

import logging
import uuid
from collections.abc import Mapping
from datetime import datetime, timedelta
from typing import Any

from flask import current_app
from flask_babel import force_locale
from sqlalchemy import event as sa_event
from sqlalchemy import select, update
from sqlalchemy.orm import Session

from market import clock, jobs
from market.extensions import db
from market.models import Case, ClientProfile, Notice, NoticePreference, User
from market.notifications.channels import public_url
from market.notifications.channels import send_mail as send_mail_notice
from market.notifications.kinds import KINDS, Kind
from market.notifications.sms import sender as sms_sender

log = logging.getLogger(__name__)

PENDING_KEY = "notices_to_deliver"


class _Blank(dict):
    """Formatting context where a missing field reads as empty, never KeyError."""

    def __missing__(self, key):
        return ""


# ---- what she has and what she chose ------------------------------------------------------

def locale_of(user: User | None) -> str:
    langs = current_app.config["LANGUAGES"]
    if user is not None and user.locale in langs:
        return user.locale
    return current_app.config["BABEL_DEFAULT_LOCALE"]


def choices(user: User) -> dict[tuple[str, str], bool]:
    rows = db.session.execute(select(NoticePreference).where(NoticePreference.user_id == user.id)).scalars()
    return {(p.kind, p.channel): p.enabled for p in rows}


def wants(kind: Kind, channel: str, chosen: Mapping[tuple[str, str], bool]) -> bool:
    """Her choice, else the kind's default. Essential kinds always use their channels."""
    if kind.essential and channel in kind.channels:
        return True
    return chosen.get((kind.code, channel), channel in kind.channels)


def sms_consented(profile: ClientProfile, case: Case | None) -> bool:
    """A woman without an account gets SMS only with consent in force: on this case, or on
    any of her cases when the notice is about none."""
    if case is not None:
        return bool(case.consent_sms)
    return db.session.scalar(select(Case.id).where(Case.profile_id == profile.id, Case.consent_sms.is_(True))
                             .limit(1)) is not None


def channels_for(recipient: User | ClientProfile, kind: Kind, case: Case | None = None) -> dict[str, str]:
    """Channel -> address ("" in-app) this notice goes to."""
    if isinstance(recipient, ClientProfile):
        if recipient.user_id is not None and recipient.user is not None:
            return channels_for(recipient.user, kind, case)
        if recipient.anonymised_at is None and recipient.phone and sms_consented(recipient, case):
            return {"sms": recipient.phone}
        return {}
    user = recipient
    if not user.active and not kind.essential:
        return {}
    chosen = choices(user)
    out = {}
    if wants(kind, "inapp", chosen):
        out["inapp"] = ""
    if user.email and wants(kind, "mail", chosen):
        out["mail"] = user.email
    # SMS to an account is opt-in per kind: turning it on is her consent.
    if user.phone and chosen.get((kind.code, "sms"), False):
        out["sms"] = user.phone
    return out


# ---- rendering ------------------------------------------------------------------------------

def render(kind: Kind, context: Mapping[str, Any], locale: str) -> dict[str, str]:
    """Subject, body and SMS text of `kind` in `locale`."""
    ctx = _Blank({k: ("" if v is None else v) for k, v in context.items()})
    ctx["url"] = public_url(str(context.get("url") or ""))
    with force_locale(locale):
        return {"subject": str(kind.subject) % ctx, "body": str(kind.body) % ctx, "sms": str(kind.sms) % ctx}


# ---- recording -------------------------------------------------------------------------------

def recipient_key(recipient: User | ClientProfile) -> str:
    if isinstance(recipient, ClientProfile):
        if recipient.user_id is not None:
            return f"user:{recipient.user_id}"
        return f"profile:{recipient.id}"
    return f"user:{recipient.id}"


def _insert_once(values: dict) -> int | None:
    """Insert the notice unless this event already reached her on this channel; its id or None."""
    dialect = db.session.get_bind().dialect.name
    if dialect == "postgresql":
        from sqlalchemy.dialects.postgresql import insert
    else:
        from sqlalchemy.dialects.sqlite import insert
    stmt = insert(Notice).values(**values).on_conflict_do_nothing(
        index_elements=["event", "recipient", "channel"]).returning(Notice.id)
    return db.session.execute(stmt).scalar()


def notify(recipient: User | ClientProfile | None, kind: str, context: Mapping[str, Any] | None = None, *,
           event: str | None = None) -> list[int]:
    """Tell `recipient` about `kind` on the channels she wants and has. Part of the caller's
    transaction: the notices are recorded now and delivered after the caller commits (nothing
    is sent for work that is rolled back). `event` makes it idempotent: the same event reaches
    one person once per channel. Returns the ids of the notices recorded now."""
    if recipient is None:
        return []
    spec = KINDS[kind]
    context = dict(context or {})
    case = context.pop("case", None)
    if case is not None:
        context.setdefault("case_id", case.id)
    event = (event or f"{kind}:{uuid.uuid4().hex}")[:120]
    user = recipient.user if isinstance(recipient, ClientProfile) and recipient.user_id else recipient
    locale = locale_of(user if isinstance(user, User) else None)
    texts = render(spec, context, locale)
    now = clock.now()
    who = recipient_key(recipient)
    created = []
    for channel, address in channels_for(recipient, spec, case).items():
        values = dict(event=event, recipient=who, kind=kind, channel=channel, address=address, locale=locale,
                      subject=texts["subject"][:200], body=texts["sms"] if channel == "sms" else texts["body"],
                      link=str(context.get("url") or "")[:300], created_at=now, attempts=0, last_error="",
                      user_id=user.id if isinstance(user, User) else None,
                      profile_id=recipient.id if isinstance(recipient, ClientProfile) else None,
                      status="sent" if channel == "inapp" else "queued",
                      sent_at=now if channel == "inapp" else None)
        notice_id = _insert_once(values)
        if notice_id is None:
            continue  # this event already reached her here
        created.append(notice_id)
        if channel == "inapp":
            db.session.execute(update(User).where(User.id == user.id)
                               .values(unread_notices=User.unread_notices + 1)
                               .execution_options(synchronize_session=False))
        else:
            db.session.info.setdefault(PENDING_KEY, []).append(notice_id)
    if created:
        log.info("notice %s (%s) to %s: %s", kind, event, who, len(created))
    return created


def after_the_fact(func):
    """For functions that notify after the event's own commit (signal receivers): a failure to
    record the notices is logged and rolled back, never raised into the caller, whose work is
    already done (a notice must not turn a payment into an error page)."""
    import functools

    @functools.wraps(func)
    def wrapped(*args, **kwargs):
        try:
            return func(*args, **kwargs)
        except Exception:  # noqa: BLE001
            log.exception("notices of %s could not be recorded", func.__name__)
            db.session.rollback()
            return None

    return wrapped


def staff_members() -> list[User]:
    """Every active member of the federation's staff."""
    from market.models import UserRole

    return list(db.session.scalars(select(User).join(UserRole).where(UserRole.role == "staff",
                                                                      User.active.is_(True))))


def tell_staff_to_approve(name: str, role: str, event: str) -> None:
    """A new artisan or mentor waits for approval: every staff member hears of it (the caller
    commits)."""
    from market import vocab

    notify_many(staff_members(), "approval_needed",
                {"name": name, "role": vocab.ROLE_LABELS[role], "url": "/staff/"}, event=event)


def notify_many(recipients, kind: str, context: Mapping[str, Any] | None = None, *, event: str | None = None) -> list[int]:
    ids = []
    for r in recipients:
        ids += notify(r, kind, context, event=event)
    return ids


@sa_event.listens_for(Session, "after_commit")
def _deliver_after_commit(session: Session) -> None:
    pending = session.info.pop(PENDING_KEY, None)
    if not pending:
        return
    for notice_id in pending:
        try:
            jobs.enqueue("deliver_notice", notice_id)
        except Exception:  # noqa: BLE001  the retry sweep picks it up; the caller's work is done
            log.exception("notice %s: delivery could not be started", notice_id)


@sa_event.listens_for(Session, "after_rollback")
def _forget_after_rollback(session: Session) -> None:
    session.info.pop(PENDING_KEY, None)


# ---- delivery ------------------------------------------------------------------------------

def retry_intervals() -> list[int]:
    raw = str(current_app.config.get("NOTIFY_RETRY_SECONDS", "60,300,1800"))
    return [int(x) for x in raw.split(",") if x.strip().isdigit()]


def quiet_until(now: datetime) -> datetime | None:
    """When SMS may be sent again if `now` (naive UTC) is in the quiet hours (Beijing time)."""
    raw = str(current_app.config.get("SMS_QUIET_HOURS") or "")
    try:
        start, end = (int(x) for x in raw.split("-"))
    except ValueError:
        return None
    local = now + clock.BEIJING
    hour = local.hour
    quiet = (start <= hour or hour < end) if start > end else (start <= hour < end)
    if not quiet or start == end:
        return None
    resume = local.replace(hour=end, minute=0, second=0, microsecond=0)
    if resume <= local:
        resume += timedelta(days=1)
    return resume - clock.BEIJING


def _send(notice: Notice) -> None:
    """Hand the notice to its channel; raises on failure."""
    if notice.channel == "mail":
        send_mail_notice(notice)
    elif notice.channel == "sms":
        sms_sender().send(notice.address, notice.body)


SENDING_LEASE = timedelta(minutes=10)


def deliver(notice_id: int, now: datetime | None = None) -> str | None:
    """Deliver one notice now (its own session: this runs after the caller's commit). Returns
    its new status, or None when this call did nothing (already sent, or another worker has it)."""
    now = now or clock.now()
    with Session(db.engine) as session:
        notice = session.get(Notice, notice_id)
        if notice is None:
            return None
        was = notice.status
        if was == "sending" and notice.next_attempt_at is not None and notice.next_attempt_at > now:
            return None  # another worker is sending it; its lease runs out if it died
        if was not in ("queued", "held", "retrying", "sending"):
            return None
        if notice.channel == "sms":
            resume = quiet_until(now)
            if resume is not None:
                notice.status, notice.next_attempt_at = "held", resume
                session.commit()
                return notice.status
        # Claim it (status and attempts as read), so two workers never send the same notice.
        claimed = session.execute(
            update(Notice).where(Notice.id == notice_id, Notice.status == was, Notice.attempts == notice.attempts)
            .values(status="sending", attempts=Notice.attempts + 1, next_attempt_at=now + SENDING_LEASE)
            .execution_options(synchronize_session=False)).rowcount
        session.commit()
        if not claimed:
            return None
        session.refresh(notice)
        try:
            _send(notice)
        except Exception as exc:  # noqa: BLE001  any failure of a channel is retried
            intervals = retry_intervals()
            notice.last_error = f"{type(exc).__name__}: {exc}"[:300]
            if notice.attempts > len(intervals):
                notice.status, notice.next_attempt_at = "failed", None
                log.error("notice %s (%s to %s) failed for good: %s", notice.id, notice.channel, notice.address,
                          notice.last_error)
                _tell_staff_of_failure(session, notice)
            else:
                notice.status = "retrying"
                notice.next_attempt_at = now + timedelta(seconds=intervals[notice.attempts - 1])
                log.warning("notice %s (%s) failed, retry at %s: %s", notice.id, notice.channel,
                            notice.next_attempt_at, notice.last_error)
            session.commit()
            return notice.status
        notice.status, notice.sent_at, notice.next_attempt_at = "sent", now, None
        session.commit()
        return "sent"


def _tell_staff_of_failure(session: Session, notice: Notice) -> None:
    """An in-app notice to every staff member (the failed list is on /notices/failed)."""
    from market.models import UserRole

    staff = session.execute(select(User).join(UserRole).where(UserRole.role == "staff", User.active.is_(True))
                            ).scalars().all()
    for person in staff:
        with force_locale(locale_of(person)):
            kind = KINDS["delivery_failed"]
            ctx = _Blank(channel=notice.channel, recipient=notice.recipient, kind=notice.kind,
                         error=notice.last_error, url="/notices/failed")
            session.add(Notice(event=f"delivery_failed:{notice.id}", recipient=f"user:{person.id}", user_id=person.id,
                               kind="delivery_failed", channel="inapp", locale=locale_of(person),
                               subject=str(kind.subject) % ctx, body=str(kind.body) % ctx, link="/notices/failed",
                               status="sent", created_at=clock.now(), sent_at=clock.now()))
        session.execute(update(User).where(User.id == person.id).values(unread_notices=User.unread_notices + 1))


@jobs.task("deliver_notice")
def _deliver_job(notice_id: int) -> str | None:
    return deliver(notice_id)


@jobs.task("deliver_due_notices", every=60)
def deliver_due(now: datetime | None = None) -> int:
    """Retries whose time has come, SMS held through quiet hours, and notices whose delivery
    was never started (a crash between commit and enqueue) or never finished (a worker that
    died while sending: its lease ran out)."""
    now = now or clock.now()
    stale = now - timedelta(minutes=5)
    ids = db.session.execute(select(Notice.id).where(
        ((Notice.status.in_(("held", "retrying", "sending"))) & (Notice.next_attempt_at <= now))
        | ((Notice.status == "queued") & (Notice.created_at <= stale))).order_by(Notice.id).limit(500)).scalars().all()
    db.session.commit()
    for notice_id in ids:
        deliver(notice_id, now)
    return len(ids)
