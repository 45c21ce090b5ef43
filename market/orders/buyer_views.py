"""The buyer's address book, her orders and confirming receipt of a parcel.
Same blueprint as market/orders/views.py."""
from __future__ import annotations

from flask import abort, flash, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required

from market.orders import (
    addresses,
    operations,
    services,
    states,
)
from market.orders.blueprint import _buyer_order, bp
from market.orders.forms import AddressForm


@bp.route("/addresses/", methods=["GET", "POST"])
@login_required
def address_book():
    form = AddressForm()
    if form.validate_on_submit():
        try:
            addresses.add(current_user, services.Address(form.name.data, form.phone.data, form.address.data),
                          default=bool(form.is_default.data))
        except services.OrderError as e:
            form.address.errors.append(str(e))
        else:
            flash(_("The address is saved."), "success")
            return redirect(url_for("orders.address_book"))
    return render_template("orders/addresses.html", form=form, entries=addresses.for_user(current_user)), (
        400 if form.errors else 200)


def _own_address(address_id: int):
    try:
        return addresses.get(current_user, address_id)
    except services.NotFound:
        abort(404)


@bp.route("/addresses/<int:address_id>/edit", methods=["GET", "POST"])
@login_required
def edit_address(address_id: int):
    entry = _own_address(address_id)
    form = AddressForm(obj=entry)
    if form.validate_on_submit():
        try:
            addresses.edit(current_user, entry.id, services.Address(form.name.data, form.phone.data, form.address.data),
                           default=bool(form.is_default.data))
        except services.OrderError as e:
            form.address.errors.append(str(e))
        else:
            flash(_("The address is saved."), "success")
            return redirect(url_for("orders.address_book"))
    return render_template("orders/address_form.html", form=form, entry=entry), (400 if form.errors else 200)


@bp.post("/addresses/<int:address_id>/delete")
@login_required
def delete_address(address_id: int):
    addresses.remove(current_user, _own_address(address_id).id)
    flash(_("The address is deleted."), "success")
    return redirect(url_for("orders.address_book"))


@bp.post("/addresses/<int:address_id>/default")
@login_required
def default_address(address_id: int):
    addresses.make_default(current_user, _own_address(address_id).id)
    flash(_("This is now your default address."), "success")
    return redirect(url_for("orders.address_book"))


# ---- the buyer's orders -----------------------------------------------------------------

@bp.get("/orders/")
@login_required
def my_orders():
    return render_template("orders/list.html", orders=services.buyer_orders(current_user))


@bp.get("/orders/<int:order_id>")
def order(order_id: int):
    from market.returns import operations as returns
    from market.returns import services as requests

    order = _buyer_order(order_id)
    own = current_user.is_authenticated and order.buyer_id == current_user.id
    return render_template("orders/order.html", order=order, requests=requests.for_order(order),
                           may_request=own and returns.may_request(order), own=own,
                           guest_view=order.buyer_id is None)


@bp.post("/orders/parcels/<int:sub_order_id>/received")
@login_required
def received(sub_order_id: int):
    try:
        sub = operations.deliver(current_user, sub_order_id)
    except services.NotFound:
        abort(404)
    except states.InvalidTransition as e:
        flash(str(e), "error")
        return redirect(url_for("orders.my_orders"))
    flash(_("Thank you for confirming receipt."), "success")
    return redirect(url_for("orders.order", order_id=sub.order_id))
