"""Reference data every installation starts with (the migrations insert the same rows):
Ningbo's districts and the federation's three mentor teams. `seed_reference_data` is
idempotent; tests and the demo seed call it after creating tables without migrations."""
from __future__ import annotations


def seed_reference_data() -> None:
    from market import areas
    from market.mentoring import groups

    areas.seed_defaults()
    groups.seed_defaults()
