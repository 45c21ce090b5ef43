"""The mutual-aid help desk's rules and state changes, one module per concern. Views, the
CLI and other modules call these; nothing else changes mentoring rows.

- `common`: errors, the clock, compare-and-set status moves (checked against `states`)
- `access`: who the reader is to a case and what she may see and do
- `mentors`: enrolment, profile, pause, staff review
- `cases`: intake (her own, or on her behalf), proposed cases, resolution, closing
- `profiles`: women without an account, duplicates, claiming, export and anonymisation
- `consent`: consent records and recorded reads
- `difficulties`: each difficulty's status, measures and result
- `introductions`: suggestions, asks, answers, moving on
- `followups`: the typed case log and next follow-up dates
- `assignment`: staff's global capacity-aware assignment
- `needs`: needs read from her text (asked "right?"), staff's example phrasings of needs
- `loop`: expiry, withdraw, reassign, named and second mentors, a suspended mentor's asks
- `closure`: the mentor proposes closure, she confirms or staff verify, not yet, reopening
- `escalation`: overdue cases escalate, follow-up reminders, the `sweep()` job
- `mentor_teams`: teams for the case desk
- `notify`: mail
- `reports`: staff's case list (figures and exports: market.staff.reports, market.staff.exports)

Rules that keep people safe and the numbers true:
- A case is seen only by the woman, whoever filed it for her, staff, and the mentors asked or
  working on it (others get 404); proposed cases only by staff and whoever proposed them.
- A mentor's `current_load` changes only by conditional UPDATEs, so two accepts racing for
  her last slot cannot both win, on SQLite or PostgreSQL.
- A case has at most one mentor asked at a time; a decline moves on to the next suggestion.
"""
from market.mentoring.services.access import Access, access, mentor_profile, visible_case  # noqa: F401
from market.mentoring.services.assignment import (  # noqa: F401
    ProposedPair,
    confirm_assignment,
    propose_assignment,
    waiting_cases,
)
from market.mentoring.services.cases import (  # noqa: F401
    FILING_CHANNELS,
    ON_BEHALF_CHANNELS,
    CaseData,
    close_unresolved,
    dismiss_proposed,
    file_case,
    file_on_behalf,
    filed_by,
    my_cases,
    open_proposed,
    propose_case,
    resolve,
)
from market.mentoring.services.closure import (  # noqa: F401
    DifficultyResult,
    confirm_closure,
    not_yet,
    propose_closure,
    reopen,
    verify_closure,
)
from market.mentoring.services.common import (  # noqa: F401
    MentoringError,
    NotFound,
    responsible_staff,
    utcnow,
)
from market.mentoring.services.consent import history as consent_history  # noqa: F401
from market.mentoring.services.consent import record_read, set_consent  # noqa: F401
from market.mentoring.services.difficulties import update_difficulty  # noqa: F401
from market.mentoring.services.escalation import (  # noqa: F401
    due_this_week,
    escalate_case,
    escalate_overdue,
    sweep,
)
from market.mentoring.services.followups import (  # noqa: F401
    FOLLOW_UP_KINDS,
    LOG_LABELS,
    SYSTEM_LOG_KINDS,
    TYPED_KINDS,
    add_entry,
    timeline,
)
from market.mentoring.services.introductions import (  # noqa: F401
    SUGGESTIONS,
    accept,
    answer_need,  # noqa: F401, E402
    ask_mentor,
    decline,
    mentor_home,
    move_on,
    refresh_suggestions,
)
from market.mentoring.services.loop import (  # noqa: F401
    add_second_mentor,
    ask_named_mentor,
    expire_asks,
    reassign,
    withdraw_ask,
)
from market.mentoring.services.mentor_teams import ask_team, team_suggestions  # noqa: F401
from market.mentoring.services.mentors import (  # noqa: F401
    MentorData,
    mentors_for_staff,
    review_mentor,
    save_mentor_profile,
    set_paused,
)
from market.mentoring.services.needs import add_phrase, delete_phrase, pending_needs, phrases  # noqa: F401, E402
from market.mentoring.services.notify import notify_asked, notify_matched  # noqa: F401
from market.mentoring.services.profiles import (  # noqa: F401
    ProfileData,
    anonymise_profile,
    cases_of_profile,
    claim_profiles,
    duplicate_phones,
    export_profile,
    link_account,
    may_file_for_others,
    merge_profiles,
    normalise_phone,
    profiles_for,
    read_profile,
    visible_profile,
)
from market.mentoring.services.reports import (  # noqa: F401
    Dashboard,
    all_cases,
    dashboard,
    overdue_cases,
    overdue_count,
    overdue_days,
    overdue_ids,
)
from market.mentoring.services.team import Member, team_members  # noqa: F401
