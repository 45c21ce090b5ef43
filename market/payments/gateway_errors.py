"""What the payments API's errors mean, in the reader's language: Stripe's error codes and
decline codes mapped to gettext messages. The API's own English text (e.g. "Bad request") is
never shown to a buyer; it goes to the log."""
from __future__ import annotations

from flask_babel import lazy_gettext as _l

GENERIC = _l("The payment did not go through. Nothing was charged; please check the card details and try again.")

MESSAGES = {
    # card details
    "incorrect_number": _l("The card number is not correct. Please check it."),
    "invalid_number": _l("The card number is not valid. Please check it."),
    "invalid_expiry_month": _l("The card's expiry month is not valid."),
    "invalid_expiry_year": _l("The card's expiry year is not valid."),
    "expired_card": _l("The card has expired. Please use another card."),
    "incorrect_cvc": _l("The card's security code (CVC) is not correct."),
    "invalid_cvc": _l("The card's security code (CVC) is not valid."),
    "incorrect_zip": _l("The card's postal code is not correct."),
    "missing": _l("The card details are incomplete."),
    "parameter_missing": _l("The card details are incomplete."),
    "parameter_invalid_empty": _l("The card details are incomplete."),
    "token_already_used": _l("These card details were already used. Please enter them again."),
    # declines (error code card_declined carries a decline_code)
    "card_declined": _l("Your card was declined. Nothing was charged; please try another card."),
    "generic_decline": _l("Your card was declined. Nothing was charged; please try another card."),
    "insufficient_funds": _l("The card has insufficient funds. Nothing was charged."),
    "lost_card": _l("Your card was declined. Nothing was charged; please try another card."),
    "stolen_card": _l("Your card was declined. Nothing was charged; please try another card."),
    "do_not_honor": _l("Your bank declined the payment. Nothing was charged; please contact your bank or use "
                       "another card."),
    "card_not_supported": _l("This card does not support this kind of payment. Please use another card."),
    "currency_not_supported": _l("This card cannot pay in renminbi. Please use another card."),
    "processing_error": _l("An error occurred while processing the card. Nothing was charged; please try again."),
    "authentication_required": _l("Your bank asks for the card's security check (3-D Secure). Please try again."),
    "payment_intent_authentication_failure": _l("The card's security check (3-D Secure) was not completed. "
                                                "Nothing was charged."),
    "rate_limit": _l("The payment service is busy. Please try again in a moment."),
}


def message_for(code: str | None = None, decline_code: str | None = None):
    """The reader's message for an API error code (and decline code, which says more)."""
    for key in (decline_code, code):
        if key and key in MESSAGES:
            return MESSAGES[key]
    return GENERIC


def message_of(exc) -> object:
    """The reader's message for a StripeError (its code and the payload's decline code)."""
    payload = getattr(exc, "payload", None) or {}
    return message_for(getattr(exc, "code", None) or payload.get("code"), payload.get("decline_code"))


def browser_messages() -> dict[str, str]:
    """Messages for the codes Stripe.js reports in the browser (createToken), as plain strings
    for the pay page's data attribute."""
    return {code: str(msg) for code, msg in MESSAGES.items()} | {"": str(GENERIC)}
