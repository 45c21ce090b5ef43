"""Fixed vocabularies shown in forms and filters. Stored values are codes; labels are
translatable. Districts are data: see market.areas."""
from flask_babel import lazy_gettext as _l

CATEGORIES = {
    "embroidery": _l("Embroidery"),
    "weaving": _l("Bamboo & straw weaving"),
    "textiles": _l("Textiles & clothing"),
    "ceramics": _l("Ceramics & woodwork"),
    "seafood": _l("Seafood"),
    "tea": _l("Tea"),
    "snacks": _l("Local food & snacks"),
    "produce": _l("Farm produce"),
    "homestay": _l("Homestays & experiences"),
}

ARTISAN_KINDS = {
    "craftswoman": _l("Craftswoman"),
    "food_producer": _l("Food producer"),
    "homestay_host": _l("Homestay host"),
}

PRODUCT_STATUS_LABELS = {
    "draft": _l("Draft"),
    "published": _l("Published"),
    "archived": _l("Archived"),
}

ARTISAN_STATUS_LABELS = {
    "pending": _l("Awaiting approval"),
    "approved": _l("Approved"),
    "rejected": _l("Rejected"),
}

ROLE_LABELS = {
    "buyer": _l("Buyer"),
    "artisan": _l("Artisan"),
    "entrepreneur": _l("Entrepreneur"),
    "mentor": _l("Mentor"),
    "staff": _l("Federation staff"),
    "committee": _l("Committee member"),
    "supervisor": _l("Supervisor"),
    "finance": _l("Finance"),
    "auditor": _l("Auditor (reads the audit log)"),
}


def choices(vocab: dict) -> list[tuple[str, object]]:
    return list(vocab.items())
