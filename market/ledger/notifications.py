"""Mail to the artisan when a payout of hers is paid or fails (through market.mail.send_mail
for now; the notification service will carry it later)."""
from __future__ import annotations

from flask import current_app
from flask_babel import force_locale
from flask_babel import gettext as _

from market.extensions import db
from market.mail import send_mail
from market.models import Artisan, Payout


def payout_settled(payout_id: int) -> None:
    payout = db.session.get(Payout, payout_id)
    if payout is None:
        return
    artisan = db.session.get(Artisan, payout.artisan_id)
    amount = f"¥{payout.amount_fen / 100:.2f}"
    with force_locale(current_app.config.get("BABEL_DEFAULT_LOCALE", "zh")):
        if payout.status == "paid":
            send_mail(artisan.user.email, _("Payout of %(amount)s sent", amount=amount),
                      _("We have paid you %(amount)s (bank reference %(reference)s). See your statement at "
                        "/shop/statement", amount=amount, reference=payout.reference))
        elif payout.status == "failed":
            send_mail(artisan.user.email, _("Payout of %(amount)s failed", amount=amount),
                      _("Your payout of %(amount)s could not be made (%(reason)s); the amount is back on your "
                        "balance. Please check your payout details at /shop/payout-details",
                        amount=amount, reason=payout.failure_reason))
