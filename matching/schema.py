"""Data shapes and vocabularies of the matcher, with Chinese and English labels.

Every vocabulary maps a stored code to ``(zh, en)`` labels; the web app shows whichever
language the user reads. Regions are stored as official Chinese names (as in the market app).

Mentor groups (with their affinities to difficulties) and the regions of the city are data:
the app passes its own to `MentorMatcher(groups=..., regions=...)`. `DEFAULT_GROUPS`,
`DEFAULT_GROUP_AFFINITY` and `DEFAULT_REGIONS` (the federation's three teams and Ningbo's
districts) are only the defaults used when none are given. A region outside the given ones is
accepted and treated as "elsewhere".
"""
from __future__ import annotations

from collections.abc import Hashable
from dataclasses import dataclass, field

CITY = ("宁波市", "Ningbo")

# The help a mentee asks for and the help a mentor offers share one vocabulary, so that
# "skills vs difficulties" is a plain set overlap.
DIFFICULTIES: dict[str, tuple[str, str]] = {
    "market_access": ("开拓市场", "Market access"),
    "e_commerce": ("电商运营", "E-commerce"),
    "live_streaming": ("直播带货", "Live streaming"),
    "financing": ("融资贷款", "Financing"),
    "supply_chain": ("供应链", "Supply chain"),
    "product_design": ("产品设计", "Product design"),
    "quality": ("质量标准", "Quality"),
    "branding": ("品牌建设", "Branding"),
    "management": ("经营管理", "Management"),
    "legal": ("法律事务", "Legal matters"),
    "technology": ("技术支持", "Technology"),
    "export": ("出口外贸", "Export"),
}
SKILLS = DIFFICULTIES

# The three teams of the federation's 创业互助帮帮团.
DEFAULT_GROUPS: dict[str, tuple[str, str]] = {
    "craftswoman": ("凤麓女工匠", "Fenglu women craftspeople"),
    "entrepreneur": ("优秀女企业家", "Outstanding women entrepreneurs"),
    "scientist": ("女科技工作者", "Women scientists and engineers"),
}

INDUSTRIES: dict[str, tuple[str, str]] = {
    "handicraft": ("手工艺", "Handicraft"),
    "embroidery": ("刺绣", "Embroidery"),
    "weaving": ("竹编草编", "Bamboo & straw weaving"),
    "textiles": ("纺织服装", "Textiles & clothing"),
    "ceramics": ("陶瓷木作", "Ceramics & woodwork"),
    "agriculture": ("农业种植", "Agriculture"),
    "tea": ("茶叶", "Tea"),
    "food": ("食品加工", "Food processing"),
    "seafood": ("水产海鲜", "Aquaculture & seafood"),
    "homestay": ("民宿旅游", "Homestays & tourism"),
    "ecommerce": ("电子商务", "E-commerce"),
    "services": ("生活服务", "Services"),
}

# Industries in one family are "related": a tea grower can learn from a fruit grower.
INDUSTRY_FAMILIES: dict[str, str] = {
    "handicraft": "crafts", "embroidery": "crafts", "weaving": "crafts",
    "textiles": "crafts", "ceramics": "crafts",
    "agriculture": "agrifood", "tea": "agrifood", "food": "agrifood", "seafood": "agrifood",
    "homestay": "tourism",
    "ecommerce": "trade", "services": "trade",
}

DEFAULT_REGIONS: dict[str, tuple[str, str]] = {
    "象山县": ("象山县", "Xiangshan County"),
    "宁海县": ("宁海县", "Ninghai County"),
    "慈溪市": ("慈溪市", "Cixi City"),
    "余姚市": ("余姚市", "Yuyao City"),
    "奉化区": ("奉化区", "Fenghua District"),
    "北仑区": ("北仑区", "Beilun District"),
    "鄞州区": ("鄞州区", "Yinzhou District"),
    "海曙区": ("海曙区", "Haishu District"),
    "江北区": ("江北区", "Jiangbei District"),
    "镇海区": ("镇海区", "Zhenhai District"),
}

BUSINESS_STAGES: dict[str, tuple[str, str]] = {
    "idea": ("筹备中", "Idea"),
    "startup": ("初创期", "Start-up"),
    "growth": ("成长期", "Growth"),
    "mature": ("成熟期", "Established"),
}

