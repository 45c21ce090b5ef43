"""The ledger pages as a browser uses them (CSRF on): the artisan's statement and its CSV,
finance staff's adjustment, commission rule, payout batch, paid and failed forms; who may see
what (finance is a permission staff grant; staff without it see nothing)."""
from __future__ import annotations

import uuid

import pytest

from market.accounts.services import grant_role
from market.extensions import db
from market.ledger import operations as ledger
from market.models import CommissionRule, LedgerEntry, Payout
from market.orders import operations as orders
from tests.support import DEFAULT_PASSWORD, page_form, place


@pytest.fixture(autouse=True)
def csrf_on(app):
    app.config["WTF_CSRF_ENABLED"] = True
    yield


@pytest.fixture
def sign_in(client):
    def do(user):
        token = page_form(client, "/account/login", having="password").value("csrf_token")
        client.post("/account/logout", data={"csrf_token": token})
        resp = page_form(client, "/account/login", having="password").submit(
            client, {"email": user.email, "password": DEFAULT_PASSWORD})
        assert resp.status_code == 302
        return client

    return do


@pytest.fixture
def people(make_user, make_artisan, make_product):
    staff = make_user(("staff",))
    finance = make_user(("staff",))
    grant_role(staff, finance, "finance")
    amei = make_artisan(name="阿梅刺绣")
    scarf = make_product(amei, price_fen=10_000, stock=50)
    buyer = make_user(("buyer",))
    order = place(buyer, {scarf: 1}, token=uuid.uuid4().hex)
    orders.mark_paid(order.id, order.total_fen)
    return {"staff": staff, "finance": finance, "amei": amei, "other": make_artisan(name="别家"), "buyer": buyer}


def _errors(resp) -> str:
    html = resp.get_data(as_text=True)
    return " ".join(part.split("</small>")[0] for part in html.split('class="error">')[1:])


def test_only_finance_sees_the_money_pages(client, sign_in, people):
    pages = ["/staff/ledger", "/staff/payouts", "/staff/commission", f"/staff/ledger/artisans/{people['amei'].id}"]
    sign_in(people["staff"])
    assert all(client.get(p).status_code == 403 for p in pages)
    sign_in(people["amei"].user)
    assert all(client.get(p).status_code == 403 for p in pages)
    page = client.get("/shop/statement").get_data(as_text=True)
    assert 'id="ledger-pending">¥100.00' in page and 'id="ledger-due">¥0.00' in page
    csv_body = client.get("/shop/statement.csv").get_data(as_text=True)
    assert "sale,100.00" in csv_body
    sign_in(people["other"].user)
    assert "¥100.00" not in client.get("/shop/statement").get_data(as_text=True)
    sign_in(people["finance"])
    assert all(client.get(p).status_code == 200 for p in pages)


def test_finance_forms_as_a_browser_sends_them(client, sign_in, people):
    p = people
    sign_in(p["finance"])
    form = page_form(client, "/staff/commission", having="rate_percent")
    resp = form.submit(client, {"name": "标准佣金", "rate_percent": "5", "percent_min": "1", "fixed": "0.5"})
    assert resp.status_code == 302, _errors(resp)
    rule = db.session.query(CommissionRule).one()
    assert sorted((c.kind, c.rate_bp, c.fixed_fen, c.min_fen) for c in rule.components) == \
        [("fixed_per_order", 0, 50, None), ("percent", 500, 0, 100)]
    resp = page_form(client, "/staff/commission", having="rate_percent").submit(client, {"name": "空规则"})
    assert resp.status_code == 200 and _errors(resp)  # no component: a message, nothing saved
    for bad in ({"rate_percent": "101"}, {"percent_min": "-1"}, {"name": ""}, {"rate_percent": "abc"}):
        resp = page_form(client, "/staff/commission", having="rate_percent").submit(client, {"name": "x", **bad})
        assert resp.status_code == 200 and _errors(resp), bad
    assert db.session.query(CommissionRule).count() == 1

    adjust = page_form(client, "/staff/ledger", having="reason")
    resp = adjust.submit(client, {"artisan": str(p["amei"].id), "amount": "50", "reason": "运费补贴"})
    assert resp.status_code == 302, _errors(resp)
    for bad in ({"artisan": "99999999999"}, {"amount": ""}, {"reason": ""}, {"amount": "0"}):
        resp = page_form(client, "/staff/ledger", having="reason").submit(
            client, {"artisan": str(p["amei"].id), "amount": "5", "reason": "r", **bad})
        assert resp.status_code == 200 and _errors(resp), bad
    assert db.session.query(LedgerEntry).filter_by(kind="adjustment").count() == 1

    batch_form = page_form(client, "/staff/payouts", having="minimum")
    resp = batch_form.submit(client)  # the minimum left empty: the setting's
    assert resp.status_code == 302
    payout = db.session.query(Payout).one()
    assert payout.amount_fen == 5_000  # only the adjustment is due (the sale is not delivered)
    batch_url = f"/staff/payouts/{payout.batch_id}"
    pay = page_form(client, batch_url, action=f"/staff/payouts/pay/{payout.id}")
    assert pay.submit(client, {"reference": ""}).status_code == 302
    db.session.expire_all()
    assert db.session.get(Payout, payout.id).status == "pending"
    assert pay.submit(client, {"reference": "ICBC-1"}).status_code == 302
    resp = pay.submit(client, {"reference": "ICBC-2"}, follow_redirects=True)  # a second tab
    assert "已处理过" in resp.get_data(as_text=True)
    db.session.expire_all()
    assert (db.session.get(Payout, payout.id).status, db.session.get(Payout, payout.id).reference) == \
        ("paid", "ICBC-1")
    csv_body = client.get(f"/staff/payouts/{payout.batch_id}.csv").get_data(as_text=True)
    assert "50.00" in csv_body and "ICBC-1" in csv_body
    assert client.post("/staff/payouts/pay/999999", data={"csrf_token": pay.value("csrf_token")}).status_code == 404

    ledger.adjust(p["finance"], p["amei"].id, 700, "再补")
    batch = ledger.create_batch(p["finance"])
    second = batch.payouts[0]
    fail = page_form(client, f"/staff/payouts/{batch.id}", action=f"/staff/payouts/fail/{second.id}")
    assert fail.submit(client, {"reason": "户名不符"}).status_code == 302
    db.session.expire_all()
    assert db.session.get(Payout, second.id).status == "failed"
    sign_in(p["amei"].user)
    page = client.get("/shop/statement").get_data(as_text=True)
    assert "ICBC-1" in page and "户名不符" in page


