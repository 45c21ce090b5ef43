"""The help desk's blueprint and the small helpers its view modules share
(market/mentoring/views.py for women and mentors, which registers case_views.py,
loop_views.py, need_views.py and staff_views.py)."""
from __future__ import annotations

from flask import Blueprint, flash, redirect, url_for

from market.ids import parse_int

bp = Blueprint("mentoring", __name__)


def _int(value) -> int:
    """An id or a rating from a form; 0 when missing, malformed or out of range (services refuse 0)."""
    return parse_int(value, low=0) or 0


def _error(e: Exception) -> None:
    flash(str(e), "error")


def _back(case_id: int, anchor: str = ""):
    return redirect(url_for("mentoring.case_page", case_id=case_id) + anchor)
