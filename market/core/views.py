"""Health check, language switch and uploaded media."""
from __future__ import annotations

from urllib.parse import urlsplit

from flask import Blueprint, current_app, jsonify, redirect, request, send_from_directory, session, url_for
from sqlalchemy import text

from market.extensions import db

bp = Blueprint("core", __name__)


@bp.get("/healthz")
def healthz():
    try:
        db.session.execute(text("SELECT 1"))
        database = "ok"
    except Exception as exc:  # the point of a health check is to report, not raise
        current_app.logger.warning("health check: database unreachable: %s", exc)
        db.session.rollback()
        return jsonify(status="error", database="unreachable"), 503
    return jsonify(status="ok", database=database, dialect=db.engine.dialect.name)


def _safe_next(target: str | None) -> str:
    """Only same-site relative paths; anything else goes home (no open redirect)."""
    if target:
        parts = urlsplit(target)
        if not parts.scheme and not parts.netloc and target.startswith("/") and not target.startswith("//"):
            return target
    return url_for("catalog.home")


@bp.get("/lang/<code>")
def set_language(code: str):
    if code in current_app.config["LANGUAGES"]:
        session["lang"] = code
    referrer = request.referrer or ""
    parts = urlsplit(referrer)
    back = parts.path + (f"?{parts.query}" if parts.query else "") if parts.netloc == request.host else None
    return redirect(_safe_next(request.args.get("next") or back))


@bp.get("/media/<path:filename>")
def media(filename: str):
    response = send_from_directory(current_app.config["UPLOAD_FOLDER"], filename, max_age=31536000)
    return response
