"""Message catalogues: compiled from the .po files whenever a .mo is missing or older, so no
path (a fresh clone, plain `pytest`, an installed package) shows English by accident."""
from __future__ import annotations

import logging
from pathlib import Path

log = logging.getLogger(__name__)

TRANSLATIONS = Path(__file__).resolve().parent / "translations"


def stale_catalogues(directory: Path = TRANSLATIONS) -> list[Path]:
    """The .po files whose .mo is missing or older than they are."""
    stale = []
    for po in sorted(directory.glob("*/LC_MESSAGES/*.po")):
        mo = po.with_suffix(".mo")
        if not mo.exists() or mo.stat().st_mtime < po.stat().st_mtime:
            stale.append(po)
    return stale


def compile_catalogues(directory: Path = TRANSLATIONS) -> list[Path]:
    """Compile every stale catalogue (as `pybabel compile` would); returns what was compiled.
    A read-only installation logs the failure and keeps whatever .mo it has."""
    from babel.messages.mofile import write_mo
    from babel.messages.pofile import read_po

    compiled = []
    for po in stale_catalogues(directory):
        mo = po.with_suffix(".mo")
        try:
            with po.open("rb") as f:
                catalog = read_po(f, locale=po.parent.parent.name)
            tmp = mo.with_suffix(".mo.tmp")
            with tmp.open("wb") as f:
                write_mo(f, catalog)
            tmp.replace(mo)  # atomic: a concurrent reader never sees half a file
            compiled.append(po)
        except OSError as exc:
            log.warning("cannot compile %s: %s", po, exc)
    return compiled
