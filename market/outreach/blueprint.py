"""The front line's blueprint and the helpers its view modules share (views.py: lists, visits,
archives, staff coverage; questionnaire_views.py; events_views.py)."""
from __future__ import annotations

from flask import Blueprint, jsonify

from market.ids import parse_int

bp = Blueprint("outreach", __name__)


def _id(value) -> int:
    """An id from a form or a URL; 0 when missing or malformed (services refuse 0)."""
    return parse_int(value, low=0) or 0


def _error_json(code: str, message: str, status: int):
    return jsonify({"error": {"code": code, "message": message}}), status
