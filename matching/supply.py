"""The supply-chain matcher (产业链对接): suppliers for a need, and needs for a supplier.

A pure, sklearn-style estimator beside the mentor matcher::

    matcher = SupplyMatcher(regions=("海曙区", "江北区", ...)).fit(suppliers, demands)
    matcher.rank(demand, k=10)            # best suppliers for one need, with reasons
    matcher.rank_demands(supplier, k=10)  # best needs for one supplier (fitted demands)
    matcher.explain(demand, supplier_id)  # one pair, scored and explained

A score is the weighted sum of four components in 0..1:

- ``text``: cosine of character n-gram TF-IDF vectors of the two descriptions, after each text
  is expanded with the synonyms it contains (`SynonymExpander`, the `synonyms` package), so
  "竹筐" finds "竹篮" and "绣花" finds "刺绣" (character n-grams need no word segmentation);
- ``category``: 1 when the supplier works in a category the need asks for, `related_score`
  when in the same family (seafood and cold chain...), else 0;
- ``capacity``: 1 when the monthly capacity covers the quantity, capacity/quantity below it,
  `unknown_capacity_score` when either is not given;
- ``distance``: tiers of the area tree: same district 1, same city (`regions`) `same_city_score`,
  elsewhere 0.

Hard constraints: a supplier lacking a certification the need requires is never suggested; a
need that asks for its own district (or city) only never gets suppliers from outside it; a
supplier equal to the need's owner is skipped. Capacity below the quantity is not a filter
(two small workshops can share an order) but is marked on the match (`capacity_short`).

The text, category, distance, reason and constraint machinery is `matching.engine`, shared with
the mentor matcher: a reason for a factor (category, capacity, distance, text) is shown only when
it added at least 5 % of the match's score, and shared words are content words (no filler such as
我们 or 需要); a capacity shortfall and a required certification held are always shown.
"""
from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

import numpy as np
from sklearn.base import BaseEstimator
from sklearn.utils.validation import check_is_fitted

from . import engine
from .text import SynonymExpander  # noqa: F401  (the engine's; kept importable from here)

# What a business makes or does: code -> (zh, en). Families group related categories.
SUPPLY_CATEGORIES: dict[str, tuple[str, str]] = {
    "food_processing": ("食品加工", "Food processing"),
    "seafood": ("海产品", "Seafood"),
    "agriculture": ("农产品种植养殖", "Farming"),
    "cold_chain": ("冷链物流", "Cold-chain logistics"),
    "logistics": ("物流快递", "Logistics"),
    "packaging": ("包装", "Packaging"),
    "printing": ("印刷", "Printing"),
    "design": ("设计", "Design"),
    "textile": ("纺织服装", "Textiles and garments"),
    "embroidery": ("刺绣", "Embroidery"),
    "handicraft": ("手工艺品", "Handicrafts"),
    "bamboo": ("竹木草编", "Bamboo, wood and straw"),
    "wholesale": ("批发采购", "Wholesale buying"),
    "retail": ("零售门店", "Retail"),
    "tourism": ("民宿旅游", "Homestays and tourism"),
    "other": ("其他", "Other"),
}
CATEGORY_FAMILIES = {
    "food_processing": "food", "seafood": "food", "agriculture": "food",
    "cold_chain": "transport", "logistics": "transport",
    "packaging": "print", "printing": "print", "design": "print",
    "textile": "craft", "embroidery": "craft", "handicraft": "craft", "bamboo": "craft",
    "wholesale": "trade", "retail": "trade", "tourism": "trade", "other": "other",
}
CERTIFICATIONS: dict[str, tuple[str, str]] = {
    "sc": ("食品生产许可SC", "Food production licence (SC)"),
    "organic": ("有机认证", "Organic certification"),
    "export": ("出口资质", "Export licence"),
}
# Where a need wants its suppliers from: anywhere, the city (`regions`), its own district.
REGION_PREFERENCES = ("any", "city", "district")
FEATURE_NAMES = ("text", "category", "capacity", "distance")


@dataclass(frozen=True)
class Supplier:
    """A business that can take orders. `capacity` is per month, in the need's units
    (None: not given)."""
    id: object
    categories: tuple[str, ...] = ()
    text: str = ""
    capacity: int | None = None
    certifications: tuple[str, ...] = ()
    district: str = ""
    owner: object = None  # the organisation, so a need never gets its own owner

    def __post_init__(self):
        object.__setattr__(self, "categories", tuple(self.categories))
        object.__setattr__(self, "certifications", tuple(self.certifications))
        _check(self.categories, SUPPLY_CATEGORIES, "categories")
        _check(self.certifications, CERTIFICATIONS, "certifications")
        _check_count(self.capacity, "capacity")


