"""The webhook endpoint of the payments API."""
from __future__ import annotations

import logging

from flask import Blueprint, current_app, jsonify, request

from market.extensions import csrf
from market.payments import webhooks
from market.payments.stripe_client import PaymentsUnavailable

log = logging.getLogger(__name__)
bp = Blueprint("payments", __name__, url_prefix="/payments")


@bp.post("/webhook")
@csrf.exempt
def webhook():
    payload = request.get_data(cache=False)
    try:
        event = webhooks.verify(
            payload, request.headers.get("Stripe-Signature"), current_app.config["STRIPE_WEBHOOK_SECRET"],
            tolerance=int(current_app.config.get("STRIPE_WEBHOOK_TOLERANCE", 300)),
        )
    except webhooks.SignatureError as e:
        log.warning("webhook refused: %s", e)
        return jsonify(error={"code": 400, "message": "invalid signature"}), 400
    try:
        result = webhooks.handle_event(event)
    except webhooks.MalformedEvent as e:
        log.warning("webhook %s refused: %s", event.get("id"), e)
        return jsonify(error={"code": 400, "message": "malformed event"}), 400
    except PaymentsUnavailable:
        # Not applied and not recorded: the sender retries later.
        return jsonify(error={"code": 503, "message": "payments API unavailable, retry later"}), 503
    return jsonify(received=True, result=result)
