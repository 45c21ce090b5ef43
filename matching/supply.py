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
"""
from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

import numpy as np
from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.utils.validation import check_is_fitted

from .features import make_vectorizer

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


# ---- feature builders (sklearn transformers) ---------------------------------------------

class SynonymExpander(BaseEstimator, TransformerMixin):
    """Appends to each text the synonyms of the terms it contains (a `synonyms.Thesaurus`;
    None: the shipped lists), so that n-grams of "竹筐" also meet those of "竹篮"."""

    def __init__(self, thesaurus=None, per_term: int = 6):
        self.thesaurus = thesaurus
        self.per_term = per_term

    def fit(self, texts=None, y=None):
        from synonyms import Thesaurus

        self.thesaurus_ = self.thesaurus if self.thesaurus is not None else Thesaurus.default()
        return self

    def transform(self, texts):
        check_is_fitted(self, "thesaurus_")
        out = []
        for text in texts:
            text = text or ""
            extra = []
            for _start, _end, term in self.thesaurus_.find_terms(text):
                extra.extend(self.thesaurus_.synonyms(term)[: self.per_term])
            out.append(text + (" | " + " ".join(extra) if extra else ""))
        return out


class TextFeatures(BaseEstimator, TransformerMixin):
    """Synonym expansion then character n-gram TF-IDF (rows L2-normalised): the dot product of
    two rows is the `text` component."""

    def __init__(self, ngram_range=(1, 3), thesaurus=None, use_synonyms: bool = True):
        self.ngram_range = ngram_range
        self.thesaurus = thesaurus
        self.use_synonyms = use_synonyms

    def fit(self, texts, y=None):
        texts = list(texts)
        self.expander_ = SynonymExpander(self.thesaurus).fit()
        corpus = self._expand(texts) + [" ".join(zh for zh, _ in SUPPLY_CATEGORIES.values())]
        self.vectorizer_ = make_vectorizer(self.ngram_range).fit(corpus)
        return self

    def _expand(self, texts):
        return self.expander_.transform(texts) if self.use_synonyms else [t or "" for t in texts]

    def transform(self, texts):
        check_is_fitted(self, "vectorizer_")
        return self.vectorizer_.transform(self._expand(list(texts))).tocsr()


class CategoryFeatures(BaseEstimator, TransformerMixin):
    """Category sets as 0/1 rows over SUPPLY_CATEGORIES; `similarity(need_rows, supplier_rows)`
    gives the `category` component (exact 1, same family `related_score`)."""

    def __init__(self, related_score: float = 0.4):
        self.related_score = related_score

    def fit(self, X=None, y=None):
        codes = tuple(SUPPLY_CATEGORIES)
        self.codes_ = codes
        fam = np.array([CATEGORY_FAMILIES[c] for c in codes])
        sim = np.where(fam[:, None] == fam[None, :], self.related_score, 0.0)
        np.fill_diagonal(sim, 1.0)
        self.similarity_ = sim.astype(np.float32)
        return self

    def transform(self, category_lists):
        check_is_fitted(self, "codes_")
        pos = {c: i for i, c in enumerate(self.codes_)}
        rows = np.zeros((len(category_lists), len(self.codes_)), dtype=np.float32)
        for i, cats in enumerate(category_lists):
            for c in cats:
                rows[i, pos[c]] = 1.0
        return rows

    def similarity(self, need_rows: np.ndarray, supplier_rows: np.ndarray) -> np.ndarray:
        """[n_needs, n_suppliers]: the best fit of any supplier category to any asked one."""
        # fit[s, c] = best similarity of supplier s's categories to category c
        fit = np.max(supplier_rows[:, :, None] * self.similarity_[None, :, :], axis=1)
        out = np.zeros((len(need_rows), len(supplier_rows)), dtype=np.float32)
        for i, row in enumerate(need_rows):
            asked = np.flatnonzero(row)
            if len(asked):
                out[i] = fit[:, asked].max(axis=1)
        return out


# ---- the estimator --------------------------------------------------------------------------

class SupplyMatcher(BaseEstimator):
    """See the module docstring. Parameters are stored as given; `fit` learns the text
    vocabulary from the suppliers and demands and indexes them."""

    def __init__(self, text_weight=0.35, category_weight=0.35, capacity_weight=0.15, distance_weight=0.15,
                 related_score=0.4, same_city_score=0.5, unknown_capacity_score=0.5, ngram_range=(1, 3),
                 regions=(), thesaurus=None, use_synonyms=True):
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
        self.city_ = frozenset(self.regions)
        self.text_ = TextFeatures(self.ngram_range, self.thesaurus, self.use_synonyms).fit(
            [s.text for s in suppliers] + [d.text for d in demands])
        self.categories_ = CategoryFeatures(self.related_score).fit()
        self.suppliers_ = suppliers
        self.demands_ = demands
        self._supplier_text = self.text_.transform([s.text for s in suppliers])
        self._supplier_cats = self.categories_.transform([s.categories for s in suppliers])
        self._demand_text = self.text_.transform([d.text for d in demands]) if demands else None
        self._demand_cats = self.categories_.transform([d.categories for d in demands]) if demands else None
        return self

    # -- scoring ------------------------------------------------------------------------------
    def _tier(self, a: str, b: str) -> str:
        if a and a == b:
            return "same_district"
        if a in self.city_ and b in self.city_:
            return "same_city"
        return "elsewhere"

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
        tiers = {"same_district": 1.0, "same_city": self.same_city_score, "elsewhere": 0.0}
        dist = np.array([[tiers[self._tier(d.district, s.district)] for s in suppliers] for d in demands],
                        dtype=np.float32)
        return np.stack([np.clip(text, 0, 1), cats, cap, dist], axis=-1).reshape(
            len(demands), len(suppliers), len(FEATURE_NAMES))

    def _match(self, demand: Demand, supplier: Supplier, comp: np.ndarray, ident) -> SupplyMatch:
        reasons = []
        shared = [c for c in demand.categories if c in supplier.categories]
        if shared:
            reasons.append(SupplyReason("category", tuple(shared)))
        short = bool(demand.quantity and supplier.capacity is not None and supplier.capacity < demand.quantity)
        if short:
            reasons.append(SupplyReason("capacity_short", (supplier.capacity, demand.quantity)))
        elif demand.quantity and supplier.capacity is not None:
            reasons.append(SupplyReason("capacity"))
        if demand.required_certifications:
            reasons.append(SupplyReason("certification", tuple(demand.required_certifications)))
        tier = self._tier(demand.district, supplier.district)
        if tier != "elsewhere":
            reasons.append(SupplyReason(tier))
        words = self._shared_words(demand.text, supplier.text)
        if words:
            reasons.append(SupplyReason("text", words))
        components = {name: round(float(v), 4) for name, v in zip(FEATURE_NAMES, comp, strict=True)}
        return SupplyMatch(ident, round(float(comp @ self.weights_), 4), components, tuple(reasons), short, tier)

    def _shared_words(self, a: str, b: str, limit: int = 3) -> tuple[str, ...]:
        """Synonym-group terms found in both texts (as written in the need), else shared
        two-character pieces: what a reader can check."""
        th = self.text_.expander_.thesaurus_
        found_b = {t for _s, _e, t in th.find_terms(b or "")}
        words = []
        for _s, _e, term in th.find_terms(a or ""):
            if (term in found_b or found_b.intersection(th.synonyms(term))) and term not in words:
                words.append(term)
        if not words:
            grams_b = {(b or "")[i:i + 2] for i in range(len(b or "") - 1)}
            for i in range(len(a or "") - 1):
                g = a[i:i + 2]
                if g in grams_b and g.strip() and all(ch.isalnum() for ch in g) and g not in words:
                    words.append(g)
        return tuple(words[:limit])

    def rank(self, demand: Demand, k: int = 10) -> list[SupplyMatch]:
        """The best suppliers for one need (hard constraints applied), best first."""
        check_is_fitted(self, "suppliers_")
        if not isinstance(demand, Demand):
            raise ValueError("demand: expected a Demand")
        _check_k(k)
        if not self.suppliers_:
            return []
        comp = self._pairs(self.text_.transform([demand.text]), self.categories_.transform([demand.categories]),
                           [demand], self._supplier_text, self._supplier_cats, self.suppliers_)[0]
        scores = comp @ self.weights_
        out = []
        for j in np.argsort(-scores, kind="stable"):
            s = self.suppliers_[j]
            if self.allowed(demand, s):
                out.append(self._match(demand, s, comp[j], s.id))
                if len(out) == k:
                    break
        return out

    def rank_demands(self, supplier: Supplier, k: int = 10) -> list[SupplyMatch]:
        """The best fitted needs for one supplier (the same score, the same constraints)."""
        check_is_fitted(self, "demands_")
        if not isinstance(supplier, Supplier):
            raise ValueError("supplier: expected a Supplier")
        _check_k(k)
        if not self.demands_:
            return []
        comp = self._pairs(self._demand_text, self._demand_cats, self.demands_,
                           self.text_.transform([supplier.text]), self.categories_.transform([supplier.categories]),
                           [supplier])[:, 0, :]
        scores = comp @ self.weights_
        out = []
        for i in np.argsort(-scores, kind="stable"):
            d = self.demands_[i]
            if self.allowed(d, supplier):
                out.append(self._match(d, supplier, comp[i], d.id))
                if len(out) == k:
                    break
        return out

    def explain(self, demand: Demand, supplier_id) -> SupplyMatch:
        """One pair scored and explained; `extra["allowed"]` says whether the hard constraints pass."""
        check_is_fitted(self, "suppliers_")
        for j, s in enumerate(self.suppliers_):
            if s.id == supplier_id:
                comp = self._pairs(self.text_.transform([demand.text]),
                                   self.categories_.transform([demand.categories]), [demand],
                                   self._supplier_text[j], self._supplier_cats[j:j + 1], [s])[0, 0]
                match = self._match(demand, s, comp, s.id)
                match.extra["allowed"] = self.allowed(demand, s)
                return match
        raise ValueError(f"supplier_id: unknown supplier {supplier_id!r}")


def _check_k(k) -> None:
    if not isinstance(k, int) or isinstance(k, bool) or k < 1:
        raise ValueError(f"k: must be a whole number >= 1, not {k!r}")


def keyword_baseline(demand: Demand, suppliers: list[Supplier], terms: Iterable[str], k: int = 10) -> list:
    """The baseline a keyword search gives: suppliers ranked by how many of the known product
    `terms` written in the need also appear, as written, in their text (no synonyms, no
    constraints, no distance). Returns supplier ids."""
    asked = [t for t in terms if t in (demand.text or "")]
    scores = [sum(1 for t in asked if t in (s.text or "")) for s in suppliers]
    order = sorted(range(len(suppliers)), key=lambda j: -scores[j])
    return [suppliers[j].id for j in order[:k]]