def test_payout_details_encrypted_masked_and_in_full_only_where_a_payout_is_made(client, sign_in, people):
    from market.models import PayoutDetails

    p = people
    sign_in(p["amei"].user)
    form = page_form(client, "/shop/payout-details", having="account")
    for bad in ({"account": "12ab"}, {"holder": ""}, {"method": "paypal"}, {"bank_name": ""}):
        resp = page_form(client, "/shop/payout-details", having="account").submit(
            client, {"method": "bank", "account": "6222020200112233445", "holder": "林阿梅", "bank_name": "工商银行",
                     **bad})
        assert resp.status_code == 200 and _errors(resp), bad
    resp = form.submit(client, {"method": "bank", "account": "6222 0202 0011 2233 445", "holder": "林阿梅",
                                "bank_name": "工商银行"})
    assert resp.status_code == 302, _errors(resp)
    row = db.session.query(PayoutDetails).one()
    assert "6222" not in row.account_encrypted and "林阿梅" not in row.holder_encrypted
    page = client.get("/shop/statement").get_data(as_text=True)
    assert "***************3445" in page and "林**" in page and "6222020200112233445" not in page
    again = page_form(client, "/shop/payout-details", having="account")
    assert again.value("account") == ""  # never sent back to the browser in full
    sign_in(p["other"].user)
    assert "3445" not in client.get("/shop/statement").get_data(as_text=True)

    sign_in(p["finance"])
    assert "6222020200112233445" not in client.get(f"/staff/ledger/artisans/{p['amei'].id}").get_data(as_text=True)
    ledger.adjust(p["finance"], p["amei"].id, 500, "期初")
    batch = ledger.create_batch(p["finance"])
    assert "6222020200112233445" in client.get(f"/staff/payouts/{batch.id}").get_data(as_text=True)
    assert "6222020200112233445,林阿梅" in client.get(f"/staff/payouts/{batch.id}.csv").get_data(as_text=True)


def test_statement_months_csv_and_commission_months_are_in_beijing_time(app, client, sign_in, people):
    from datetime import datetime

    from sqlalchemy import update

    # 2026-01-31 16:30 UTC is 2026-02-01 00:30 in Beijing: February there, January in UTC
    db.session.execute(update(LedgerEntry).values(created_at=datetime(2026, 1, 31, 16, 30)))
    db.session.commit()
    sign_in(people["amei"].user)
    months = client.get("/shop/statement").get_data(as_text=True).split('id="by-month"')[1].split("</table>")[0]
    assert "2026-02" in months and "2026-01" not in months
    csv_body = client.get("/shop/statement.csv").get_data(as_text=True)
    assert "2026-02-01 00:30,sale,100.00" in csv_body
    sign_in(people["finance"])
    income = client.get("/staff/ledger").get_data(as_text=True).split('id="commission-by-month"')[1]
    assert "<td>2026-02</td>" in income.split("</table>")[0]
    # the TIMEZONE setting decides: in UTC the same entries fall in January
    app.config["TIMEZONE"] = "UTC"
    try:
        income = client.get("/staff/ledger").get_data(as_text=True).split('id="commission-by-month"')[1]
        assert "<td>2026-01</td>" in income.split("</table>")[0]
        sign_in(people["amei"].user)
        assert "2026-01-31 16:30,sale,100.00" in client.get("/shop/statement.csv").get_data(as_text=True)
    finally:
        app.config["TIMEZONE"] = "Asia/Shanghai"
