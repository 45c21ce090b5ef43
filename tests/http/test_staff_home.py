"""The staff overview (/staff/) and user management (/staff/users): figures on known data,
every form submitted as a browser does, who may use them, suspension ending sessions and
hiding the shop, roles changed by two staff at once on SQLite and PostgreSQL."""
from __future__ import annotations

import re
from datetime import datetime, timedelta

import pytest
from sqlalchemy import select, update

from market import clock
from market.accounts import admin
from market.config import ConfigError, load_config
from market.extensions import db
from market.models import AuditEntry, Case, Order, RefundRequest, User
from market.staff.reports import overview
from tests.support import login, page_form, place, race_in_threads, reload

NOW = datetime(2026, 11, 27, 2, 0)  # 10:00 on 27 November in Beijing


def _figure(html: str, element_id: str) -> str:
    match = re.search(rf'id="{element_id}">(?:<a [^>]*>)?([^<]+)<', html)
    assert match, f"no #{element_id} on the page"
    return match.group(1).strip()


def _audit(action: str, user_id: int) -> list[AuditEntry]:
    return list(db.session.scalars(select(AuditEntry).where(AuditEntry.action == action,
                                                            AuditEntry.object_type == "users",
                                                            AuditEntry.object_id == user_id)))


def _opens_account(client) -> bool:
    return client.get("/account/").status_code == 200


# ---- overview ---------------------------------------------------------------------------------

def _paid_order(buyer, product, paid_fen: int | None, paid_at: datetime | None):
    order = place(buyer, {product: 1})
    if paid_at is not None:
        db.session.execute(update(Order).where(Order.id == order.id)
                           .values(status="paid", paid_fen=paid_fen or order.total_fen, paid_at=paid_at))
        db.session.commit()
    return order


def test_overview_counts_known_data_in_beijing_days(app, client, login_as, make_user, make_artisan, make_product,
                                                    make_help_request, make_mentor):
    clock.set(app, NOW)
    staff = make_user(("staff",))
    artisan = make_artisan()
    product = make_product(artisan, price_fen=10_000, stock=50)
    buyer = make_user()
    # Today in Beijing began at 26 Nov 16:00 UTC: an order paid at 16:30 UTC on the 26th is
    # today's (a UTC calendar day would put it on yesterday), one at 15:30 UTC is yesterday's.
    _paid_order(buyer, product, 10_000, datetime(2026, 11, 26, 16, 30))
    _paid_order(buyer, product, 10_000, datetime(2026, 11, 27, 1, 59))
    _paid_order(buyer, product, 10_000, datetime(2026, 11, 26, 15, 30))
    _paid_order(buyer, product, 10_000, datetime(2026, 11, 25, 12, 0))  # the day before yesterday
    _paid_order(buyer, product, None, None)  # placed, never paid
    make_artisan(approved=False), make_artisan(approved=False)
    make_mentor(approved=False)
    cases = [make_help_request() for _ in range(3)]
    db.session.execute(update(Case).where(Case.id == cases[0].id).values(status="in_progress"))
    db.session.execute(update(Case).where(Case.id == cases[1].id).values(status="resolved"))
    db.session.commit()
    order = place(buyer, {product: 1})
    for status in ("open", "escalated", "escalated", "refunded"):
        db.session.add(RefundRequest(order_id=order.id, sub_order_id=order.sub_orders[0].id, artisan_id=artisan.id,
                                     buyer_id=buyer.id, kind="refund", reason="damaged", amount_fen=500,
                                     status=status, respond_by=NOW))
    db.session.commit()
    admin.suspend(staff, make_user().id, "冒用他人身份")

    login_as(staff)
    html = client.get("/staff/").get_data(as_text=True)
    assert _figure(html, "ov-orders-today") == "2"
    assert _figure(html, "ov-sales-today") == "¥200.00"
    assert "¥100.00" in html  # yesterday's sales, one order
    assert _figure(html, "ov-open-cases") == "2"  # one open, one in progress; the resolved one is not
    assert _figure(html, "ov-pending-artisans") == "2"
    assert _figure(html, "ov-refund-requests") == "3"
    assert _figure(html, "ov-suspended") == "1"
    figures = overview.overview()
    assert (figures.orders_yesterday, figures.cases_waiting, figures.pending_mentors,
            figures.refund_requests_escalated) == (1, 1, 1, 2)
    assert figures.day.isoformat() == "2026-11-27"
    # Each figure links to the list it counts.
    for link in ("/staff/orders?status=paid", "/staff/artisans?status=pending", "/staff/refund-requests",
                 "/staff/users?status=suspended", "/staff/mentoring/requests"):
        assert f'href="{link}' in html.replace("&amp;", "&")