@dataclass(frozen=True)
class Demand:
    """A need on the board: what it asks for, how much (per month or in all), where from."""
    id: object
    categories: tuple[str, ...] = ()
    text: str = ""
    quantity: int | None = None
    required_certifications: tuple[str, ...] = ()
    district: str = ""
    region_preference: str = "any"
    owner: object = None

    def __post_init__(self):
        object.__setattr__(self, "categories", tuple(self.categories))
        object.__setattr__(self, "required_certifications", tuple(self.required_certifications))
        _check(self.categories, SUPPLY_CATEGORIES, "categories")
        _check(self.required_certifications, CERTIFICATIONS, "required_certifications")
        _check_count(self.quantity, "quantity")
        if self.region_preference not in REGION_PREFERENCES:
            raise ValueError(f"region_preference: unknown value {self.region_preference!r}")


@dataclass(frozen=True)
class SupplyReason:
    """Why a pair fits: `code` is one of category, capacity, capacity_short, certification,
    same_district, same_city, text; `detail` the category codes, certifications or shared words."""
    code: str
    detail: tuple = ()

    def text(self, lang: str = "zh") -> str:
        zh = lang == "zh"
        if self.code == "category":
            names = "、".join(SUPPLY_CATEGORIES[c][0 if zh else 1] for c in self.detail)
            return f"经营范围相符：{names}" if zh else f"Works in {names}"
        if self.code == "capacity":
            return "月产能足够" if zh else "Monthly capacity covers the quantity"
        if self.code == "capacity_short":
            have, want = self.detail
            return (f"月产能{have}低于需求量{want}" if zh
                    else f"Monthly capacity {have} is below the quantity {want}")
        if self.code == "certification":
            names = "、".join(CERTIFICATIONS[c][0 if zh else 1] for c in self.detail)
            return f"持有所需资质：{names}" if zh else f"Holds the certification asked for: {names}"
        if self.code == "same_district":
            return "同区县" if zh else "Same district"
        if self.code == "same_city":
            return "同城" if zh else "Same city"
        if self.code == "text":
            words = "、".join(self.detail)
            return f"描述相近：{words}" if zh else f"Similar description: {words}"
        return self.code

    def to_dict(self) -> dict:
        return {"code": self.code, "detail": list(self.detail)}


@dataclass
class SupplyMatch:
    id: object
    score: float
    components: dict[str, float]
    reasons: tuple[SupplyReason, ...] = ()
    capacity_short: bool = False
    distance_tier: str = "elsewhere"  # same_district / same_city / elsewhere
    extra: dict = field(default_factory=dict)

    def reason_texts(self, lang: str = "zh") -> list[str]:
        return [r.text(lang) for r in self.reasons]


def _check(codes, vocabulary, name) -> None:
    for code in codes:
        if code not in vocabulary:
            raise ValueError(f"{name}: unknown code {code!r}")


def _check_count(value, name) -> None:
    if value is not None and (not isinstance(value, int) or isinstance(value, bool) or value < 0):
        raise ValueError(f"{name}: must be a whole number >= 0 or None, not {value!r}")


# ---- feature builders: the engine's scikit-learn transformers, configured for businesses ----

class TextFeatures(engine.TextFeatures):
    """The engine's text transformer with the supply defaults: synonyms on, n-grams 1..3, the
    category names in the fitting corpus. The dot product of two rows is the `text` component."""

    def __init__(self, ngram_range=(1, 3), use_synonyms=True, thesaurus=None,
                 extra_corpus=(" ".join(zh for zh, _ in SUPPLY_CATEGORIES.values()),)):
        super().__init__(ngram_range=ngram_range, use_synonyms=use_synonyms, thesaurus=thesaurus,
                         extra_corpus=extra_corpus)


class CategoryFeatures(engine.CategoryFeatures):
    """The engine's category transformer over SUPPLY_CATEGORIES and their families."""

    def __init__(self, codes=tuple(SUPPLY_CATEGORIES), families=CATEGORY_FAMILIES, related_score=0.4):
        super().__init__(codes=codes, families=families, related_score=related_score)


# ---- the estimator --------------------------------------------------------------------------

# Reasons that are marks, shown whatever their share of the score: a shortfall the owner must
# know about, a hard constraint that held.
_MARKS = ("capacity_short", "certification")


