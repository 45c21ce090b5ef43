"""Training, lectures and job fairs (the supply module's events), and job posts."""
from __future__ import annotations

from flask import render_template

from market.outreach.blueprint import bp


@bp.get("/outreach/events")
def events():
    return render_template("outreach/events.html", events=[])


@bp.get("/jobs")
def jobs():
    return render_template("outreach/jobs.html", posts=[])