def test_overview_day_turns_over_at_beijing_midnight(app, client, login_as, make_user, make_artisan, make_product):
    staff = make_user(("staff",))
    product = make_product(make_artisan(), price_fen=2_500)
    _paid_order(make_user(), product, 2_500, datetime(2026, 11, 26, 15, 59))  # 23:59 Beijing, 26 Nov
    login_as(staff)
    clock.set(app, datetime(2026, 11, 26, 15, 59, 30))  # still the 26th in Beijing
    assert _figure(client.get("/staff/").get_data(as_text=True), "ov-orders-today") == "1"
    clock.set(app, datetime(2026, 11, 26, 16, 0))  # midnight in Beijing: a new day
    html = client.get("/staff/").get_data(as_text=True)
    assert _figure(html, "ov-orders-today") == "0" and _figure(html, "ov-sales-today") == "¥0.00"


# ---- permissions ------------------------------------------------------------------------------

@pytest.mark.parametrize("roles", [("buyer",), ("artisan",), ("committee",), ("supervisor",), ("finance",)])
def test_only_staff_reach_the_overview_and_user_management(app, client, login_as, make_user, roles):
    from market.accounts.services import add_role

    target = make_user(name="林小雨")
    someone = make_user(("buyer",))
    for role in roles:
        add_role(someone, role)
    login_as(someone)
    for path in ("/staff/", "/staff/users", f"/staff/users/{target.id}"):
        assert client.get(path).status_code == 403, path
    assert client.post(f"/staff/users/{target.id}/roles", data={"roles": ["buyer", "staff"], "shown": "buyer"}
                       ).status_code == 403
    assert client.post(f"/staff/users/{target.id}/suspend", data={"reason": "x"}).status_code == 403
    target = reload(target)
    assert target.role_names == {"buyer"} and not target.suspended
    assert not db.session.scalars(select(AuditEntry).where(AuditEntry.object_id == target.id)).all()


def test_visitors_are_sent_to_sign_in(client, make_user):
    target = make_user()
    for path in ("/staff/", "/staff/users", f"/staff/users/{target.id}"):
        resp = client.get(path)
        assert resp.status_code == 302 and "/account/login" in resp.headers["Location"]
    assert client.post(f"/staff/users/{target.id}/suspend", data={"reason": "x"}).status_code == 302
    assert not reload(target).suspended


def test_the_services_refuse_non_staff(app, make_user):
    buyer, target = make_user(), make_user()
    with pytest.raises(PermissionError):
        admin.suspend(buyer, target.id, "x")
    with pytest.raises(PermissionError):
        admin.change_roles(buyer, target.id, ["buyer", "staff"], ["buyer"])
    assert reload(target).role_names == {"buyer"}


# ---- finding users ----------------------------------------------------------------------------

def test_staff_find_users_by_email_name_and_phone_page_by_page(app, client, login_as, make_user):
    staff = make_user(("staff",), name="妇联小周")
    rain = make_user(name="林小雨", email="lin.xiaoyu@example.cn")
    rain.phone = "138 0013 8000"
    make_user(("artisan",), name="王阿芳", email="afang@example.cn")
    for n in range(30):
        make_user(name=f"买家{n}", email=f"buyer{n}@shop.example.cn")
    db.session.commit()
    login_as(staff)

    def found(**query) -> list[str]:
        form = page_form(client, "/staff/users", method="get")
        resp = form.submit(client, query)
        assert resp.status_code == 200
        return re.findall(r'<a href="/staff/users/\d+">([^<]+)</a>', resp.get_data(as_text=True))

    assert found(q="LIN.XIAOYU") == ["林小雨"]
    assert found(q="小雨") == ["林小雨"]
    assert found(q="13800138000") == ["林小雨"]
    assert found(q="0013-8000") == ["林小雨"]
    assert found(q="阿芳", role="artisan") == ["王阿芳"]
    assert found(q="阿芳", role="buyer") == []
    assert found(q="%") == [] and found(q="_") == []  # LIKE wildcards are matched literally
    first = found(q="shop.example.cn")
    assert len(first) == 25
    second = re.findall(r'<a href="/staff/users/\d+">([^<]+)</a>',
                        client.get("/staff/users?q=shop.example.cn&page=2").get_data(as_text=True))
    assert len(second) == 5 and not set(first) & set(second)
    html = client.get("/staff/users?q=shop.example.cn").get_data(as_text=True)
    assert "page=2" in html and "30" in html
    admin.suspend(staff, rain.id, "测试")
    assert found(status="suspended") == ["林小雨"]
    assert "林小雨" not in found(status="active")


