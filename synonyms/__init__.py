"""Synonyms and spelling for search: a pure library (standard library only; no Flask).

Typical use::

    from synonyms import Thesaurus, Speller, parse_group

    thesaurus = Thesaurus.default()                          # the shipped lists
    thesaurus = thesaurus.merged(["绣花, 刺绣", "海鲜干货 => 鱼鲞, 虾干"])   # plus staff groups
    thesaurus.expand("绣花团扇")     # ['绣花团扇', '绣花 团扇', '刺绣 团扇', '绣花 扇子', ...]
    thesaurus.synonyms("绣花")       # ['刺绣', '绣品', ...]

    speller = Speller().fit({"刺绣": 40, "竹编果篮": 3, "embroidery": 12})
    speller.correct("剌绣")          # '刺绣' (None when nothing is wrong or nothing is close)

Groups are written one per line:

- ``a, b, c``      a, b and c mean the same thing: each expands to the others;
- ``a => b, c``    a is broader: a query for a also looks for b and c, but not the reverse
                   (海鲜干货 => 鱼鲞, 虾干: a search for 鱼鲞 must not bring every dried seafood).

Terms are compared after NFKC normalisation and lower-casing; Latin terms match whole words
(``tea`` is not found in ``steam``), CJK terms match anywhere (Chinese has no spaces). Bad
input raises ``ValueError`` with a message naming the problem. The matcher reuses
``Thesaurus`` as its thesaurus; the market passes staff edits as extra groups.
"""
from synonyms.spelling import Speller
from synonyms.thesaurus import Group, Thesaurus, normalise, parse_group, parse_groups

__all__ = ["Group", "Speller", "Thesaurus", "normalise", "parse_group", "parse_groups"]
