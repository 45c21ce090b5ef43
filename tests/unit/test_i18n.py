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
