"""Supply-chain forms sent twice (a double click, the back button and “send” again), as a
browser sends them: registering an organisation, posting a need, sending a quote each make
one row and tell its reader once; a different one (another price, another need) is new."""
from __future__ import annotations

from sqlalchemy import func, select

from market.extensions import db
from market.models import Notice, Organisation, Quote, SupplyPost
from tests.support import login, page_form

ORG = {"name": "海边民宿", "categories": ["tourism"], "description": "象山海边民宿", "capacity_month": "",
       "district": "象山县"}
NEED = {"kind": "need", "title": "刺绣靠垫500个", "description": "民宿客房用", "categories": ["embroidery"],
        "quantity": "500", "budget_min": "", "budget_max": "", "required_certifications": None}
QUOTE = {"price": "15000", "quantity": "500", "lead_days": "20", "note": "三周交货"}


def _count(model, *where) -> int:
    db.session.expire_all()
    return db.session.scalar(select(func.count()).select_from(model).where(*where))


def _approved_org(client, user, fields) -> Organisation:
    login(client, user)
    assert page_form(client, "/supply/organisations/new", having="categories").submit(client, fields).status_code == 302
    org = db.session.scalar(select(Organisation).where(Organisation.name == fields["name"]))
    org.status = "approved"
    db.session.commit()
    return org


def test_registration_need_and_quote_sent_twice_make_one_each(client, make_user, make_artisan):
    staff = make_user(("staff",))
    owner = make_user(("entrepreneur",))
    login(client, owner)
    form = page_form(client, "/supply/organisations/new", having="categories")
    assert form.submit(client, ORG).status_code == form.submit(client, ORG).status_code == 302
    assert _count(Organisation) == 1
    assert _count(Notice, Notice.kind == "approval_needed", Notice.user_id == staff.id, Notice.channel == "inapp") == 1
    db.session.execute(db.update(Organisation).values(status="approved"))
    db.session.commit()

    form = page_form(client, "/supply/posts/new", having="title")
    first, again = form.submit(client, NEED), form.submit(client, NEED)
    assert first.status_code == again.status_code == 302 and first.headers["Location"] == again.headers["Location"]
    assert _count(SupplyPost) == 1
    need = db.session.scalar(select(SupplyPost))
    assert form.submit(client, {**NEED, "quantity": "800"}).status_code == 302  # another need: posted
    assert _count(SupplyPost) == 2

    amei = make_artisan().user
    _approved_org(client, amei, {**ORG, "name": "阿梅刺绣工坊", "categories": ["embroidery"]})
    form = page_form(client, f"/supply/posts/{need.id}", action=f"/supply/posts/{need.id}/quote")
    assert form.submit(client, QUOTE).status_code == form.submit(client, QUOTE).status_code == 302
    assert _count(Quote) == 1
    assert _count(Notice, Notice.kind == "supply_quote", Notice.user_id == owner.id, Notice.channel == "inapp") == 1
    assert form.submit(client, {**QUOTE, "price": "14000"}).status_code == 302  # a new price: a new quote
    assert _count(Quote) == 2
