"""The synonyms package: groups, expansion, spelling. Pure: no app, no database."""
import pytest

from synonyms import Group, Speller, Thesaurus, normalise, parse_group, parse_groups
from synonyms.spelling import edit_distance


def test_parse_group_reads_equivalents_and_one_way_groups():
    assert parse_group("绣花， 刺绣、Embroidery") == Group(("绣花", "刺绣", "embroidery"))
    assert parse_group("海鲜干货 => 鱼鲞, 虾干") == Group(("鱼鲞", "虾干"), broader="海鲜干货")
    assert parse_group("海鲜干货 → 鱼鲞").as_line() == "海鲜干货 => 鱼鲞"
    assert parse_group("ａｂｃ, abc, def").terms == ("abc", "def")  # NFKC: full-width is the same word


@pytest.mark.parametrize("bad", ["", "刺绣", "刺绣, 刺绣", "a => ", " => b", "a, b => c", "a => b => c", "x" * 50 + ", y"])
def test_bad_groups_raise_value_error(bad):
    with pytest.raises(ValueError):
        parse_group(bad)


def test_parse_groups_names_the_bad_line():
    with pytest.raises(ValueError, match="line 3"):
        parse_groups("# comment\n刺绣, 绣花\n刺绣\n")


def test_equivalents_expand_both_ways_and_broader_terms_one_way():
    t = Thesaurus(["绣花, 刺绣", "海鲜干货 => 鱼鲞, 虾干"])
    assert t.synonyms("绣花") == ["刺绣"] and t.synonyms("刺绣") == ["绣花"]
    assert t.synonyms("海鲜干货") == ["鱼鲞", "虾干"]
    assert t.synonyms("鱼鲞") == []  # a search for 鱼鲞 must not bring every dried seafood
    assert t.expand("绣花") == ["绣花", "刺绣"]
    assert t.expand("海鲜干货") == ["海鲜干货", "鱼鲞", "虾干"]


def test_expand_cuts_known_terms_apart_and_keeps_the_rest():
    t = Thesaurus(["绣花, 刺绣", "扇子, 团扇"])
    assert t.alternatives("绣花扇子") == [("绣花", "刺绣"), ("扇子", "团扇")]
    assert t.alternatives("手工绣花") == [("手工",), ("绣花", "刺绣")]
    variants = t.expand("绣花扇子")
    assert variants[0] == "绣花扇子" and "刺绣 团扇" in variants and len(variants) == len(set(variants))
    assert len(t.expand("绣花扇子", limit=2)) == 2


def test_latin_terms_match_whole_words_and_longest_terms_win():
    t = Thesaurus(["tea, 茶叶", "海鲜, seafood", "海鲜干货 => 鱼鲞"])
    assert t.alternatives("steam") == [("steam",)]
    assert t.alternatives("green tea") == [("green",), ("tea", "茶叶")]
    assert t.alternatives("海鲜干货")[0][0] == "海鲜干货"


def test_default_lists_load_and_merge_with_staff_groups():
    default = Thesaurus.default()
    assert "刺绣" in default.synonyms("绣花")
    assert "杨梅" in default.synonyms("myrica rubra")
    assert "鱼鲞" in default.synonyms("海鲜干货")
    merged = default.merged(["绣花, 绣绣看"])
    assert len(merged) == len(default) + 1 and "绣绣看" in merged.synonyms("绣花")
    assert "绣绣看" not in default.synonyms("绣花")  # merging never changes the original


def test_normalise():
    assert normalise("  Ｓｉｌｋ   Scarf ") == "silk scarf"


def test_edit_distance():
    assert edit_distance("honey", "hony") == 1
    assert edit_distance("embroidery", "embroidry") == 1
    assert edit_distance("silk", "slik") == 1  # a transposition is one edit
    assert edit_distance("bamboo", "basket") == 3  # over the limit: limit + 1


def test_speller_corrects_one_wrong_character_in_short_chinese_words():
    s = Speller().fit({"刺绣": 40, "手绣": 3, "竹编果篮": 3, "虾干": 1, "虾皮": 1, "蜂蜜": 2})
    assert s.correct("剌绣") == "刺绣"
    assert s.correct("刺锈") == "刺绣"
    assert s.correct("竹编果蓝") == "竹编果篮"
    assert s.correct("虾千") == "虾干"  # a look-alike breaks the tie with 虾皮
    assert s.correct("蜂密") == "蜂蜜"
    assert s.correct("刺绣") is None  # known words are left alone
    assert s.correct("草帽") is None  # nothing close: no guess


def test_speller_corrects_english_typos_but_not_prefixes():
    s = Speller().fit({"embroidery": 12, "honey": 3, "bamboo": 5, "silk": 4})
    assert s.correct("embroidry") == "embroidery"
    assert s.correct("Hony scarf") == "honey scarf"
    assert s.correct("bambo") is None  # a prefix of a known word: search finds it already
    assert s.correct("xyz") is None
    assert s.correct("emroidey") == "embroidery"  # two edits for longer words


def test_speller_must_be_fitted():
    with pytest.raises(RuntimeError):
        Speller().correct("刺绣")


def test_speller_corrects_a_typo_inside_words_typed_without_spaces():
    s = Speller().fit({"刺绣": 40, "手工": 30, "团扇": 10, "工刺": 5, "绣团": 3, "竹编": 10, "果篮": 4, "编果": 3})
    assert s.correct("手工剌绣团扇") == "手工刺绣团扇"
    assert s.correct("我要竹编果蓝") == "我要竹编果篮"
    assert s.correct("手工刺绣团扇") is None
    assert s.correct("手工刺绣火星") is None  # 团星 is no word: no guess
