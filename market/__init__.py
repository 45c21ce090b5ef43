"""Sisters Market (姐妹集市): the Flask application factory."""
from __future__ import annotations

import logging
from itertools import chain
from typing import Any

from flask import Flask, jsonify, render_template, request, session
from flask_babel import format_decimal
from flask_babel import gettext as _
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import HTTPException

from market.config import PROJECT_ROOT, load_config
from market.extensions import babel, cache, csrf, db, limiter, login_manager, migrate

log = logging.getLogger(__name__)


def select_locale() -> str:
    from flask import current_app, has_request_context

    # Outside a request (CLI, background jobs, threads) there is no session to ask.
    lang = session.get("lang") if has_request_context() else None
    return lang if lang in current_app.config["LANGUAGES"] else current_app.config["BABEL_DEFAULT_LOCALE"]


def _current_user_proxy() -> dict[str, Any]:
    from flask_login import current_user

    return {"current_user": current_user}


def create_app(config: type | dict[str, Any] | None = None) -> Flask:
    """The app, configured from the environment as it is now, then from `config` (a mapping
    or a class of overrides). Raises market.config.ConfigError on unsafe or malformed settings."""
    app = Flask(
        __name__,
        template_folder=str(PROJECT_ROOT / "templates"),
        static_folder=str(PROJECT_ROOT / "static"),
    )
    app.config.update(load_config(overrides=config))
    from market.ids import BoundedIntConverter

    app.url_map.converters["int"] = BoundedIntConverter

    if app.config["SQLALCHEMY_DATABASE_URI"].startswith("sqlite:///"):
        db_path = app.config["SQLALCHEMY_DATABASE_URI"].removeprefix("sqlite:///")
        if db_path and db_path != ":memory:":
            from pathlib import Path

            Path(db_path).parent.mkdir(parents=True, exist_ok=True)
    from pathlib import Path

    Path(app.config["UPLOAD_FOLDER"]).mkdir(parents=True, exist_ok=True)

    from market.i18n import compile_catalogues

    compile_catalogues()

    db.init_app(app)
    migrate.init_app(app, db, directory=str(PROJECT_ROOT / "migrations"))
    csrf.init_app(app)
    babel.init_app(app, locale_selector=select_locale)
    limiter.init_app(app)
    # Templates get Flask-Login's lazy proxy, not the loaded user: its own context processor
    # loads her from the database for every template, even a signed-in page whose header
    # comes from the readers' cache and whose body never reads her (market/serving.py).
    login_manager.init_app(app, add_context_processor=False)
    app.context_processor(_current_user_proxy)
    login_manager.login_view = "accounts.login"
    login_manager.login_message = None

    from market import models  # noqa: F401  (register every table)
    from market.db_events import install_sqlite_pragmas

    install_sqlite_pragmas(app)
    from market import user_versions

    user_versions.install()  # cached headers follow every change to what they show

    _register_blueprints(app)
    _register_template_helpers(app)
    _register_error_handlers(app)
    _register_serving(app)

    from market.cli import register_cli

    register_cli(app)
    return app


def _register_serving(app: Flask) -> None:
    """What running on several app servers needs: a shared cache, background jobs, request
    ids, JSON logs, /metrics, fingerprinted static files (see README, "Deploying")."""
    from market import jobs, mail, notifications, observability, security, serving  # noqa: F401  (register jobs)

    security.init_app(app)
    cache.init_app(app)
    observability.init_app(app)
    serving.init_app(app)
    jobs.init_app(app)


def _register_blueprints(app: Flask) -> None:
    from market.accounts.views import bp as accounts_bp
    from market.artisans.views import bp as artisans_bp
    from market.catalog.views import bp as catalog_bp
    from market.core.views import bp as core_bp
    from market.staff.views import bp as staff_bp

    for bp in (core_bp, accounts_bp, catalog_bp, artisans_bp, staff_bp):
        app.register_blueprint(bp)

    # Blueprints added by later modules register themselves here when present.
    from market import plugins

    plugins.register_optional_blueprints(app)

    if app.config.get("ENV_NAME") == "development":
        from market.devmail import bp as dev_bp

        app.register_blueprint(dev_bp)


