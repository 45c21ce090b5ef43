"""Labels of the front line's vocabularies, in the reader's language at render time."""
from flask_babel import lazy_gettext as _l

METHOD_LABELS = {
    "visit": _l("Visit"),
    "call": _l("Phone call"),
    "wechat": _l("WeChat"),
    "meeting": _l("Meeting"),
}
STEP_LABELS = {
    1: _l("1 Show who you are (亮明身份)"),
    2: _l("2 Make a commitment (作出承诺)"),
    3: _l("3 Listen to the needs (倾听诉求)"),
    4: _l("4 Guide by kind of need (分类引领)"),
    5: _l("5 Serve precisely (精准服务)"),
}
QUESTION_KIND_LABELS = {
    "single": _l("Single choice"),
    "multiple": _l("Multiple choice"),
    "scale": _l("Scale"),
    "text": _l("Free text"),
    "difficulty": _l("Difficulties (sent to the case desk when identified)"),
}
JOB_KIND_LABELS = {
    "full_time": _l("Full time"),
    "part_time": _l("Part time"),
    "home_based": _l("Work from home"),
    "seasonal": _l("Seasonal"),
}
EVENT_KIND_LABELS = {
    "training": _l("Skills training"),
    "lecture": _l("Entrepreneurship lecture"),
    "job_fair": _l("Job fair"),
}