# How well each mentor group suits each difficulty (0..1). A prior from the federation's
# experience: scientists for technology and quality, entrepreneurs for markets and money,
# craftswomen for design and making. Unlisted pairs count as 0.3.
DEFAULT_GROUP_AFFINITY: dict[str, dict[str, float]] = {
    "scientist": {"technology": 1.0, "quality": 1.0, "product_design": 0.6,
                  "supply_chain": 0.5},
    "entrepreneur": {"market_access": 1.0, "e_commerce": 1.0, "live_streaming": 1.0,
                     "financing": 1.0, "management": 1.0, "branding": 0.8, "export": 1.0,
                     "legal": 0.7, "supply_chain": 0.7},
    "craftswoman": {"product_design": 1.0, "branding": 0.8, "quality": 0.7,
                    "live_streaming": 0.6, "supply_chain": 0.5},
}
DEFAULT_AFFINITY = 0.3

DECLINE_REASONS = ("busy", "not_my_field", "too_far", "other")


def label(vocabulary: dict[str, tuple[str, str]], code: str, lang: str = "zh") -> str:
    """The label of `code` in `lang` ("zh" or "en"); the code itself when unknown."""
    labels = vocabulary.get(code)
    if labels is None:
        return code
    return labels[0] if lang == "zh" else labels[1]


def region_label(region: str, lang: str = "zh", regions: dict | None = None) -> str:
    return label(DEFAULT_REGIONS if regions is None else regions, region, lang)


def check_groups(groups, difficulties=None) -> dict[str, dict[str, float]]:
    """Validate a groups parameter: {group code: {difficulty code: affinity 0..1}}."""
    difficulties = DIFFICULTIES if difficulties is None else difficulties
    if not isinstance(groups, dict) or not groups:
        raise ValueError("groups must be a non-empty dict {group code: {difficulty: affinity}}")
    checked = {}
    for code, affinities in groups.items():
        if not isinstance(code, str) or not code:
            raise ValueError(f"group codes must be non-empty strings, got {code!r}")
        if not isinstance(affinities, dict):
            raise ValueError(f"groups[{code!r}] must be a dict {{difficulty: affinity}}")
        for difficulty, value in affinities.items():
            if difficulty not in difficulties:
                raise ValueError(f"groups[{code!r}]: unknown difficulty {difficulty!r}")
            if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0 <= value <= 1:
                raise ValueError(f"groups[{code!r}][{difficulty!r}] must be within 0..1, got {value!r}")
        checked[code] = {d: float(v) for d, v in affinities.items()}
    return checked


def check_regions(regions) -> tuple[str, ...]:
    """Validate a regions parameter: the names of the city's districts (same city scoring)."""
    if isinstance(regions, str) or regions is None:
        raise ValueError(f"regions must be a list of region names, got {regions!r}")
    regions = tuple(regions)
    for region in regions:
        _check_region(region, "regions[]")
    if len(set(regions)) != len(regions):
        raise ValueError("regions must not repeat a name")
    return regions


def _as_tuple(value, field_name: str) -> tuple[str, ...]:
    if isinstance(value, str):
        raise ValueError(f"{field_name} must be a list of codes, not a string: {value!r}")
    return tuple(value)


def _check_codes(codes: tuple[str, ...], vocabulary: dict, field_name: str) -> None:
    for code in codes:
        if code not in vocabulary:
            raise ValueError(f"unknown {field_name} {code!r}; expected one of {sorted(vocabulary)}")


def _check_region(region: str, field_name: str = "region") -> None:
    if not isinstance(region, str) or not region.strip():
        raise ValueError(f"{field_name} must be a non-empty string, got {region!r}")


def _check_id(value, field_name: str) -> None:
    if value is None:
        raise ValueError(f"{field_name} must not be None")
    try:
        hash(value)
    except TypeError:
        raise ValueError(f"{field_name} must be hashable, got {type(value).__name__}") from None


def _check_count(value, field_name: str) -> None:
    if isinstance(value, bool) or not isinstance(value, int):
        raise ValueError(f"{field_name} must be an integer, got {value!r}")
    if value < 0:
        raise ValueError(f"{field_name} must not be negative, got {value}")


