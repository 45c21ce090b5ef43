"""Every change of supply-chain matchmaking: organisations (register, review), the board (post,
close), quotes (send, accept, sign the deal or say why not), events (create, cancel, register,
request and refuse meetings, schedule, check in, feedback).

Accepting a quote moves the need with a conditional UPDATE (WHERE status = 'open'), so of two
accepts at the same moment exactly one wins; the loser gets a message, never a second deal.
Each change writes one audit line (market.audit.record) and tells the people concerned
(market.notifications.notify) in the same transaction.

This module is the package's one door: the operations live in a module per concern
(organisations, needs_offers, quotes_deals, events, event_meetings; what they share in common)
and are imported from here, so callers write `from market.supply import operations as ops`.
"""
from __future__ import annotations

from market.supply.common import MAX_ID, NotFound, SupplyError, get, is_member, organisations_of
from market.supply.event_meetings import (
    MUTUAL_FACTOR,
    STAFF_WEIGHT,
    give_feedback,
    request_meeting,
    schedule_event,
    schedule_input,
    staff_add_meeting,
)
from market.supply.events import EventData, cancel_event, check_in, create_event, eligible, register, withdraw
from market.supply.needs_offers import PostData, close_post, post
from market.supply.organisations import OrgData, add_member, review_organisation, save_organisation
from market.supply.quotes_deals import accept_quote, record_deal, send_quote

__all__ = [
    "MAX_ID", "MUTUAL_FACTOR", "STAFF_WEIGHT", "EventData", "NotFound", "OrgData", "PostData", "SupplyError",
    "accept_quote", "add_member", "cancel_event", "check_in", "close_post", "create_event", "eligible", "get",
    "give_feedback", "is_member", "organisations_of", "post", "record_deal", "register", "request_meeting",
    "review_organisation", "save_organisation", "schedule_event", "schedule_input", "send_quote",
    "staff_add_meeting", "withdraw",
]