# ---- roles --------------------------------------------------------------------------------------

def test_staff_change_roles_with_the_form_and_each_change_is_audited(app, client, login_as, make_user):
    staff = make_user(("staff",))
    target = make_user(("buyer", "mentor"), name="林小雨")
    login_as(staff)
    form = page_form(client, f"/staff/users/{target.id}", action=f"/staff/users/{target.id}/roles")
    assert sorted(form.value("roles")) == ["buyer", "mentor"]
    resp = form.submit(client, {"roles": ["buyer", "committee", "artisan"]})
    assert resp.status_code == 302
    assert reload(target).role_names == {"buyer", "committee", "artisan"}
    assert len(_audit("role.grant.committee", target.id)) == 1
    assert len(_audit("role.grant.artisan", target.id)) == 1
    assert len(_audit("role.revoke.mentor", target.id)) == 1
    assert all(e.actor_id == staff.id for e in db.session.scalars(select(AuditEntry)))
    # Submitted again unchanged: nothing changes, nothing is audited.
    resp = page_form(client, f"/staff/users/{target.id}", action=f"/staff/users/{target.id}/roles").submit(client)
    assert resp.status_code == 302
    assert db.session.scalar(select(db.func.count()).select_from(AuditEntry)) == 3
    page = client.get(f"/staff/users/{target.id}").get_data(as_text=True)
    assert "role.grant.committee" in page  # her history on her page


def test_roles_outside_the_setting_cannot_be_changed(app, client, login_as, make_user):
    staff = make_user(("staff",))
    target = make_user(name="林小雨")
    other_staff = make_user(("staff",))
    login_as(staff)
    form = page_form(client, f"/staff/users/{target.id}", action=f"/staff/users/{target.id}/roles")
    resp = form.submit(client, {"roles": ["buyer", "staff"]})  # a tampered form: staff is greyed out
    assert resp.status_code == 400
    assert "Staff may not change this role here" in resp.get_data(as_text=True) or \
        "不能在这里更改" in resp.get_data(as_text=True)
    assert reload(target).role_names == {"buyer"}
    # The greyed-out staff role of another staff member is kept when her other roles change.
    form = page_form(client, f"/staff/users/{other_staff.id}", action=f"/staff/users/{other_staff.id}/roles")
    assert form.submit(client, {"roles": ["committee"]}).status_code == 302
    assert reload(other_staff).role_names == {"staff", "committee"}
    resp = form.submit(client, {"roles": ["committee", "nonsense"]})
    assert resp.status_code == 400 and reload(other_staff).role_names == {"staff", "committee"}
    assert not _audit("role.grant.staff", target.id)


def test_the_setting_decides_which_roles_staff_grant_and_staff_keep_their_own(app, client, login_as, make_user):
    app.config["STAFF_GRANTABLE_ROLES"] = "staff,committee"
    staff = make_user(("staff",))
    target = make_user(name="林小雨")
    login_as(staff)
    form = page_form(client, f"/staff/users/{target.id}", action=f"/staff/users/{target.id}/roles")
    assert "buyer" not in form.names() or form.value("roles") == []  # greyed out: not sent
    resp = form.submit(client, {"roles": ["staff"]})
    assert resp.status_code == 302 and reload(target).role_names == {"buyer", "staff"}
    form = page_form(client, f"/staff/users/{target.id}", action=f"/staff/users/{target.id}/roles")
    assert form.value("shown") == "staff"
    resp = form.submit(client, {"roles": ["staff"], "shown": "buyer,staff"})  # tampered: buyer is not grantable
    assert resp.status_code == 400 and reload(target).role_names == {"buyer", "staff"}
    own = page_form(client, f"/staff/users/{staff.id}", action=f"/staff/users/{staff.id}/roles")
    resp = own.submit(client, {"roles": None})
    assert resp.status_code == 400 and reload(staff).role_names == {"staff"}
    assert "staff" in reload(staff).role_names
    # She may remove another staff member's staff role.
    resp = page_form(client, f"/staff/users/{target.id}", action=f"/staff/users/{target.id}/roles"
                     ).submit(client, {"roles": None})
    assert resp.status_code == 302 and reload(target).role_names == {"buyer"}
    assert len(_audit("role.revoke.staff", target.id)) == 1


