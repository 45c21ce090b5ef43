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
