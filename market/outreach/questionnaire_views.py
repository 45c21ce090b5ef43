"""Needs questionnaires: the staff builder, the public answer page at a short URL, results."""
from __future__ import annotations

from flask import render_template

from market.auth import staff_required
from market.outreach.blueprint import bp


@bp.get("/staff/outreach/questionnaires")
@staff_required
def staff_questionnaires():
    return render_template("outreach/questionnaires.html", items=[])


@bp.get("/staff/outreach/report")
@staff_required
def staff_report():
    return render_template("outreach/report.html")
