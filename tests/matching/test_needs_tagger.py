"""The needs tagger's precision work (issue 18): clauses saying something is fine are not
needs, a further label needs its own evidence, and held-out requests written for these tests
(not in the phrase bank, not in the development requests, not from the evaluation set) are read
with precision and recall thresholds."""
from __future__ import annotations

import numpy as np
import pytest

from matching.operating_point import development_requests, parse_requests
from matching.tagger import PhraseTagger, is_satisfied_clause, need_clauses
from matching.text import NeedsTagger, default_phrases

# Whole requests in everyday words, with context; some with two needs, some saying what is fine.
HELD_OUT = [
    ("我在山里种高山蔬菜，菜是好菜，可是拉到镇上也卖不掉几斤", {"market_access"}),
    ("老公在外打工，我在家做鞋垫，做了几百双不知道卖给谁", {"market_access"}),
    ("开了个淘宝店卖腊肠，一个月下来就几单，都是亲戚买的", {"e_commerce"}),
    ("网店的详情页是找人随便做的，进来的人转一圈就走了", {"e_commerce"}),
    ("晚上开直播卖花生，最多的时候也就十来个人在看", {"live_streaming"}),
    ("想学拍抖音短视频，把我们做年糕的过程拍下来", {"live_streaming"}),
    ("想把养蜂场扩大一倍，差钱，银行又贷不下来", {"financing"}),
    ("记账一塌糊涂，年底也不知道到底挣了多少", {"financing"}),
    ("做青团的糯米粉价格一直涨，成本压不下来", {"supply_chain"}),
    ("冬笋寄出去路上要四五天，到客人手里都不新鲜了", {"supply_chain"}),
    ("我们扎的灯笼样式十几年没变，年轻人都说土", {"product_design"}),
    ("想给手工香皂换个好看的包装，现在的太寒酸", {"product_design"}),
    ("做的辣椒酱想卖到外面，可是没有食品生产许可", {"quality"}),
    ("客人说我们的枣子吃出了虫，心里很慌", {"quality"}),
    ("我家的山茶油没名气，跟路边摊的看起来一样", {"branding"}),
    ("想给我们合作社的大米做一个响亮的牌子", {"branding"}),
    ("店里请了五六个人，排班老是乱，谁也不服谁", {"management"}),
    ("一个人从早忙到晚，事情多得顾不过来", {"management"}),
    ("做了一批货，对方收了货一直不付钱，想走法律途径", {"legal"}),
    ("我的剪纸作品被人拍了照片印在杯子上卖", {"legal"}),
    ("种的草莓今年烂果特别多，不知道是什么病", {"technology"}),
    ("想买台自动封口机，不知道哪种好用", {"technology"}),
    ("一个德国客户想批量订我们的竹席，不懂怎么出口", {"export"}),
    ("想把绣品卖给外国人，在国外的网站上开店", {"export"}),
    ("直播卖了不少单，可是快递老是送错送晚", {"live_streaming", "supply_chain"}),
    ("想申请个贷款，再请个人来帮忙管店", {"financing", "management"}),
    ("包装换了新设计以后，想把东西卖进大超市", {"product_design", "market_access"}),
    ("别人仿冒我们的牌子，想把商标保护起来", {"legal", "branding"}),
    ("资金倒是够用，就是不会在网上卖东西", {"e_commerce"}),
    ("销路不愁，就是做出来的东西老坏，保存不住", {"quality"}),
    ("产品没什么问题，想找人教我直播", {"live_streaming"}),
]


@pytest.fixture(scope="module")
def tagger():
    return NeedsTagger().fit()


def test_held_out_requests_are_in_neither_the_bank_nor_the_development_requests():
    bank = {p for items in default_phrases().values() for p in items}
    written = {t for t, _ in development_requests()}
    held = {t for t, _ in HELD_OUT}
    assert not held & bank and not held & written


