"""The area tree (district → town or street → village or community → grid) and who is
responsible for which area: the one source of districts for the shop, the help desk and the
matcher. Other tables store a district by its official Chinese name."""
from market.areas.services import (  # noqa: F401
    NINGBO_DISTRICTS,
    AreaError,
    add_area,
    area_choices,
    district_choices,
    district_label,
    districts,
    grant_responsibility,
    invalidate,
    is_district,
    region_names,
    responsible_area_ids,
    revoke_responsibility,
    seed_defaults,
    subtree_ids,
)
