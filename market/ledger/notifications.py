"""Notices to the artisan when a payout of hers is paid or fails, through the one notification
service (market.notifications.notify: in-app and mail, in her language, once per payout). Called
after the payout's own commit, so it records and commits the notices itself."""
from __future__ import annotations

from market.extensions import db
from market.models import Artisan, Payout
from market.notifications import after_the_fact, notify


@after_the_fact
def payout_settled(payout_id: int) -> None:
    payout = db.session.get(Payout, payout_id)
    if payout is None or payout.status not in ("paid", "failed"):
        return
    artisan = db.session.get(Artisan, payout.artisan_id)
    amount = f"¥{payout.amount_fen / 100:.2f}"
    if payout.status == "paid":
        notify(artisan.user, "payout_paid", {"amount": amount, "reference": payout.reference,
                                             "url": "/shop/statement"}, event=f"payout_paid:{payout.id}")
    else:
        notify(artisan.user, "payout_failed", {"amount": amount, "reason": payout.failure_reason,
                                               "url": "/shop/payout-details"}, event=f"payout_failed:{payout.id}")
    db.session.commit()
