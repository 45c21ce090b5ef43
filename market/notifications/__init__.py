"""One notification service: `notify(recipient, kind, context)` chooses the channels (in-app,
mail, SMS) from her preferences and what she has, renders each in her language, records the
notice once per event and delivers it after the caller commits, retrying failures."""
from market.notifications.kinds import KINDS, Kind  # noqa: F401
from market.notifications.service import (  # noqa: F401
    after_the_fact,
    deliver,
    deliver_due,
    notify,
    notify_many,
    staff_members,
    tell_staff_to_approve,
)
