from __future__ import annotations

from flask import Blueprint, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required, login_user, logout_user

from market.accounts import services
from market.accounts.forms import ChangePasswordForm, LoginForm, RegisterForm
from market.core.views import _safe_next
from market.extensions import limiter

bp = Blueprint("accounts", __name__, url_prefix="/account")


def _after_login_target(user) -> str:
    if user.has_role("artisan") and user.artisan is None:
        return url_for("artisans.setup")
    return _safe_next(request.args.get("next"))


@bp.route("/register", methods=["GET", "POST"])
def register():
    form = RegisterForm()
    if form.validate_on_submit():
        try:
            user = services.register_user(form.name.data, form.email.data, form.password.data, form.roles.data)
        except services.AccountError as e:
            form.email.errors.append(str(e))
        else:
            login_user(user)
            flash(_("Welcome to Sisters Market!"), "success")
            if user.has_role("entrepreneur") and not request.args.get("next"):
                return redirect(url_for("mentoring.index"))  # she signed up to ask for help
            return redirect(_after_login_target(user))
    return render_template("accounts/register.html", form=form)


@bp.route("/login", methods=["GET", "POST"])
@limiter.limit(lambda: current_app.config["LOGIN_RATE_LIMIT"], methods=["POST"])
def login():
    form = LoginForm()
    if form.validate_on_submit():
        user = services.authenticate(form.email.data, form.password.data)
        if user is None:
            form.password.errors.append(_("Wrong email or password."))
        else:
            login_user(user, remember=form.remember.data)
            from market import signals

            signals.user_logged_in_merge.send(current_app._get_current_object(), user=user)
            return redirect(_after_login_target(user))
    return render_template("accounts/login.html", form=form)


@bp.post("/logout")
@login_required
def logout():
    logout_user()
    flash(_("You have logged out."), "info")
    return redirect(url_for("catalog.home"))


@bp.route("/password", methods=["GET", "POST"])
@login_required
def change_password():
    form = ChangePasswordForm()
    if form.validate_on_submit():
        try:
            services.change_password(current_user, form.current.data, form.password.data)
        except services.AccountError as e:
            form.current.errors.append(str(e))
        else:
            flash(_("Your password has been changed."), "success")
            return redirect(url_for("accounts.profile"))
    return render_template("accounts/password.html", form=form)


@bp.get("/")
@login_required
def profile():
    return render_template("accounts/profile.html")
