from market import search


def test_index_tokens_have_cjk_unigrams_bigrams_and_lowercase_words():
    tokens = search.index_tokens("手工刺绣 Silk-Scarf 2026").split()
    assert {"手", "工", "刺", "绣", "手工", "工刺", "刺绣"} <= set(tokens)
    assert {"silk", "scarf", "2026"} <= set(tokens)
    assert "Silk" not in tokens


def test_title_tokens_come_first_repeated_and_separated_from_description():
    tokens = search.index_tokens("海鲜", "礼盒")
    title, description = tokens.split(" | ")
    assert title.split().count("海鲜") == 3
    assert description.split() == ["礼", "盒", "礼盒"]
    assert "|" not in [t for t, _ in search.query_terms("海鲜 | 礼盒")]


def test_query_terms_for_two_char_word_single_char_long_run_and_english():
    assert search.query_terms("刺绣") == [("刺绣", False)]
    assert search.query_terms("绣") == [("绣", False)]
    assert search.query_terms("海鲜礼盒") == [("海鲜", False), ("鲜礼", False), ("礼盒", False)]
    assert search.query_terms("Embroid") == [("embroid", True)]


def test_query_terms_ignore_punctuation_and_injection_characters():
    assert search.query_terms('"; DROP TABLE --') == [("drop", True), ("table", True)]
    assert search.query_terms("！！？？") == []
    assert search.fts5_query(search.query_terms('刺绣 "x')) == '"刺绣" AND "x"*'
    assert search.tsquery(search.query_terms("刺绣 silk")) == "'刺绣' & 'silk':*"


def test_full_width_forms_are_normalised():
    assert search.query_terms("ＳＩＬＫ") == [("silk", True)]
