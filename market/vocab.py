"""Fixed vocabularies shown in forms and filters. Stored values are codes (or, for
districts, the official Chinese names); labels are translatable."""
from flask_babel import lazy_gettext as _l

# Districts and counties of Ningbo; the stored value is the official Chinese name.
DISTRICTS = {
    "象山县": _l("Xiangshan County"),
    "宁海县": _l("Ninghai County"),
    "慈溪市": _l("Cixi City"),
    "余姚市": _l("Yuyao City"),
    "奉化区": _l("Fenghua District"),
    "北仑区": _l("Beilun District"),
    "鄞州区": _l("Yinzhou District"),
    "海曙区": _l("Haishu District"),
    "江北区": _l("Jiangbei District"),
    "镇海区": _l("Zhenhai District"),
}

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
}


def choices(vocab: dict) -> list[tuple[str, object]]:
    return list(vocab.items())
