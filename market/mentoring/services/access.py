"""Who the reader is to a case, and what she may see and do. Templates and views ask here
(`acc.can_close`, `acc.sees_details`) instead of repeating the rules."""
from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select

from market.extensions import db
from market.mentoring import states
from market.mentoring.services.common import NotFound, active_mentor_ids, load_case
from market.models import Case, MentorProfile, User


def mentor_profile(user: User) -> MentorProfile | None:
    return db.session.scalar(select(MentorProfile).where(MentorProfile.user_id == user.id))


@dataclass
class Access:
    """Who the viewer is to this case; decides what the page shows and allows."""

    status: str
    is_author: bool = False  # the woman herself
    is_filer: bool = False  # who filed it for her (a committee member who visited, staff)
    is_staff: bool = False
    is_supervisor: bool = False  # steps in on escalated cases: reads like staff, acts through staff
    is_mentor: bool = False  # a mentor working on it (lead or second)
    is_lead_mentor: bool = False
    is_asked: bool = False  # a mentor asked and not yet answered
    consent_to_share: bool = False
    consent_contact: bool = False
    on_behalf: bool = False  # filed for a woman without an account

    @property
    def may_see(self) -> bool:
        if self.status in ("proposed", "dismissed"):
            return self.is_staff or self.is_filer  # nobody has talked to her yet
        return (self.is_author or self.is_filer or self.is_staff or self.is_supervisor or self.is_mentor
                or self.is_asked)

    @property
    def sees_details(self) -> bool:
        """Her name, business and story: she, staff, supervisors, whoever filed it for her;
        mentors only with her consent."""
        return self.is_author or self.is_staff or self.is_supervisor or self.is_filer or (
            (self.is_mentor or self.is_asked) and self.consent_to_share)

    @property
    def sees_contact(self) -> bool:
        """Her phone and WeChat: whoever filed it for her and staff always; her mentors while
        she consents to share her contact."""
        return self.is_staff or self.is_supervisor or self.is_filer or (self.is_mentor and self.consent_contact)

    @property
    def can_change_consent(self) -> bool:
        """She herself, or whoever recorded it for her (staff, the committee member who filed)."""
        return self.is_author or self.is_filer or self.is_staff

    @property
    def consent_on_behalf(self) -> bool:
        return not self.is_author

    @property
    def closed(self) -> bool:
        return self.status in states.CLOSED_CASE_STATES

    @property
    def can_log(self) -> bool:
        return (self.is_author or self.is_staff or self.is_mentor or self.is_filer) and not self.closed \
            and self.status != "proposed"

    @property
    def log_kinds_all(self) -> bool:
        """Mentors, staff and committee members record follow-ups; she adds notes."""
        return self.is_mentor or self.is_staff or self.is_filer

    @property
    def can_ask(self) -> bool:
        """She, staff, or the committee member who filed it for her."""
        return (self.is_author or self.is_staff or self.is_filer) and self.status == "open"

    @property
    def can_resolve(self) -> bool:
        return self.is_author and self.status in ("matched", "in_progress")

    @property
    def can_propose_closure(self) -> bool:
        return self.is_mentor and self.status in ("matched", "in_progress")

    @property
    def can_confirm_closure(self) -> bool:
        return self.is_author and self.status == "closure_proposed"

    @property
    def can_verify(self) -> bool:
        """Staff sign off what she cannot (a case filed on her behalf), or for her."""
        return self.is_staff and self.status == "closure_proposed"

    @property
    def can_manage(self) -> bool:
        """Staff unstick a case: withdraw an ask, ask a named or second mentor, reassign."""
        return self.is_staff and self.status in states.ACTIVE_CASE_STATES

    @property
    def can_reopen(self) -> bool:
        return self.is_staff and self.status in ("resolved", "closed_unresolved")

    @property
    def can_close(self) -> bool:
        return (self.is_author or self.is_staff) and self.status in states.ACTIVE_CASE_STATES

    @property
    def can_update_difficulties(self) -> bool:
        return (self.is_mentor or self.is_staff) and self.status in states.MENTORED_CASE_STATES

    @property
    def can_open_proposed(self) -> bool:
        return self.is_staff and self.status == "proposed"


def access(user: User, case: Case) -> Access:
    mentor = mentor_profile(user) if user.has_role("mentor") else None
    working = active_mentor_ids(case)
    return Access(
        status=case.status,
        is_author=case.author_id is not None and case.author_id == user.id,
        is_filer=case.filed_by_id is not None and case.filed_by_id == user.id and case.author_id != user.id,
        is_staff=user.is_staff,
        is_supervisor=user.has_role("supervisor"),
        is_mentor=mentor is not None and mentor.id in working,
        is_lead_mentor=mentor is not None and case.mentor_id == mentor.id,
        is_asked=mentor is not None and any(i.mentor_id == mentor.id and i.status == "asked"
                                            for i in case.introductions),
        consent_to_share=case.consent_to_share,
        consent_contact=case.consent_contact,
        on_behalf=case.on_behalf,
    )


def visible_case(user: User, case_id: int) -> tuple[Case, Access]:
    """The case and the viewer's access, or NotFound for anyone who may not see it."""
    case = load_case(case_id)
    if case is None:
        raise NotFound(case_id)
    acc = access(user, case)
    if not acc.may_see:
        raise NotFound(case_id)  # never reveal that someone else's case exists
    return case, acc
