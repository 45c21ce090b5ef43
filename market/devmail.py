"""Development only: every mail the console backend "sent", listed at /dev/notices
(with every notice of market.notifications; /dev/mail redirects there).

Without MAIL_SERVER, mails are printed to the console; in development they are also appended to
DATA_DIR/dev-mail.jsonl (a file, so mails sent by a worker process show too) and listed here,
newest first. The blueprint is registered only when MARKET_ENV is development."""
from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

from flask import Blueprint, current_app, redirect, render_template, url_for

bp = Blueprint("dev", __name__, url_prefix="/dev")
KEEP = 200


def _path() -> Path:
    return Path(current_app.config["DATA_DIR"]) / "dev-mail.jsonl"


def keep(to: str, subject: str, body: str) -> None:
    if current_app.config.get("ENV_NAME") != "development":
        return
    path = _path()
    path.parent.mkdir(parents=True, exist_ok=True)
    entry = {"at": datetime.now(UTC).isoformat(timespec="seconds"), "to": to, "subject": subject, "body": body}
    with path.open("a", encoding="utf-8") as f:
        f.write(json.dumps(entry, ensure_ascii=False) + "\n")


def recent(limit: int = KEEP) -> list[dict]:
    path = _path()
    if not path.exists():
        return []
    lines = path.read_text(encoding="utf-8").splitlines()[-limit:]
    mails = []
    for line in reversed(lines):
        try:
            entry = json.loads(line)
            entry["at"] = datetime.fromisoformat(entry["at"])
            mails.append(entry)
        except (ValueError, KeyError, TypeError):
            continue  # a half-written line from a crash: skip it
    return mails


@bp.get("/notices")
def notices():
    """Every notice (in-app, mail, SMS) from its table, then the other console mails (account
    links, which are not stored)."""
    from market.notifications.inbox import recent_all

    return render_template("dev/notices.html", notices=recent_all(), mails=recent())


@bp.get("/mail")
def mailbox():
    return redirect(url_for(".notices"))