class SupplyMatcher(BaseEstimator):
    """See the module docstring. Parameters are stored as given; `fit` learns the text
    vocabulary from the suppliers and demands and indexes them. A thin configuration of
    `matching.engine` (text, categories, distance tiers, reasons, constraints)."""

    def __init__(self, text_weight=0.35, category_weight=0.35, capacity_weight=0.15, distance_weight=0.15,
                 related_score=0.4, same_city_score=0.5, unknown_capacity_score=0.5, ngram_range=(1, 3),
                 regions=(), thesaurus=None, use_synonyms=True, max_terms=3):
        self.text_weight = text_weight
        self.category_weight = category_weight
        self.capacity_weight = capacity_weight
        self.distance_weight = distance_weight
        self.related_score = related_score
        self.same_city_score = same_city_score
        self.unknown_capacity_score = unknown_capacity_score
        self.ngram_range = ngram_range
        self.regions = regions
        self.thesaurus = thesaurus
        self.use_synonyms = use_synonyms
        self.max_terms = max_terms

    def fit(self, suppliers: Iterable[Supplier], demands: Iterable[Demand] = ()):
        suppliers, demands = list(suppliers), list(demands)
        for i, s in enumerate(suppliers):
            if not isinstance(s, Supplier):
                raise ValueError(f"suppliers[{i}]: expected a Supplier, not {type(s).__name__}")
        for i, d in enumerate(demands):
            if not isinstance(d, Demand):
                raise ValueError(f"demands[{i}]: expected a Demand, not {type(d).__name__}")
        weights = [self.text_weight, self.category_weight, self.capacity_weight, self.distance_weight]
        if any(not isinstance(w, int | float) or w < 0 for w in weights) or sum(weights) <= 0:
            raise ValueError("weights: each must be >= 0 and their sum > 0")
        self.weights_ = np.array(weights, dtype=np.float32) / float(sum(weights))
        self.tiers_ = engine.DistanceTiers(self.regions, self.same_city_score)
        self.city_ = self.tiers_.city
        self.text_ = TextFeatures(self.ngram_range, self.use_synonyms, self.thesaurus).fit(
            [s.text for s in suppliers] + [d.text for d in demands])
        self.categories_ = CategoryFeatures(related_score=self.related_score).fit()
        self.suppliers_ = suppliers
        self.demands_ = demands
        self._supplier_text = self.text_.transform([s.text for s in suppliers])
        self._supplier_cats = self.categories_.transform([s.categories for s in suppliers])
        self._demand_text = self.text_.transform([d.text for d in demands]) if demands else None
        self._demand_cats = self.categories_.transform([d.categories for d in demands]) if demands else None
        return self

    # -- scoring ------------------------------------------------------------------------------
    def _tier(self, a: str, b: str) -> str:
        return self.tiers_.tier(a, b)

    def allowed(self, demand: Demand, supplier: Supplier) -> bool:
        """The hard constraints (see the module docstring)."""
        if demand.owner is not None and demand.owner == supplier.owner:
            return False
        if not set(demand.required_certifications) <= set(supplier.certifications):
            return False
        tier = self._tier(demand.district, supplier.district)
        if demand.region_preference == "district" and tier != "same_district":
            return False
        return not (demand.region_preference == "city" and tier == "elsewhere")

    def _capacity(self, demand: Demand, supplier: Supplier) -> float:
        if not demand.quantity or supplier.capacity is None:
            return self.unknown_capacity_score
        return min(1.0, supplier.capacity / demand.quantity)

    def _pairs(self, d_text, d_cats, demands, s_text, s_cats, suppliers) -> np.ndarray:
        """components[n_demands, n_suppliers, 4]"""
        text = np.asarray((d_text @ s_text.T).todense(), dtype=np.float32)
        cats = self.categories_.similarity(d_cats, s_cats)
        cap = np.array([[self._capacity(d, s) for s in suppliers] for d in demands], dtype=np.float32)
        city = self.tiers_.city
        d_district = np.array([d.district for d in demands], dtype=object)
        s_district = np.array([s.district for s in suppliers], dtype=object)
        d_city = np.array([d.district in city for d in demands], dtype=bool)
        s_city = np.array([s.district in city for s in suppliers], dtype=bool)
        same = (d_district[:, None] == s_district[None, :]) & (d_district[:, None] != "")
        dist = engine.tier_scores(same, d_city[:, None] & s_city[None, :], self.same_city_score)
        return np.stack([np.clip(text, 0, 1), cats, cap.reshape(text.shape), dist.reshape(text.shape)],
                        axis=-1).reshape(len(demands), len(suppliers), len(FEATURE_NAMES))

    def _match(self, demand: Demand, supplier: Supplier, comp: np.ndarray, ident,
               d_row=None, s_row=None) -> SupplyMatch:
        score = float(comp @ self.weights_)
        w = {name: float(self.weights_[i] * comp[i]) for i, name in enumerate(FEATURE_NAMES)}
        candidates = []  # (weighted contribution of its factor, reason)
        shared = [c for c in demand.categories if c in supplier.categories]
        if shared:
            candidates.append((w["category"], SupplyReason("category", tuple(shared))))
        short = bool(demand.quantity and supplier.capacity is not None and supplier.capacity < demand.quantity)
        if not short and demand.quantity and supplier.capacity is not None:
            candidates.append((w["capacity"], SupplyReason("capacity")))
        tier = self._tier(demand.district, supplier.district)
        if tier != "elsewhere":
            candidates.append((w["distance"], SupplyReason(tier)))
        if comp[0] > 0:
            words = self._shared_words(demand.text, supplier.text, d_row, s_row)
            if words:
                candidates.append((w["text"], SupplyReason("text", words)))
        reasons = list(engine.counted(candidates, score))
        if short:
            reasons.append(SupplyReason("capacity_short", (supplier.capacity, demand.quantity)))
        if demand.required_certifications:
            reasons.append(SupplyReason("certification", tuple(demand.required_certifications)))
        components = {name: round(float(v), 4) for name, v in zip(FEATURE_NAMES, comp, strict=True)}
        return SupplyMatch(ident, round(score, 4), components, tuple(reasons), short, tier)

    def _shared_words(self, a: str, b: str, a_row=None, b_row=None) -> tuple[str, ...]:
        """Synonym-group terms found in both texts (as written in the need), then the
        content words both contain, ranked by what they added to the text similarity."""
        if a_row is None:
            a_row = self.text_.transform([a])
        if b_row is None:
            b_row = self.text_.transform([b])
        contribution = engine.column_contribution(a_row, b_row, self.text_.vectorizer_.vocabulary_)
        return engine.shared_words(a, b, self.text_.thesaurus_, contribution, self.max_terms)

    def rank(self, demand: Demand, k: int = 10) -> list[SupplyMatch]:
        """The best suppliers for one need (hard constraints applied), best first."""
        check_is_fitted(self, "suppliers_")
        if not isinstance(demand, Demand):
            raise ValueError("demand: expected a Demand")
        engine.check_k(k)
        if not self.suppliers_:
            return []
        d_text = self.text_.transform([demand.text])
        comp = self._pairs(d_text, self.categories_.transform([demand.categories]),
                           [demand], self._supplier_text, self._supplier_cats, self.suppliers_)[0]
        rows = engine.first_allowed(comp @ self.weights_, lambda j: self.allowed(demand, self.suppliers_[j]), k)
        return [self._match(demand, self.suppliers_[j], comp[j], self.suppliers_[j].id,
                            d_text, self._supplier_text[j]) for j in rows]

    def rank_demands(self, supplier: Supplier, k: int = 10) -> list[SupplyMatch]:
        """The best fitted needs for one supplier (the same score, the same constraints)."""
        check_is_fitted(self, "demands_")
        if not isinstance(supplier, Supplier):
            raise ValueError("supplier: expected a Supplier")
        engine.check_k(k)
        if not self.demands_:
            return []
        s_text = self.text_.transform([supplier.text])
        comp = self._pairs(self._demand_text, self._demand_cats, self.demands_,
                           s_text, self.categories_.transform([supplier.categories]),
                           [supplier])[:, 0, :]
        rows = engine.first_allowed(comp @ self.weights_, lambda i: self.allowed(self.demands_[i], supplier), k)
        return [self._match(self.demands_[i], supplier, comp[i], self.demands_[i].id,
                            self._demand_text[i], s_text) for i in rows]

    def explain(self, demand: Demand, supplier_id) -> SupplyMatch:
        """One pair scored and explained; `extra["allowed"]` says whether the hard constraints pass."""
        check_is_fitted(self, "suppliers_")
        for j, s in enumerate(self.suppliers_):
            if s.id == supplier_id:
                d_text = self.text_.transform([demand.text])
                comp = self._pairs(d_text, self.categories_.transform([demand.categories]), [demand],
                                   self._supplier_text[j], self._supplier_cats[j:j + 1], [s])[0, 0]
                match = self._match(demand, s, comp, s.id, d_text, self._supplier_text[j])
                match.extra["allowed"] = self.allowed(demand, s)
                return match
        raise ValueError(f"supplier_id: unknown supplier {supplier_id!r}")


def keyword_baseline(demand: Demand, suppliers: list[Supplier], terms: Iterable[str], k: int = 10) -> list:
    """The baseline a keyword search gives: suppliers ranked by how many of the known product
    `terms` written in the need also appear, as written, in their text (no synonyms, no
    constraints, no distance). Returns supplier ids."""
    asked = [t for t in terms if t in (demand.text or "")]
    scores = [sum(1 for t in asked if t in (s.text or "")) for s in suppliers]
    order = sorted(range(len(suppliers)), key=lambda j: -scores[j])
    return [suppliers[j].id for j in order[:k]]