@dataclass
class Mentor:
    """A mentor of the mutual-aid group. Validated on construction (ValueError names the field)."""

    id: Hashable
    group: str
    industries: tuple[str, ...]
    skills: tuple[str, ...]
    region: str
    capacity: int
    bio: str = ""
    current_load: int = 0
    active: bool = True

    def __post_init__(self):
        self.industries = _as_tuple(self.industries, "industries")
        self.skills = _as_tuple(self.skills, "skills")
        self.validate()

    def validate(self) -> None:
        _check_id(self.id, "mentor id")
        if not isinstance(self.group, str) or not self.group:
            raise ValueError(f"group must be a non-empty code, got {self.group!r}")
        _check_codes(self.industries, INDUSTRIES, "industry")
        _check_codes(self.skills, SKILLS, "skill")
        _check_region(self.region)
        _check_count(self.capacity, "capacity")
        _check_count(self.current_load, "current_load")
        if self.current_load > self.capacity:
            raise ValueError(
                f"current_load ({self.current_load}) exceeds capacity ({self.capacity})")
        if not isinstance(self.bio, str):
            raise ValueError(f"bio must be a string, got {type(self.bio).__name__}")

    @property
    def spare_capacity(self) -> int:
        return self.capacity - self.current_load if self.active else 0


@dataclass
class HelpRequest:
    """A request for help from a woman entrepreneur."""

    id: Hashable
    industry: str
    difficulties: tuple[str, ...]
    region: str
    description: str = ""
    stage: str = "startup"
    # Needs the woman confirmed after the matcher read them in her text (they count as
    # ticked), and needs she removed (never inferred again for this request).
    confirmed: tuple[str, ...] = ()
    rejected: tuple[str, ...] = ()
    # {difficulty: confidence 0..1} read from the text; None lets the matcher read it.
    inferred: dict | None = None

    def __post_init__(self):
        self.difficulties = _as_tuple(self.difficulties, "difficulties")
        self.confirmed = _as_tuple(self.confirmed, "confirmed")
        self.rejected = _as_tuple(self.rejected, "rejected")
        self.validate()

    @property
    def stated_needs(self) -> tuple[str, ...]:
        """Ticked and confirmed needs, in that order, without repeats."""
        return tuple(dict.fromkeys(self.difficulties + self.confirmed))

    def validate(self) -> None:
        _check_id(self.id, "request id")
        if self.industry not in INDUSTRIES:
            raise ValueError(
                f"unknown industry {self.industry!r}; expected one of {sorted(INDUSTRIES)}")
        _check_codes(self.difficulties, DIFFICULTIES, "difficulty")
        _check_region(self.region)
        if self.stage not in BUSINESS_STAGES:
            raise ValueError(
                f"unknown stage {self.stage!r}; expected one of {sorted(BUSINESS_STAGES)}")
        if not isinstance(self.description, str):
            raise ValueError(
                f"description must be a string, got {type(self.description).__name__}")
        _check_codes(self.confirmed, DIFFICULTIES, "confirmed difficulty")
        _check_codes(self.rejected, DIFFICULTIES, "rejected difficulty")
        if self.inferred is not None:
            if not isinstance(self.inferred, dict):
                raise ValueError("inferred must be a dict {difficulty: confidence} or None")
            _check_codes(tuple(self.inferred), DIFFICULTIES, "inferred difficulty")
            for code, value in self.inferred.items():
                if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0 <= value <= 1:
                    raise ValueError(f"inferred[{code!r}] must be within 0..1, got {value!r}")


@dataclass(frozen=True)
class Outcome:
    """What became of a past suggestion: the request, the mentor it went to, and how it went.

    `success` is the label weights are learned from: accepted, and then resolved when that is
    known, otherwise a satisfaction of 4 or 5 when that is known.
    """

    request: HelpRequest
    mentor_id: Hashable
    accepted: bool
    resolved: bool | None = None
    satisfaction: int | None = None
    # Why a mentor declined: "busy", "not_my_field", "too_far", "other" (or None). A busy
    # mentor says nothing about the fit: such outcomes are not learned from.
    decline_reason: str | None = None

    def __post_init__(self):
        if self.satisfaction is not None and not 1 <= self.satisfaction <= 5:
            raise ValueError(f"satisfaction must be 1..5, got {self.satisfaction}")
        if self.decline_reason is not None and self.decline_reason not in DECLINE_REASONS:
            raise ValueError(f"decline_reason must be one of {DECLINE_REASONS}, "
                             f"got {self.decline_reason!r}")

    @property
    def says_about_fit(self) -> bool:
        """False for a decline because the mentor was busy: availability, not fit."""
        return not (not self.accepted and self.decline_reason == "busy")

    @property
    def success(self) -> bool:
        if not self.accepted:
            return False
        if self.resolved is not None:
            return bool(self.resolved)
        if self.satisfaction is not None:
            return self.satisfaction >= 4
        return True


