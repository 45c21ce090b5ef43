"""The front line's rules: grids, who is on whose contact list, coverage, visits (stored once
per phone-made id; difficulties sent to the case desk with her consent) and the archive per
woman with its recorded reads. Views and the JSON endpoint call these; nothing else changes
outreach rows.

This module is the one door to them: the rules live in a module per concern (contacts,
coverage, visits, archive; what they share in common) and are imported from here, so callers
write `from market.outreach import services`.
"""
from __future__ import annotations

from market.models import Area  # callers (and tests) read the grid model through here
from market.outreach.archive import Archive, archive, may_read_archive, visit_photo
from market.outreach.common import NotFound, OutreachError, is_cadre, is_cadre_user, list_size
from market.outreach.contacts import (
    add_grid,
    add_woman,
    assign_account,
    assign_contact,
    assign_grid,
    assignable_profiles,
    cadres,
    contact_of,
    grids,
    list_count,
    my_area_ids,
    my_grids,
    remove_contact,
    take_from_grids,
    villages,
)
from market.outreach.coverage import ContactRow, Coverage, coverage, coverage_by_cadre, quarter_start
from market.outreach.visits import VisitData, may_visit, photo_folder, record_visit, visits_of

__all__ = [
    "Archive", "Area", "ContactRow", "Coverage", "NotFound", "OutreachError", "VisitData", "add_grid", "add_woman",
    "archive", "assign_account", "assign_contact", "assign_grid", "assignable_profiles", "cadres", "contact_of",
    "coverage", "coverage_by_cadre", "grids", "is_cadre", "is_cadre_user", "list_count", "list_size",
    "may_read_archive", "may_visit", "my_area_ids", "my_grids", "photo_folder", "quarter_start", "record_visit",
    "remove_contact", "take_from_grids", "villages", "visit_photo", "visits_of",
]