def _register_template_helpers(app: Flask) -> None:
    from market import areas, vocab

    @app.template_filter("yuan")
    def yuan(fen: int | None) -> str:
        """Integer fen to a display string in yuan: 12345 -> ¥123.45."""
        if fen is None:
            return ""
        sign = "-" if fen < 0 else ""
        whole, cents = divmod(abs(int(fen)), 100)
        return f"{sign}¥{format_decimal(whole, format='#,##0')}.{cents:02d}"

    from market.timefmt import localtime

    # Every time shown on a page goes through this: stored UTC, shown in TIMEZONE (Beijing time).
    app.add_template_filter(localtime, "localtime")

    @app.context_processor
    def inject_globals() -> dict[str, Any]:
        return {
            "vocab": vocab,
            "district_choices": areas.district_choices,
            "district_label": areas.district_label,
            "current_locale": select_locale(),
        }


def _wants_json() -> bool:
    return request.path.startswith("/api/") or request.path in ("/healthz",) or request.is_json or (
        request.accept_mimetypes.best == "application/json"
    )


def _register_error_handlers(app: Flask) -> None:
    messages = {
        400: lambda: _("The request could not be understood."),
        403: lambda: _("You do not have permission to do that."),
        404: lambda: _("The page you were looking for does not exist."),
        405: lambda: _("That action is not allowed here."),
        413: lambda: _("The upload is too large."),
        429: lambda: _("Too many attempts. Please wait a moment and try again."),
        500: lambda: _("Something went wrong on our side. Please try again."),
    }

    def render_error(code: int, message: str | None = None):
        message = message or messages.get(code, messages[500])()
        if _wants_json():
            return jsonify(error={"code": code, "message": message}), code
        return render_template("error.html", code=code, message=message), code

    @app.before_request
    def refuse_malformed_input():
        """Input no view can use is refused here, once, with a 400, instead of failing deep
        inside a view or the database: a JSON body that is not an object of plain fields (what
        forms and JSON endpoints read), and NUL characters anywhere (PostgreSQL text cannot
        hold them). The payments webhook reads its raw body itself."""
        if request.endpoint == "payments.webhook":
            return None
        if request.method in ("GET", "HEAD") and "\x00" not in request.path and (
                b"%00" not in request.query_string and b"\x00" not in request.query_string):
            return None  # the common case, without decoding every argument: no NUL anywhere
        texts = [request.path, *request.args.keys(), *chain.from_iterable(request.args.listvalues())]
        if request.method in ("POST", "PUT", "PATCH"):
            if request.is_json:
                body = request.get_json(silent=True)
                if not isinstance(body, dict) or not all(
                        isinstance(v, str | int | float | bool) or v is None for v in body.values()):
                    return render_error(400, _("The request body must be a JSON object of fields."))
                texts += [*body.keys(), *(v for v in body.values() if isinstance(v, str))]
            else:
                texts += [*request.form.keys(), *chain.from_iterable(request.form.listvalues()),
                          *(f.filename or "" for f in request.files.values())]
        if any("\x00" in t for t in texts):
            return render_error(400, _("The request contains characters that are not allowed."))
        return None

    @app.errorhandler(CSRFError)
    def csrf_error(e: CSRFError):
        return render_error(400, _("Your form expired or was tampered with. Please reload the page and try again."))

    @app.errorhandler(HTTPException)
    def http_error(e: HTTPException):
        if e.code in (301, 302, 303, 307, 308):
            return e
        return render_error(e.code or 500)

    @app.errorhandler(Exception)
    def unhandled(e: Exception):
        log.exception("Unhandled error on %s %s", request.method, request.path)
        db.session.rollback()
        return render_error(500)