@dataclass(frozen=True)
class Reason:
    """One structured reason for a match; `text(lang)` renders it for people.

    Codes and their params:
    - ``shared_skills``: ``skills`` (difficulty codes the mentor is skilled in)
    - ``same_industry``: ``industry``
    - ``related_industry``: ``industry`` (the mentor's), ``request_industry``
    - ``same_district``: ``region``
    - ``same_city``: ``region`` (the mentor's district; both are in Ningbo)
    - ``group_fit``: ``group``, ``difficulties`` (those the group suits best)
    - ``similar_words``: ``terms`` (words both texts use that weighed most)
    """

    code: str
    params: dict = field(default_factory=dict)

    def text(self, lang: str = "zh", groups: dict | None = None, regions: dict | None = None) -> str:
        """`groups` and `regions` map codes to (zh, en) labels (the defaults when None)."""
        if lang not in ("zh", "en"):
            raise ValueError(f"lang must be 'zh' or 'en', got {lang!r}")
        zh = lang == "zh"
        sep = "、" if zh else ", "
        p = self.params
        if self.code == "shared_skills":
            names = sep.join(label(SKILLS, s, lang) for s in p["skills"])
            return f"擅长您需要的：{names}" if zh else f"Skilled in what you need: {names}"
        if self.code == "same_industry":
            name = label(INDUSTRIES, p["industry"], lang)
            return f"同行业：{name}" if zh else f"Same industry: {name}"
        if self.code == "related_industry":
            name = label(INDUSTRIES, p["industry"], lang)
            return f"相近行业：{name}" if zh else f"Related industry: {name}"
        if self.code == "same_district":
            name = region_label(p["region"], lang, regions)
            return f"同在{name}" if zh else f"Same district: {name}"
        if self.code == "same_city":
            name = region_label(p["region"], lang, regions)
            return f"同在宁波（{name}）" if zh else f"Also in Ningbo ({name})"
        if self.code == "group_fit":
            group = label(DEFAULT_GROUPS if groups is None else groups, p["group"], lang)
            names = sep.join(label(DIFFICULTIES, d, lang) for d in p["difficulties"])
            return f"{group}，适合解决{names}问题" if zh else f"{group}: suited to {names}"
        if self.code == "similar_words":
            words = sep.join(p["terms"])
            return f"描述相近：{words}" if zh else f"Similar wording: {words}"
        return self.code

    def to_dict(self) -> dict:
        return {"code": self.code, "params": {k: list(v) if isinstance(v, tuple) else v
                                              for k, v in self.params.items()}}


@dataclass(frozen=True)
class Match:
    """A ranked mentor: `score` is the weighted sum of `components` (each 0..1)."""

    mentor_id: Hashable
    score: float
    reasons: tuple[Reason, ...]
    components: dict[str, float]

    def reason_texts(self, lang: str = "zh", groups: dict | None = None,
                     regions: dict | None = None) -> list[str]:
        return [reason.text(lang, groups, regions) for reason in self.reasons]


@dataclass(frozen=True)
class Assignment:
    """A global assignment: `pairs` in request order, `unassigned` request ids in input order."""

    pairs: list[tuple[Hashable, Hashable, float]]
    unassigned: list[Hashable]

    def mentor_for(self, request_id) -> Hashable | None:
        for rid, mid, _ in self.pairs:
            if rid == request_id:
                return mid
        return None


@dataclass(frozen=True)
class TeamMember:
    """One mentor of a proposed team, with the needs she covers in it."""

    mentor_id: Hashable
    covers: tuple[str, ...]
    score: float

    def to_dict(self) -> dict:
        return {"mentor_id": self.mentor_id, "covers": list(self.covers), "score": self.score}


@dataclass(frozen=True)
class Team:
    """A small team for one request: members together cover `covered` of its needs.

    `coverage` is the confidence-weighted share of the request's needs covered (0..1);
    `score` orders teams (coverage first, then the members' match scores, then a bonus for
    complementary groups, minus a cost per extra member)."""

    members: tuple[TeamMember, ...]
    score: float
    coverage: float
    covered: tuple[str, ...]
    uncovered: tuple[str, ...]

    @property
    def mentor_ids(self) -> tuple:
        return tuple(m.mentor_id for m in self.members)

    def to_dict(self) -> dict:
        return {"members": [m.to_dict() for m in self.members], "score": self.score,
                "coverage": self.coverage, "covered": list(self.covered),
                "uncovered": list(self.uncovered)}


@dataclass(frozen=True)
class TeamAssignment:
    """`teams`: [(request id, Team)] in request order; `unassigned` request ids."""

    teams: list[tuple[Hashable, Team]]
    unassigned: list[Hashable]