def test_held_out_precision_and_recall(tagger):
    found = tagger.predict([t for t, _ in HELD_OUT])
    precision = [len(set(f) & n) / len(f) if f else 0.0 for (_, n), f in zip(HELD_OUT, found, strict=True)]
    recall = [len(set(f) & n) / len(n) for (_, n), f in zip(HELD_OUT, found, strict=True)]
    # Measured 0.726 / 0.806 at the shipped threshold (main before this work: 0.742 / 0.790).
    assert np.mean(precision) >= 0.7, np.mean(precision)
    assert np.mean(recall) >= 0.75, np.mean(recall)


@pytest.mark.parametrize("clause", ["钱倒是不缺", "质量没问题", "销路挺好的", "东西不愁卖", "资金方面还可以"])
def test_clauses_saying_something_is_fine_are_recognised(clause):
    assert is_satisfied_clause(clause)


@pytest.mark.parametrize("clause", ["手上的钱不够", "质量有问题", "不会做直播", "网店没人来"])
def test_troubles_are_not_taken_for_fine(clause):
    assert not is_satisfied_clause(clause)


def test_need_clauses_set_aside_what_is_fine_but_never_everything():
    assert need_clauses("钱倒是不缺，就是网店不会弄") == ["就是网店不会弄"]
    assert need_clauses("质量没问题") == ["质量没问题"]
    assert need_clauses("钱倒是不缺，就是网店不会弄", negation=False) == ["钱倒是不缺", "就是网店不会弄"]


def test_a_need_said_to_be_fine_is_not_tagged(tagger):
    text = "钱倒是不缺，就是网店不会弄"
    assert tagger.predict([text])[0] == ("e_commerce",)
    plain = NeedsTagger(negation=False).fit()
    # Without the rule the money clause is read as a need of its own.
    assert "financing" in dict(plain.tag(text, min_confidence=0.2))
    assert "financing" not in dict(tagger.tag(text, min_confidence=0.2))


def test_a_further_label_needs_its_own_unit():
    bank = {"fruit": ["红色的苹果", "青色的苹果"], "banana": ["红色的香蕉", "黄色的香蕉"],
            "sky": ["蓝色的天空", "灰色的天空"]}
    tagger = PhraseTagger(phrases=bank, thesaurus=_empty_thesaurus(), lr_weight=0.5).fit()
    proba = tagger.predict_proba(["红色的苹果"])[0]
    banana = tagger.labels_.index("banana")
    assert proba[banana] > 0.05                      # the runner-up has some confidence ...
    labels = [label for label, _ in tagger.tag("红色的苹果", min_confidence=0.01)]
    assert labels == ["fruit"]                       # ... but no clause of its own
    both = [label for label, _ in tagger.tag("红色的苹果，黄色的香蕉", min_confidence=0.01)]
    assert set(both) == {"fruit", "banana"}


def test_lr_weight_is_checked():
    with pytest.raises(ValueError, match="lr_weight"):
        PhraseTagger(phrases={"a": ["一"], "b": ["二"]}, lr_weight=1.5).fit()


def test_parse_requests_reads_codes_and_names_bad_lines():
    rows = parse_requests("# c\nfinancing, legal | 钱不够还被告了\n\nquality | 抽检没过\n",
                          {"financing", "legal", "quality"})
    assert rows == [("钱不够还被告了", {"financing", "legal"}), ("抽检没过", {"quality"})]
    with pytest.raises(ValueError, match="line 1"):
        parse_requests("没有竖线的一行")
    with pytest.raises(ValueError, match="unknown codes"):
        parse_requests("cooking | 做饭", {"quality"})
    with pytest.raises(ValueError, match="line 1"):
        parse_requests(" | 没有代码")


def test_shipped_development_requests_are_not_training_phrasings():
    rows = development_requests()
    assert len(rows) >= 150 and sum(len(n) == 2 for _, n in rows) >= 15
    bank = {p for items in default_phrases().values() for p in items}
    assert not bank & {t for t, _ in rows}


def _empty_thesaurus():
    from synonyms import Thesaurus
    return Thesaurus([])
