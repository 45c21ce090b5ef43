"""Every kind of notice: its label on the preferences page, the channels it uses unless she
chose otherwise, and its text per channel (the subject is also the in-app title; the body is
the mail and the in-app text; SMS is short). Texts are gettext messages formatted with the
notice's context, so each is rendered in the reader's language."""
from __future__ import annotations

from dataclasses import dataclass

from flask_babel import lazy_gettext as _l


@dataclass(frozen=True)
class Kind:
    code: str
    label: object
    subject: object
    body: object
    sms: object
    channels: tuple[str, ...] = ("inapp", "mail")  # on unless she turns them off
    essential: bool = False  # cannot be turned off; mails carry no unsubscribe link


_KINDS = [
    # the closed-loop case
    Kind("case_new", _l("A new case in your area"), _l("A new case in your area: case %(case_id)s"),
         _l("A new request for help (case %(case_id)s) was filed in your area. Please look at it: %(url)s"),
         _l("New case %(case_id)s in your area.")),
    Kind("case_asked", _l("A request to be a mentor"), _l("An entrepreneur asks for your help"),
         _l("An entrepreneur has asked you to be her mentor. Please accept or decline at %(url)s"),
         _l("An entrepreneur asks for your help. Please answer on the help desk.")),
    Kind("case_declined", _l("A mentor declined your request"), _l("The mentor you asked cannot help this time"),
         _l("The mentor you asked for case %(case_id)s has declined. We are looking for another mentor for you; "
            "follow your case at %(url)s"),
         _l("The mentor for your case %(case_id)s declined; we are finding another.")),
    Kind("case_reasked", _l("Your request was passed to another mentor"),
         _l("Your request went to another mentor"),
         _l("The previous mentor did not answer in time, so your case %(case_id)s has been passed to another "
            "mentor. Follow it at %(url)s"),
         _l("Your case %(case_id)s was passed to another mentor.")),
    Kind("case_matched", _l("A mentor was matched"), _l("%(name)s will be your mentor"),
         _l("%(name)s has accepted your request for help. Follow your case at %(url)s"),
         _l("%(name)s will be your mentor. Details on the help desk.")),
    Kind("case_mentee", _l("You are now someone's mentor"), _l("You are now the mentor of case %(case_id)s"),
         _l("Thank you for accepting case %(case_id)s. Please plan your first follow-up at %(url)s"),
         _l("You are now the mentor of case %(case_id)s.")),
    Kind("case_expired", _l("An ask expired"), _l("An ask to a mentor expired on case %(case_id)s"),
         _l("A mentor did not answer the ask for case %(case_id)s in time. Please look at it: %(url)s"),
         _l("An ask expired on case %(case_id)s.")),
    Kind("case_escalated", _l("A case needs attention"), _l("A case needs attention: case %(case_id)s"),
         _l("Case %(case_id)s has had no follow-up on time. Please look at it on the help desk: %(url)s"),
         _l("Case %(case_id)s is overdue: please look at it.")),
    Kind("case_escalated_supervisor", _l("A case is still stuck"),
         _l("A case is still stuck: supervisor, please step in"),
         _l("Case %(case_id)s has had no follow-up on time. Please look at it on the help desk: %(url)s"),
         _l("Case %(case_id)s is still stuck: please step in.")),
    Kind("followup_due", _l("A follow-up is due"), _l("A follow-up is due on case %(case_id)s"),
         _l("Your follow-up for case %(case_id)s is due on %(due)s. Record it at %(url)s"),
         _l("Your follow-up for case %(case_id)s is due on %(due)s.")),
    Kind("closure_proposed", _l("Closure proposed"), _l("Your mentor proposes to close the case"),
         _l("The mentor says the difficulties are dealt with. Please confirm, or say what is still missing, "
            "on the case page (case %(case_id)s): %(url)s"),
         _l("Your mentor proposes to close case %(case_id)s. Please confirm or say what is missing.")),
    Kind("case_reopened", _l("A case was reopened"), _l("Case %(case_id)s was reopened"),
         _l("Case %(case_id)s was reopened: %(reason)s. Follow it at %(url)s"),
         _l("Case %(case_id)s was reopened.")),
    Kind("approval_needed", _l("Someone waits for approval"), _l("%(name)s waits for approval"),
         _l("%(name)s has asked to join as %(role)s. Please review the request at %(url)s"),
         _l("%(name)s waits for approval.")),
    # the shop
    Kind("order_paid", _l("Order paid"), _l("Order %(number)s is paid"),
         _l("Thank you! We have received your payment of %(amount)s. Follow your order at %(url)s"),
         _l("Order %(number)s is paid: %(amount)s.")),
    Kind("order_to_ship", _l("New order to ship"), _l("New order %(number)s to ship"),
         _l("Please ship these items to %(name)s:\n%(items)s\n%(url)s"),
         _l("New order %(number)s to ship.")),
    Kind("order_shipped", _l("Order shipped"), _l("Your order %(number)s has shipped"),
         _l("%(shop)s has shipped your items with %(carrier)s, tracking number %(tracking)s."),
         _l("Order %(number)s shipped: %(carrier)s %(tracking)s.")),
    Kind("refund_requested", _l("Refund requested"), _l("A refund is requested on order %(number)s"),
         _l("A refund of %(amount)s is requested on order %(number)s. Please answer at %(url)s"),
         _l("Refund requested on order %(number)s.")),
    Kind("refund_answered", _l("Refund answered"), _l("Your refund request on order %(number)s was answered"),
         _l("Your refund request on order %(number)s was answered: %(answer)s. Details at %(url)s"),
         _l("Refund on order %(number)s: %(answer)s.")),
    Kind("refund_done", _l("Refund made"), _l("Refund made on order %(number)s"),
         _l("%(amount)s has been refunded on order %(number)s."),
         _l("%(amount)s refunded on order %(number)s.")),
    Kind("review_request", _l("Asked to review what you bought"), _l("How was %(title)s?"),
         _l("Your parcel from %(shop)s (order %(number)s) arrived a few days ago. Would you tell other buyers "
            "how you like %(title)s? Write a review at %(url)s"),
         _l("How was %(title)s? Review it on Sisters Market.")),
    Kind("listing_hidden", _l("A product of yours was hidden by staff"), _l("%(title)s was hidden by staff"),
         _l("Federation staff have hidden %(title)s from the shop: %(reason)s. Please see %(url)s"),
         _l("%(title)s was hidden by staff: %(reason)s."), essential=True),
    Kind("payout_made", _l("Payout made"), _l("A payout of %(amount)s was made"),
         _l("A payout of %(amount)s was made to your shop. Statement at %(url)s"),
         _l("Payout of %(amount)s made.")),
    Kind("staff_digest", _l("Daily digest for staff"), _l("Today on the help desk"),
         _l("Since yesterday: %(summary)s\nThe help desk: %(url)s"),
         _l("Help desk today: %(summary)s"), channels=("mail",)),
    # supply-chain matchmaking and events (market.supply)
    Kind("supply_org_reviewed", _l("Your organisation was reviewed"), _l("Your organisation %(name)s was reviewed"),
         _l("The federation's staff have reviewed %(name)s. See it at %(url)s"),
         _l("%(name)s was reviewed.")),
    Kind("supply_quote", _l("A quote on your need"), _l("A quote on your need: %(title)s"),
         _l("%(name)s has sent a quote on your need “%(title)s”. Compare the quotes at %(url)s"),
         _l("New quote on “%(title)s”.")),
    Kind("supply_quote_accepted", _l("Your quote was accepted"), _l("Your quote was accepted: %(title)s"),
         _l("%(name)s has accepted your quote on “%(title)s”. Their contact details are at %(url)s"),
         _l("Your quote on “%(title)s” was accepted.")),
    Kind("supply_deal", _l("A deal was recorded"), _l("The deal on “%(title)s” was updated"),
         _l("The other side has said whether the deal on “%(title)s” was signed. See %(url)s"),
         _l("Deal on “%(title)s” updated.")),
    Kind("event_cancelled", _l("An event was cancelled"), _l("Cancelled: %(title)s"),
         _l("We are sorry: %(title)s is cancelled (%(reason)s). Details at %(url)s"),
         _l("%(title)s is cancelled."), essential=True),
    Kind("event_place", _l("A place at an event"), _l("You have a place at %(title)s"),
         _l("A place became free at %(title)s and it is yours: you are registered. Details at %(url)s"),
         _l("You have a place at %(title)s.")),
    Kind("event_agenda", _l("Your meeting agenda"), _l("Your agenda for %(title)s"),
         _l("Your meetings at %(title)s are scheduled (or changed). Your agenda, with times and tables: %(url)s"),
         _l("Your agenda for %(title)s is ready."), channels=("inapp", "mail", "sms")),
    # refund requests (market.returns) and payouts (market.ledger): money, so essential
    Kind("refund_request_opened", _l("A refund request on your shop"),
         _l("Refund request %(number)s for order %(order)s"),
         _l("A buyer asks for %(kind)s of %(amount)s (%(reason)s). Please answer by %(date)s at %(url)s"),
         _l("Refund request %(number)s: please answer by %(date)s."), essential=True),
    Kind("refund_request_update", _l("News of your refund request"),
         _l("Your refund request %(number)s: %(state)s"), _l("%(message)s\n%(url)s"),
         _l("Your refund request %(number)s: %(state)s"), essential=True),
    Kind("refund_request_decided", _l("A decision on a refund request to your shop"),
         _l("Refund request %(number)s: %(state)s"), _l("%(message)s\n%(url)s"),
         _l("Refund request %(number)s: %(state)s"), essential=True),
    Kind("refund_request_escalated", _l("A refund request waits for staff"),
         _l("Refund request %(number)s needs a decision"),
         _l("Refund request %(number)s on order %(order)s (%(amount)s) waits for staff: %(url)s"),
         _l("Refund request %(number)s needs a decision"), essential=True),
    Kind("payout_paid", _l("Payout sent"), _l("Payout of %(amount)s sent"),
         _l("We have paid you %(amount)s (bank reference %(reference)s). See your statement at "
            "/shop/statement"),
         _l("Payout of %(amount)s sent"), essential=True),
    Kind("payout_failed", _l("Payout failed"), _l("Payout of %(amount)s failed"),
         _l("Your payout of %(amount)s could not be made (%(reason)s); the amount is back on your "
            "balance. Please check your payout details at /shop/payout-details"),
         _l("Payout of %(amount)s failed"), essential=True),
    # training, lectures and job fairs (market.outreach)
    Kind("event_reminder", _l("A reminder of an event you signed up for"), _l("Tomorrow: %(title)s"),
         _l("A reminder: %(title)s is tomorrow, %(day)s, at %(place)s. Details at %(url)s"),
         _l("Reminder: %(title)s is tomorrow (%(day)s)."), channels=("inapp", "mail", "sms")),
    # failures staff must see
    Kind("delivery_failed", _l("A notice could not be delivered"), _l("A notice could not be delivered"),
         _l("A %(channel)s to %(recipient)s (%(kind)s) failed after every retry: %(error)s. See %(url)s"),
         _l("A notice could not be delivered."), channels=("inapp",)),
]

KINDS: dict[str, Kind] = {k.code: k for k in _KINDS}
