"""Fill Chinese translations into market/translations/zh/LC_MESSAGES/messages.po from a
tab-separated file of `English<TAB>中文` lines (for plurals: `one|other<TAB>中文`).
Existing translations are kept unless --overwrite. Usage:
    python scripts/fill_po.py translations.tsv
"""
import sys
from pathlib import Path

from babel.messages.pofile import read_po, write_po

PO = Path(__file__).resolve().parent.parent / "market/translations/zh/LC_MESSAGES/messages.po"


def main(tsv: str, overwrite: bool = False) -> None:
    pairs = {}
    for line in Path(tsv).read_text(encoding="utf-8").splitlines():
        if "\t" in line:
            en, zh = line.split("\t", 1)
            pairs[en] = zh
    with PO.open("rb") as f:
        catalog = read_po(f)
    filled = 0
    for msg in catalog:
        if not msg.id:
            continue
        key = "|".join(msg.id) if isinstance(msg.id, tuple) else msg.id
        if key in pairs and (overwrite or not (msg.string if not isinstance(msg.string, tuple) else msg.string[0])):
            msg.string = (pairs[key],) if isinstance(msg.id, tuple) else pairs[key]
            if "fuzzy" in msg.flags:
                msg.flags.discard("fuzzy")
            filled += 1
    with PO.open("wb") as f:
        write_po(f, catalog, width=0)
    missing = [m.id for m in catalog if m.id and not (m.string[0] if isinstance(m.string, tuple) else m.string)]
    print(f"filled {filled}; still untranslated: {len(missing)}")
    for m in missing:
        print("  ", m)


if __name__ == "__main__":
    main(sys.argv[1], "--overwrite" in sys.argv)