def test_the_grantable_roles_setting_is_validated():
    with pytest.raises(ConfigError, match="STAFF_GRANTABLE_ROLES"):
        load_config({"STAFF_GRANTABLE_ROLES": "committee,queen"})
    assert load_config({"STAFF_GRANTABLE_ROLES": "committee, finance"})["STAFF_GRANTABLE_ROLES"]


def test_two_staff_changing_her_roles_at_once_both_keep_their_change(app, make_user):
    """Both staff opened her page when she was only a buyer; one adds committee, the other
    supervisor, at the same moment, through the HTTP forms: both roles are there afterwards
    (no lost update) and each change is audited once. Then both grant the same role at once:
    granted once, audited once, no error."""
    first, second = make_user(("staff",)), make_user(("staff",))
    target = make_user(name="林小雨")
    clients = [app.test_client(), app.test_client()]
    login(clients[0], first), login(clients[1], second)
    forms = [page_form(c, f"/staff/users/{target.id}", action=f"/staff/users/{target.id}/roles") for c in clients]

    def post(i: int, roles: list[str]):
        return lambda: forms[i].submit(clients[i], {"roles": roles}).status_code

    assert race_in_threads(app, [post(0, ["buyer", "committee"]), post(1, ["buyer", "supervisor"])]) == [302, 302]
    assert reload(target).role_names == {"buyer", "committee", "supervisor"}
    assert len(_audit("role.grant.committee", target.id)) == 1 and len(_audit("role.grant.supervisor", target.id)) == 1

    forms = [page_form(c, f"/staff/users/{target.id}", action=f"/staff/users/{target.id}/roles") for c in clients]
    results = race_in_threads(app, [post(0, ["buyer", "committee", "supervisor", "finance"]),
                                    post(1, ["buyer", "committee", "supervisor", "finance"])])
    assert results == [302, 302]
    assert reload(target).role_names == {"buyer", "committee", "supervisor", "finance"}
    assert len(_audit("role.grant.finance", target.id)) == 1


def test_a_page_loaded_before_another_staffs_change_does_not_undo_it(app, make_user):
    first, second = make_user(("staff",)), make_user(("staff",))
    target = make_user(("buyer",))
    admin.change_roles(first, target.id, ["buyer", "committee"], ["buyer"])
    stale = ["buyer", "committee"]  # what both pages show now
    admin.change_roles(first, target.id, ["buyer"], stale)  # the first removes committee
    admin.change_roles(second, target.id, ["buyer", "committee", "mentor"], stale)  # the second adds mentor
    assert reload(target).role_names == {"buyer", "mentor"}


# ---- suspension ---------------------------------------------------------------------------------

