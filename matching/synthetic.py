"""A synthetic benchmark whose right answers are known.

Mentors get a group, 1-2 industries, 2-4 skills (drawn with the group's leanings), a
district, a capacity and a load, and a Chinese bio written from templates and synonym sets.

Each request is written from a hidden profile taken from one available mentor (the "source"):
one of her industries, 1-3 of her skills as the true needs, and a district. What the
requester fills in is noisy, as in life:

- the industry field is a related industry 15% of the time;
- each true need is ticked with probability 0.7, and a wrong difficulty is added 25% of the
  time (so some true needs appear only in the description);
- the description paraphrases the needs and industry with *other* synonyms than mentors'
  bios use (the two texts share characters, rarely whole phrases), and is empty 8% of the time;
- the district is the source mentor's 70% of the time, another Ningbo district 25%,
  and outside Ningbo (杭州市) 5%.

Ground truth (`relevance`): a mentor is relevant when she works in the hidden industry and
has every true need among her skills; grade 2 when she is also in the requester's district,
else 1. Only available mentors (active, spare capacity) count, since only they can be
suggested.

`generate_outcomes` simulates past suggestions and their outcomes from a hidden success
model in which the district matters more than the default weights assume (mentoring here
is done in person), so learned weights have something real to learn.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .schema import (
    DEFAULT_AFFINITY,
    DIFFICULTIES,
    INDUSTRIES,
    INDUSTRY_FAMILIES,
    HelpRequest,
    Mentor,
    Outcome,
)
from .schema import (
    DEFAULT_GROUP_AFFINITY as GROUP_AFFINITY,
)
from .schema import (
    DEFAULT_GROUPS as GROUPS,
)
from .schema import (
    DEFAULT_REGIONS as REGIONS,
)

DIFFICULTY_CODES = list(DIFFICULTIES)
INDUSTRY_CODES = list(INDUSTRIES)
GROUP_CODES = list(GROUPS)
DISTRICTS = list(REGIONS)
OUTSIDE_NINGBO = "杭州市"
SHORT_NAMES = {d: d[:2] for d in DISTRICTS}

# How mentors describe their expertise and how requesters describe the same problem:
# different phrasings of one concept, overlapping in some characters.
SKILL_PHRASES = {
    "market_access": (["开拓销售渠道", "对接商超和批发市场", "帮产品找销路", "拓展市场渠道"],
                      ["产品卖不出去", "找不到销路", "销售渠道太少", "想进超市但不知道怎么对接",
                       "打不开市场"]),
    "e_commerce": (["网店运营", "淘宝天猫店铺运营", "电商平台运营", "拼多多开店指导"],
                   ["网店没有流量", "淘宝店铺不会运营", "想在拼多多开店", "电商平台订单很少"]),
    "live_streaming": (["抖音直播带货", "直播间运营", "短视频拍摄和直播", "直播卖货"],
                       ["想学直播带货", "直播间没人看", "不会拍短视频", "抖音直播卖不动"]),
    "financing": (["申请创业贷款", "财务规划", "对接银行和担保机构", "融资"],
                  ["资金周转困难", "贷款申请不下来", "缺少启动资金", "想扩大规模但缺钱"]),
    "supply_chain": (["供应链管理", "原料采购和物流", "冷链物流", "仓储配送"],
                     ["原料采购成本高", "物流太慢", "冷链运输跟不上", "发货经常出问题"]),
    "product_design": (["产品设计", "包装设计", "新品开发", "文创设计"],
                       ["包装太土", "产品款式老旧", "想开发新产品", "设计没有特色"]),
    "quality": (["质量检测", "食品安全认证", "标准化生产", "品质管控"],
                ["产品质量不稳定", "拿不到食品安全认证", "检测不合格", "品质参差不齐"]),
    "branding": (["品牌策划", "讲好品牌故事", "商标注册和品牌推广", "打造区域公用品牌"],
                 ["没有自己的品牌", "品牌知名度低", "不知道怎么讲品牌故事", "想注册商标"]),
    "management": (["企业管理", "团队管理", "合作社经营", "成本核算"],
                   ["管理不过来", "员工不好管", "合作社经营混乱", "账目算不清楚"]),
    "legal": (["合同法律", "知识产权保护", "劳动用工法律", "法律咨询"],
              ["合同纠纷", "产品被人仿冒", "不懂劳动合同", "遇到法律问题"]),
    "technology": (["种植养殖技术", "农业技术推广", "加工工艺改进", "数字化技术应用"],
                   ["技术跟不上", "养殖病害多", "加工设备落后", "产量上不去"]),
    "export": (["外贸出口", "跨境电商", "出口报关", "海外市场开拓"],
               ["想把产品卖到国外", "不懂出口手续", "跨境电商怎么做", "海外订单接不住"]),
}
INDUSTRY_PHRASES = {
    "handicraft": ["手工艺品", "手工制作", "非遗手作"],
    "embroidery": ["刺绣", "绣花", "金银彩绣"],
    "weaving": ["竹编", "草编", "竹编工艺品"],
    "textiles": ["服装加工", "纺织", "针织衫"],
    "ceramics": ["陶瓷", "木雕", "木作家具"],
    "agriculture": ["果蔬种植", "农产品", "杨梅种植", "水蜜桃"],
    "tea": ["茶叶", "茶园", "白茶", "绿茶"],
    "food": ["食品加工", "糕点", "年糕", "特色小吃"],
    "seafood": ["海鲜", "水产养殖", "海产品", "梭子蟹"],
    "homestay": ["民宿", "乡村旅游", "农家乐"],
    "ecommerce": ["电商", "网店", "电子商务"],
    "services": ["家政服务", "社区服务", "生活服务"],
}
GROUP_INTROS = {
    "scientist": ["在农科院从事研究工作", "高校教师，长期做技术推广", "农技站高级农艺师"],
    "entrepreneur": ["自己创办公司多年", "经营一家企业", "从小作坊做到年销售过千万"],
    "craftswoman": ["从小学手艺", "非遗传承人", "带着村里姐妹一起做手工"],
}
REQUEST_ROLES = ["经营者", "合作社负责人", "个体户", "创业者"]
REQUEST_CLOSINGS = ["希望有经验的姐妹帮帮我", "想请老师指导", "求帮助", "不知道该怎么办"]


@dataclass(frozen=True)
class Profile:
    """What a request truly needs (hidden from the matcher)."""

    industry: str
    needs: tuple[str, ...]
    source_mentor: object


def _skill_weights(group: str) -> np.ndarray:
    w = np.array([GROUP_AFFINITY[group].get(d, DEFAULT_AFFINITY) for d in DIFFICULTY_CODES])
    return w / w.sum()


def _choice(rng, items):
    return items[int(rng.integers(len(items)))]


def generate_mentors(n: int, rng: np.random.Generator, empty_bio_rate: float = 0.05,
                     inactive_rate: float = 0.04, full_rate: float = 0.10) -> list[Mentor]:
    mentors = []
    for i in range(n):
        group = _choice(rng, GROUP_CODES)
        first = _choice(rng, INDUSTRY_CODES)
        industries = [first]
        if rng.random() < 0.4:
            family = [c for c in INDUSTRY_CODES
                      if INDUSTRY_FAMILIES[c] == INDUSTRY_FAMILIES[first] and c != first]
            industries.append(_choice(rng, family or INDUSTRY_CODES))
        n_skills = int(rng.integers(2, 5))
        skills = [str(s) for s in rng.choice(DIFFICULTY_CODES, size=n_skills, replace=False,
                                             p=_skill_weights(group))]
        region = _choice(rng, DISTRICTS)
        capacity = int(rng.integers(1, 6))
        load = capacity if rng.random() < full_rate else int(rng.integers(0, capacity))
        bio = "" if rng.random() < empty_bio_rate else _mentor_bio(rng, group, industries,
                                                                   skills, region)
        mentors.append(Mentor(id=f"m{i}", group=group, industries=industries, skills=skills,
                              region=region, capacity=capacity, current_load=load,
                              active=bool(rng.random() >= inactive_rate), bio=bio))
    return mentors


def _mentor_bio(rng, group, industries, skills, region) -> str:
    industry_text = "和".join(_choice(rng, INDUSTRY_PHRASES[c]) for c in industries)
    skill_text = "、".join(_choice(rng, SKILL_PHRASES[s][0]) for s in skills)
    years = int(rng.integers(3, 25))
    parts = [f"我是{SHORT_NAMES[region]}人，{_choice(rng, GROUP_INTROS[group])}",
             f"做{industry_text}{years}年",
             f"擅长{skill_text}"]
    if rng.random() < 0.5:
        parts.append("愿意帮助刚起步的姐妹")
    return "，".join(parts) + "。"


def generate_requests(mentors: list[Mentor], n: int, rng: np.random.Generator,
                      empty_description_rate: float = 0.08
                      ) -> tuple[list[HelpRequest], list[Profile]]:
    available = [m for m in mentors if m.active and m.current_load < m.capacity]
    if not available:
        raise ValueError("mentors: none is available to write requests from")
    requests, profiles = [], []
    for i in range(n):
        source = _choice(rng, available)
        industry = _choice(rng, list(source.industries))
        n_needs = int(rng.integers(1, min(3, len(source.skills)) + 1))
        needs = tuple(str(s) for s in rng.choice(list(source.skills), size=n_needs,
                                                 replace=False))
        shown_industry = industry
        if rng.random() < 0.15:
            family = [c for c in INDUSTRY_CODES
                      if INDUSTRY_FAMILIES[c] == INDUSTRY_FAMILIES[industry] and c != industry]
            shown_industry = _choice(rng, family or INDUSTRY_CODES)
        ticked = [d for d in needs if rng.random() < 0.7]
        if rng.random() < 0.25:
            wrong = _choice(rng, [d for d in DIFFICULTY_CODES if d not in needs])
            ticked.append(wrong)
        draw = rng.random()
        region = (source.region if draw < 0.70 else
                  _choice(rng, DISTRICTS) if draw < 0.95 else OUTSIDE_NINGBO)
        description = ("" if rng.random() < empty_description_rate
                       else _request_text(rng, industry, needs, region))
        requests.append(HelpRequest(id=f"r{i}", industry=shown_industry, difficulties=ticked,
                                    region=region, description=description,
                                    stage=_choice(rng, ["idea", "startup", "growth", "mature"])))
        profiles.append(Profile(industry=industry, needs=needs, source_mentor=source.id))
    return requests, profiles


def _request_text(rng, industry, needs, region) -> str:
    parts = []
    where = SHORT_NAMES.get(region, region[:2])
    if rng.random() < 0.8:
        place = f"我在{where}" if rng.random() < 0.5 else "我"
        parts.append(f"{place}做{_choice(rng, INDUSTRY_PHRASES[industry])}，"
                     f"是{_choice(rng, REQUEST_ROLES)}")
    mentioned = [d for d in needs if rng.random() < 0.85]
    parts.extend(_choice(rng, SKILL_PHRASES[d][1]) for d in mentioned)
    parts.append(_choice(rng, REQUEST_CLOSINGS))
    return "，".join(parts) + "。"


def relevance(mentors: list[Mentor], request: HelpRequest, profile: Profile) -> np.ndarray:
    """Graded relevance of each mentor (0, 1, 2) to a request, in `mentors` order."""
    grades = np.zeros(len(mentors), dtype=np.int8)
    needs = set(profile.needs)
    for j, m in enumerate(mentors):
        if not (m.active and m.current_load < m.capacity):
            continue
        if profile.industry in m.industries and needs.issubset(m.skills):
            grades[j] = 2 if m.region == request.region else 1
    return grades


def success_probability(mentor: Mentor, request: HelpRequest, profile: Profile) -> float:
    """The hidden outcome model: how likely a suggestion is to end in a resolved problem."""
    coverage = np.mean([d in mentor.skills for d in profile.needs])
    same_district = mentor.region == request.region
    both_ningbo = mentor.region in REGIONS and request.region in REGIONS
    industry = (1.0 if profile.industry in mentor.industries else
                0.4 if any(INDUSTRY_FAMILIES[c] == INDUSTRY_FAMILIES[profile.industry]
                           for c in mentor.industries) else 0.0)
    affinity = np.mean([GROUP_AFFINITY[mentor.group].get(d, DEFAULT_AFFINITY)
                        for d in profile.needs])
    logit = (-4.0 + 2.5 * coverage + 2.5 * same_district + 0.5 * both_ningbo
             + 1.0 * industry + 1.5 * affinity)
    return float(1.0 / (1.0 + np.exp(-logit)))


def generate_outcomes(mentors: list[Mentor], requests: list[HelpRequest],
                      profiles: list[Profile], rng: np.random.Generator,
                      per_request: int = 8) -> list[Outcome]:
    """Past suggestions (the source mentor, mentors of the same industry family, and random
    ones) with sampled outcomes: accepted, resolved and a 1-5 satisfaction."""
    by_family: dict[str, list[Mentor]] = {}
    for m in mentors:
        for c in m.industries:
            by_family.setdefault(INDUSTRY_FAMILIES[c], []).append(m)
    by_id = {m.id: m for m in mentors}
    outcomes = []
    for request, profile in zip(requests, profiles, strict=True):
        family = by_family.get(INDUSTRY_FAMILIES[profile.industry], mentors)
        picked = {profile.source_mentor: by_id[profile.source_mentor]}
        while len(picked) < min(per_request, len(mentors)):
            pool = family if rng.random() < 0.5 else mentors
            m = _choice(rng, pool)
            picked.setdefault(m.id, m)
        for mentor in picked.values():
            p = success_probability(mentor, request, profile)
            accepted = bool(rng.random() < min(1.0, p + 0.3))
            resolved = bool(accepted and rng.random() < p / min(1.0, p + 0.3))
            satisfaction = int(np.clip(round(1 + 4 * p + rng.normal(0, 0.7)), 1, 5))
            outcomes.append(Outcome(request=request, mentor_id=mentor.id, accepted=accepted,
                                    resolved=resolved if accepted else None,
                                    satisfaction=satisfaction if accepted else None))
    return outcomes


def benchmark(n_mentors: int, n_requests: int, seed: int = 0):
    """Mentors, requests and their hidden profiles, reproducible from `seed`."""
    rng = np.random.default_rng(seed)
    mentors = generate_mentors(n_mentors, rng)
    requests, profiles = generate_requests(mentors, n_requests, rng)
    return mentors, requests, profiles
