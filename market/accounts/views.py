from __future__ import annotations

import hashlib

from flask import Blueprint, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_limiter.util import get_remote_address
from flask_login import current_user, login_required, login_user, logout_user

from market.accounts import services
from market.accounts.forms import ChangePasswordForm, ForgotPasswordForm, LoginForm, RegisterForm, ResetPasswordForm
from market.core.views import _safe_next
from market.extensions import limiter

bp = Blueprint("accounts", __name__, url_prefix="/account")


def _after_login_target(user) -> str:
    if user.has_role("artisan") and user.artisan is None:
        return url_for("artisans.setup")
    return _safe_next(request.args.get("next"))


# Rate-limit keys besides the client address (Flask-Limiter's default key). The email typed
# into the form is hashed, so the limiter's storage holds no addresses.
def _email_key() -> str:
    email = services.normalise_email(request.form.get("email", ""))
    return "email:" + hashlib.sha256(email.encode()).hexdigest()[:32]


def _account_key() -> str:
    return f"user:{current_user.id}" if current_user.is_authenticated else get_remote_address()


def _limit(setting: str, **kwargs):
    return limiter.limit(lambda: current_app.config[setting], methods=["POST"], **kwargs)


def _remembered() -> bool:
    return current_app.config.get("REMEMBER_COOKIE_NAME", "remember_token") in request.cookies


def _link_invalid(error: services.LinkInvalid):
    return render_template("accounts/link_invalid.html", message=str(error)), 400


@bp.route("/register", methods=["GET", "POST"])
@_limit("REGISTER_RATE_LIMIT")
@_limit("REGISTER_EMAIL_RATE_LIMIT", key_func=_email_key)
def register():
    form = RegisterForm()
    if form.validate_on_submit():
        try:
            user = services.sign_up(form.name.data, form.email.data, form.password.data, form.roles.data)
        except services.PasswordRejected as e:
            form.password.errors.append(str(e))
        except services.AccountError as e:
            form.email.errors.append(str(e))
        else:
            login_user(user)  # Flask-Login's user_logged_in signal: the guest cart is kept
            flash(_("Welcome to Sisters Market! We have sent you a link to confirm your email address."), "success")
            if user.has_role("entrepreneur") and not request.args.get("next"):
                return redirect(url_for("mentoring.index"))  # she signed up to ask for help
            return redirect(_after_login_target(user))
    return render_template("accounts/register.html", form=form)


@bp.route("/login", methods=["GET", "POST"])
@_limit("LOGIN_RATE_LIMIT")
def login():
    form = LoginForm()
    if form.validate_on_submit():
        try:
            user = services.authenticate(form.email.data, form.password.data)
        except services.AccountSuspended as e:
            form.email.errors.append(str(e))
        else:
            if user is None:
                form.password.errors.append(_("Wrong email or password."))
            else:
                login_user(user, remember=form.remember.data)
                return redirect(_after_login_target(user))
    return render_template("accounts/login.html", form=form)


@bp.post("/logout")
@login_required
def logout():
    services.end_all_sessions(current_user._get_current_object())
    logout_user()
    flash(_("You have logged out."), "info")
    return redirect(url_for("catalog.home"))


@bp.route("/password", methods=["GET", "POST"])
@login_required
def change_password():
    form = ChangePasswordForm()
    if form.validate_on_submit():
        user = current_user._get_current_object()
        try:
            services.change_password(user, form.current.data, form.password.data)
        except services.PasswordRejected as e:
            form.password.errors.append(str(e))
        except services.AccountError as e:
            form.current.errors.append(str(e))
        else:
            login_user(user, remember=_remembered())  # this session goes on under the new token
            flash(_("Your password has been changed. Other devices have been logged out."), "success")
            return redirect(url_for("accounts.profile"))
    return render_template("accounts/password.html", form=form)


@bp.route("/password/forgot", methods=["GET", "POST"])
@_limit("PASSWORD_RESET_RATE_LIMIT")
@_limit("PASSWORD_RESET_EMAIL_RATE_LIMIT", key_func=_email_key)
def forgot_password():
    form = ForgotPasswordForm()
    if form.validate_on_submit():
        services.request_password_reset(form.email.data)
        # The same page whether or not an account has this address.
        return render_template("accounts/forgot_sent.html")
    return render_template("accounts/forgot.html", form=form)


@bp.route("/password/reset/<token>", methods=["GET", "POST"])
def reset_password(token: str):
    try:
        services.user_for_reset_token(token)
    except services.LinkInvalid as e:
        return _link_invalid(e)
    form = ResetPasswordForm()
    if form.validate_on_submit():
        try:
            user = services.reset_password(token, form.password.data)
        except services.LinkInvalid as e:
            return _link_invalid(e)
        except services.PasswordRejected as e:
            form.password.errors.append(str(e))
        else:
            login_user(user)
            flash(_("Your new password is set. Every other session has been logged out."), "success")
            return redirect(url_for("accounts.profile"))
    return render_template("accounts/reset.html", form=form)


@bp.get("/verify/<token>")
def verify_email(token: str):
    try:
        services.verify_email(token)
    except services.LinkInvalid as e:
        return _link_invalid(e)
    flash(_("Thank you: your email address is confirmed."), "success")
    return redirect(url_for("accounts.profile") if current_user.is_authenticated else url_for("catalog.home"))


@bp.post("/verify/resend")
@login_required
@_limit("VERIFY_RESEND_RATE_LIMIT", key_func=_account_key)
def resend_verification():
    if current_user.email_verified:
        flash(_("Your email address is already confirmed."), "info")
    else:
        services.send_verification_mail(current_user._get_current_object())
        flash(_("We have sent a new confirmation link to %(email)s.", email=current_user.email), "success")
    return redirect(url_for("accounts.profile"))


@bp.get("/")
@login_required
def profile():
    return render_template("accounts/profile.html")