def test_suspending_ends_her_sessions_refuses_login_and_hides_her_shop(app, client, login_as, make_user,
                                                                        make_artisan, make_product):
    clock.set(app, NOW)
    staff = make_user(("staff",))
    artisan = make_artisan(name="阿芳的海鲜铺")
    product = make_product(artisan, title="象山淡晒虾干")
    her = app.test_client()
    login(her, artisan.user)
    assert _opens_account(her)
    visitor = app.test_client()
    assert visitor.get(f"/products/{product.id}").status_code == 200
    assert "象山淡晒虾干" in visitor.get("/products?q=虾干").get_data(as_text=True)

    login_as(staff)
    form = page_form(client, f"/staff/users/{artisan.user_id}", action=f"/staff/users/{artisan.user_id}/suspend")
    resp = form.submit(client, {"reason": "多次发货不符，暂停核查"})
    assert resp.status_code == 302
    user = reload(artisan.user)
    assert user.suspended and not user.active and user.suspended_reason == "多次发货不符，暂停核查"
    assert user.suspended_at == NOW
    assert len(_audit("user.suspend", user.id)) == 1
    assert not _opens_account(her)  # her open session ended at once
    resp = login(app.test_client(), user)
    assert resp.status_code == 200
    body = resp.get_data(as_text=True)
    assert "This account is suspended" in body or "账号已被暂停" in body
    # A wrong password still says only that: no hint the account exists or is suspended.
    wrong = login(app.test_client(), user, "not-her-password").get_data(as_text=True)
    assert "suspended" not in wrong and "暂停" not in wrong
    assert visitor.get(f"/products/{product.id}").status_code == 404
    assert visitor.get(f"/artisans/{artisan.id}").status_code == 404
    assert "象山淡晒虾干" not in visitor.get("/products?q=虾干").get_data(as_text=True)
    assert "象山淡晒虾干" not in visitor.get("/").get_data(as_text=True)
    page = client.get(f"/staff/users/{user.id}").get_data(as_text=True)
    assert "多次发货不符，暂停核查" in page and "2026-11-27 10:00" in page  # Beijing time

    form = page_form(client, f"/staff/users/{user.id}", action=f"/staff/users/{user.id}/unsuspend")
    assert form.submit(client).status_code == 302
    user = reload(user)
    assert not user.suspended and user.active and user.suspended_reason is None
    assert len(_audit("user.unsuspend", user.id)) == 1
    assert login(her, user).status_code == 302 and _opens_account(her)
    assert visitor.get(f"/products/{product.id}").status_code == 200


def test_suspension_needs_a_reason_and_never_applies_to_oneself(app, client, login_as, make_user):
    staff = make_user(("staff",))
    target = make_user()
    login_as(staff)
    form = page_form(client, f"/staff/users/{target.id}", action=f"/staff/users/{target.id}/suspend")
    resp = form.submit(client, {"reason": "   "})
    assert resp.status_code == 400 and 'class="error"' in resp.get_data(as_text=True)
    resp = form.submit(client, {"reason": "x" * 301})
    assert resp.status_code == 400
    assert not reload(target).suspended
    own = client.get(f"/staff/users/{staff.id}").get_data(as_text=True)
    assert 'id="suspend-form"' not in own
    resp = client.post(f"/staff/users/{staff.id}/suspend", data={"reason": "试试"})
    assert resp.status_code == 400 and not reload(staff).suspended and _opens_account(client)
    assert not db.session.scalars(select(AuditEntry)).all()
    assert client.post("/staff/users/999999/suspend", data={"reason": "x"}).status_code == 404
    assert client.get("/staff/users/999999").status_code == 404


def test_two_staff_suspending_at_once_suspend_once(app, make_user):
    first, second = make_user(("staff",)), make_user(("staff",))
    target = make_user()
    results = race_in_threads(app, [lambda: admin.suspend(db.session.get(User, first.id), target.id, "一"),
                                    lambda: admin.suspend(db.session.get(User, second.id), target.id, "二")])
    assert sum(isinstance(r, User) for r in results) == 1
    assert sum(isinstance(r, admin.AdminError) for r in results) == 1
    assert len(_audit("user.suspend", target.id)) == 1


def test_a_suspended_staff_member_loses_staff_pages_at_once(app, client, login_as, make_user):
    boss, colleague = make_user(("staff",)), make_user(("staff",))
    login_as(colleague)
    assert client.get("/staff/users").status_code == 200
    admin.suspend(boss, colleague.id, "离职")
    resp = client.get("/staff/users")
    assert resp.status_code == 302 and "/account/login" in resp.headers["Location"]
    assert clock.now() - timedelta(minutes=5) < reload(colleague).suspended_at <= clock.now()


# ---- queries ----------------------------------------------------------------------------------

def _statements(app, action) -> list[str]:
    from sqlalchemy import event

    seen: list[str] = []

    def count(conn, cursor, statement, *args):
        seen.append(statement)

    event.listen(db.engine, "before_cursor_execute", count)
    try:
        action()
    finally:
        event.remove(db.engine, "before_cursor_execute", count)
    return seen


def test_the_overview_is_one_query_and_the_user_list_has_no_n_plus_one(app, client, login_as, make_user,
                                                                      make_artisan):
    staff = make_user(("staff",))
    assert len(_statements(app, overview.overview)) == 1
    login_as(staff)
    make_artisan()
    few = len(_statements(app, lambda: client.get("/staff/users")))
    for _ in range(6):
        make_artisan()
    many = len(_statements(app, lambda: client.get("/staff/users")))
    assert many == few
