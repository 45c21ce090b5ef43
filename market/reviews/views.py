"""Writing, answering and moderating reviews (the rules are in market.reviews.services)."""
from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required

from market.auth import role_required
from market.models import Review
from market.reviews import services
from market.reviews.forms import ReviewForm
from market.views_common import run_and_redirect

bp = Blueprint("reviews", __name__)


def _product_url(review_or_id) -> str:
    from market.extensions import db

    review = review_or_id if isinstance(review_or_id, Review) else db.session.get(Review, review_or_id)
    if review is None:
        abort(404)
    return url_for("catalog.product", product_id=review.product_id) + "#reviews"


def _on_review(review_id: int, call, done: str, back: str | None = None):
    """Answer, hide or restore: back to the product's reviews (or `back`) with the outcome flashed."""
    return run_and_redirect(call, done=done, to=lambda: back or _product_url(review_id), errors=services.ReviewError,
                            missing=services.NotFound)


@bp.route("/reviews/new/<int:line_id>", methods=["GET", "POST"])
@login_required
def write(line_id: int):
    form = ReviewForm()
    error = None
    try:
        line = services.line_to_review(current_user, line_id)
    except services.NotFound:
        abort(404)
    except services.ReviewError as e:
        # Delivered not yet, or reviewed already: say so, with the form nowhere to be sent.
        return render_template("reviews/write.html", form=None, line=None, error=str(e)), 409
    if form.validate_on_submit():
        try:
            review = services.write_review(current_user, line_id, stars=form.stars.data, body=form.body.data,
                                           photos=form.photos.data)
        except services.NotFound:
            abort(404)
        except services.ReviewError as e:
            field = getattr(form, e.field, None) if e.field else None
            if field is not None:
                field.errors = list(field.errors) + [str(e)]
            else:
                error = str(e)
        else:
            flash(_("Thank you! Your review is published."), "success")
            return redirect(_product_url(review))
    return render_template("reviews/write.html", form=form, line=line, error=error), 400 if form.errors or error else 200


@bp.post("/reviews/<int:review_id>/reply")
@role_required("artisan")
def reply(review_id: int):
    return _on_review(review_id, lambda: services.answer(current_user, review_id, request.form.get("reply", "")),
                      _("Your answer is published."))


@bp.post("/staff/reviews/<int:review_id>/hide")
@role_required("staff")
def hide(review_id: int):
    return _on_review(review_id, lambda: services.hide(current_user, review_id, request.form.get("reason", "")),
                      _("The review is hidden."))


@bp.post("/staff/reviews/<int:review_id>/restore")
@role_required("staff")
def restore(review_id: int):
    back = url_for("staff.moderation") if request.form.get("back") == "moderation" else None
    return _on_review(review_id, lambda: services.restore(current_user, review_id), _("The review is visible again."),
                      back)
