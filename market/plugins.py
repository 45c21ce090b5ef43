"""Optional blueprints (checkout, mentoring, ...) join the app here, so each module can be
added without editing the factory: list the import path and the blueprint name."""
from __future__ import annotations

import importlib

from flask import Flask

OPTIONAL_BLUEPRINTS = (
    ("market.cart.views", "bp"),
    ("market.orders.views", "bp"),
    ("market.payments.views", "bp"),
    ("market.mentoring.views", "bp"),
    ("market.returns.views", "bp"),
    ("market.ledger.views", "bp"),
    ("market.notifications.views", "bp"),
    ("market.reviews.views", "bp"),
    ("market.insights.views", "bp"),
    ("market.supply.views", "bp"),
    ("market.staff.case_views", "bp"),
    ("market.outreach.views", "bp"),
)


def register_optional_blueprints(app: Flask) -> None:
    for module_path, attr in OPTIONAL_BLUEPRINTS:
        module = importlib.import_module(module_path)
        app.register_blueprint(getattr(module, attr))
