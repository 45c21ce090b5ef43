"""Every user-facing string has a Chinese translation (Chinese is the default UI)."""
import subprocess
import sys
from pathlib import Path

from babel.messages.pofile import read_po

ROOT = Path(__file__).resolve().parents[2]


def test_every_extracted_string_is_translated_to_chinese(tmp_path):
    pot = tmp_path / "messages.pot"
    subprocess.run(
        [str(Path(sys.executable).parent / "pybabel"), "extract", "-F", "babel.cfg",
         "-k", "_l", "-k", "lazy_gettext", "-o", str(pot), "."],
        cwd=ROOT, check=True, capture_output=True,
    )
    with pot.open("rb") as f:
        extracted = {m.id for m in read_po(f) if m.id}
    with (ROOT / "market/translations/zh/LC_MESSAGES/messages.po").open("rb") as f:
        catalog = read_po(f)
    translated = {
        m.id for m in catalog
        if m.id and "fuzzy" not in m.flags and all(m.string if isinstance(m.string, tuple) else [m.string])
    }
    missing = sorted(str(m) for m in extracted - translated)
    assert not missing, "untranslated (run `make i18n`, then translate): " + "; ".join(missing[:30])


def test_stale_catalogues_are_compiled(tmp_path):
    import os

    from babel.messages.mofile import read_mo

    from market.i18n import compile_catalogues, stale_catalogues

    po_dir = tmp_path / "zh" / "LC_MESSAGES"
    po_dir.mkdir(parents=True)
    po = po_dir / "messages.po"
    po.write_text('msgid ""\nmsgstr ""\n"Content-Type: text/plain; charset=UTF-8\\n"\n\n'
                  'msgid "Cart"\nmsgstr "购物车"\n', encoding="utf-8")
    assert stale_catalogues(tmp_path) == [po]
    assert compile_catalogues(tmp_path) == [po]
    assert stale_catalogues(tmp_path) == []
    with (po_dir / "messages.mo").open("rb") as f:
        assert read_mo(f)["Cart"].string == "购物车"
    os.utime(po, (po.stat().st_mtime + 10,) * 2)  # edited after compiling: stale again
    assert stale_catalogues(tmp_path) == [po]


def test_the_app_speaks_chinese_without_make(app, client):
    from market.i18n import stale_catalogues

    assert stale_catalogues() == []
    assert "购物车" in client.get("/").get_data(as_text=True)


def test_catalogues_have_no_duplicate_or_broken_entries():
    """Branches append their entries at the end of the catalogues and git merges them as a
    union; a msgid added on two branches, or a merge that splits an entry (a msgstr without
    its msgid), must fail here: gettext's `msgfmt -c` refuses such a file, Babel silently
    keeps one of the two."""
    root = Path(__file__).resolve().parents[2] / "market" / "translations"
    for po in sorted(root.glob("*/LC_MESSAGES/messages.po")):
        entries, current, previous = [], None, None
        for number, line in enumerate(po.read_text(encoding="utf-8").splitlines(), 1):
            if line.startswith("#~") or not line.strip() or line.startswith("#"):
                continue
            keyword = line.split(" ", 1)[0] if not line.startswith('"') else '"'
            if keyword == "msgctxt" or (keyword == "msgid" and previous != "msgctxt"):
                current = {"key": [line], "strs": 0, "line": number, "plural": False}
                entries.append(current)
            elif keyword == "msgid" or keyword == '"' and previous in ("msgid", "msgctxt", '"') and current["strs"] == 0:
                current["key"].append(line)
            elif keyword.startswith("msgstr"):
                assert current is not None, f"{po}:{number}: msgstr before any msgid"
                assert previous != "msgstr" or current["plural"], f"{po}:{number}: a second msgstr"
                current["strs"] += 1
            elif keyword == "msgid_plural":
                current["plural"] = True
            if keyword != '"':
                previous = keyword if not keyword.startswith("msgstr") else "msgstr"
        broken = [e["line"] for e in entries if e["strs"] == 0]
        assert not broken, f"{po}: msgid without msgstr at lines {broken[:5]}"
        seen: dict = {}
        dupes = []
        for e in entries:
            key = tuple(e["key"])
            if key in seen:
                dupes.append((e["line"], seen[key]))
            seen.setdefault(key, e["line"])
        assert not dupes, f"{po}: duplicate msgids at lines (dup, first) {dupes[:5]}"
