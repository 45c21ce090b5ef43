"""Phone numbers typed with a Chinese input method come in full-width digits (１３８…, ＋８６).
Every form that takes a phone stores the plain ASCII number (what SMS gateways, couriers and
the profile search understand), never the full-width characters, and never refuses them."""
from __future__ import annotations

import pytest
from sqlalchemy import select

from market.accounts.services import grant_role
from market.extensions import db
from market.models import Case, ClientProfile, Order, User
from tests.support import login, page_form

FULL_WIDTH = "１３８ ０５７４ ２２６６"
ASCII = "13805742266"


def test_checkout_takes_a_full_width_mobile_number(client, make_user, make_artisan, make_product):
    buyer = make_user()
    product = make_product(make_artisan(), stock=3)
    login(client, buyer)
    client.post("/cart/add", data={"product_id": product.id, "quantity": 1})
    form = page_form(client, "/checkout", action="")
    resp = form.submit(client, {"ship_name": "林小雨", "ship_phone": "＋８６ " + FULL_WIDTH,
                                "ship_address": "浙江省宁波市海曙区中山西路 1 号"})
    assert resp.status_code == 302
    assert db.session.scalars(select(Order)).one().ship_phone == ASCII


def test_committee_files_for_her_with_a_full_width_phone(client, make_user):
    member = make_user(("buyer",))
    grant_role(make_user(("staff",)), member, "committee")
    login(client, member)
    form = page_form(client, "/mentoring/cases/new-for-her", having="phone")
    resp = form.submit(client, {"name": "李阿婆", "phone": FULL_WIDTH, "business_kind": "晒鱼干",
                                "business_name": "李阿婆鱼鲞", "industry": "seafood", "district": "象山县",
                                "difficulties": ["e_commerce"], "description": "想把鱼鲞卖到网上。",
                                "consent_to_share": "y"})
    assert resp.status_code == 302
    assert db.session.scalars(select(ClientProfile.phone)).one() == ASCII
    assert db.session.scalars(select(Case.contact_phone)).one() == ASCII


@pytest.mark.parametrize("typed", [FULL_WIDTH, "＋８６" + FULL_WIDTH.replace(" ", "")])
def test_sms_phone_in_notice_settings_is_stored_in_ascii(client, make_user, typed):
    user = make_user()
    login(client, user)
    form = page_form(client, "/notices/preferences", having="phone")
    assert form.submit(client, {"phone": typed}).status_code == 302
    db.session.expire_all()
    assert db.session.get(User, user.id).phone in (ASCII, "+86" + ASCII)
