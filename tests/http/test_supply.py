"""Supply-chain matchmaking as a browser uses it (CSRF on, every field the page filled in): an
organisation registers and staff approve it, posts a need; a woman's shop quotes; contact
details stay hidden until the quote is accepted; the deal is signed by both sides; two accepts
at once make one winner (SQLite and PostgreSQL); staff-only pages refuse others; a matchmaking
day from creation to report, with a late cancellation that moves few meetings and an event
cancellation that tells every participant."""
from __future__ import annotations

import re
from datetime import timedelta

import pytest

from market import clock
from market.extensions import db
from market.models import (
    AuditEntry,
    Event,
    EventMeeting,
    MeetingFeedback,
    Notice,
    Organisation,
    Quote,
    Registration,
    SupplyPost,
)
from market.supply import operations as ops
from tests.support import DEFAULT_PASSWORD, page_form, race_in_threads


@pytest.fixture(autouse=True)
def csrf_on(app):
    app.config["WTF_CSRF_ENABLED"] = True
    yield


@pytest.fixture
def sign_in(client):
    def do(user):
        token = page_form(client, "/account/login", having="password").value("csrf_token")
        client.post("/account/logout", data={"csrf_token": token})
        form = page_form(client, "/account/login", having="password")
        resp = form.submit(client, {"email": user.email, "password": DEFAULT_PASSWORD})
        assert resp.status_code == 302, resp.get_data(as_text=True)[:300]
        return client

    return do


def _errors(resp) -> str:
    html = resp.get_data(as_text=True)
    return " ".join(part.split("</small>")[0] for part in html.split('class="error">')[1:])


def _org(user, name, categories, *, certs=(), district="象山县", capacity=None, description="", approve=True):
    org = ops.save_organisation(user, ops.OrgData(name=name, categories=list(categories), description=description,
                                                  capacity_month=capacity, certifications=list(certs),
                                                  district=district))
    if approve:
        org.status = "approved"
        db.session.commit()
    return org


def _need(user, org, title="每月2000个礼盒", **kw):
    data = ops.PostData(kind="need", title=title, categories=kw.pop("categories", ["packaging"]),
                        quantity=kw.pop("quantity", 2000), open_until=clock.today() + timedelta(days=30), **kw)
    return ops.post(user, org.id, data)


@pytest.fixture
def people(make_user, make_artisan):
    staff = make_user(("staff",), email="staff@example.cn")
    buyer = make_user(("entrepreneur",), email="homestay@example.cn", name="民宿老板")
    buyer.phone = "13800000001"
    amei = make_artisan(name="阿梅刺绣", email="amei@example.cn")
    amei.user.phone = "13900000002"
    db.session.commit()
    return {"staff": staff, "buyer": buyer, "amei": amei.user, "shop": amei}


# ---- organisations, needs, quotes, deals -----------------------------------------------------

def test_organisation_registers_is_approved_posts_a_need_shop_quotes_accepted_and_signed(client, sign_in, people):
    staff, buyer, amei = people["staff"], people["buyer"], people["amei"]
    # the homestay registers its organisation as a browser does
    sign_in(buyer)
    form = page_form(client, "/supply/organisations/new", having="categories")
    resp = form.submit(client, {"name": "海边民宿", "categories": ["tourism"], "description": "象山海边民宿，需要土特产礼盒",
                                "capacity_month": "", "district": "象山县"})
    assert resp.status_code == 302, _errors(resp)
    org = db.session.scalar(db.select(Organisation).where(Organisation.name == "海边民宿"))
    assert org.status == "pending" and org.contact_id == buyer.id
    # staff were told (the page promised it)
    assert db.session.scalar(db.select(Notice).where(Notice.kind == "approval_needed",
                                                     Notice.recipient == f"user:{staff.id}")) is not None
    # not approved: cannot post yet
    assert client.get("/supply/posts/new").status_code == 302
    # staff approve
    sign_in(staff)
    form = page_form(client, "/staff/organisations", action=f"/staff/organisations/{org.id}/review")
    assert form.submit(client, button=("decision", "approved")).status_code == 302
    db.session.expire_all()
    assert db.session.get(Organisation, org.id).status == "approved"
    # she posts a need
    sign_in(buyer)
    form = page_form(client, "/supply/posts/new", having="title")
    resp = form.submit(client, {"kind": "need", "title": "刺绣靠垫500个", "description": "民宿客房用，绣花抱枕",
                                "categories": ["embroidery"], "quantity": "500", "budget_min": "10000",
                                "budget_max": "20000", "required_certifications": None})
    assert resp.status_code == 302, _errors(resp)
    need = db.session.scalar(db.select(SupplyPost).where(SupplyPost.title == "刺绣靠垫500个"))
    assert need.budget_min_fen == 1_000_000 and need.budget_max_fen == 2_000_000
    # a woman's shop registers (linked to her artisan profile), is approved, sees the need suggested
    shop_org = _org(amei, "阿梅刺绣工坊", ["embroidery"], description="手工刺绣，靠垫 团扇", capacity=800)
    assert shop_org.artisan_id == people["shop"].id
    sign_in(amei)
    assert "刺绣靠垫500个" in client.get(f"/supply/organisations/{shop_org.id}").get_data(as_text=True)
    page = client.get(f"/supply/posts/{need.id}").get_data(as_text=True)
    assert "13800000001" not in page and "homestay@example.cn" not in page  # owner's contact hidden
    form = page_form(client, f"/supply/posts/{need.id}", action=f"/supply/posts/{need.id}/quote")
    resp = form.submit(client, {"price": "15000", "quantity": "500", "lead_days": "20", "note": "三周交货"})
    assert resp.status_code == 302
    quote = db.session.scalar(db.select(Quote).where(Quote.post_id == need.id))
    assert quote.price_fen == 1_500_000 and quote.organisation_id == shop_org.id
    assert db.session.scalar(db.select(Notice).where(Notice.kind == "supply_quote",
                                                     Notice.recipient == f"user:{buyer.id}")) is not None
    # the owner sees the quote and the suggestion, but not the shop's contact yet
    sign_in(buyer)
    page = client.get(f"/supply/posts/{need.id}").get_data(as_text=True)
    assert "阿梅刺绣工坊" in page and "13900000002" not in page and "amei@example.cn" not in page
    assert 'id="suggested-suppliers"' in page
    assert "amei@example.cn" not in client.get(f"/supply/organisations/{shop_org.id}").get_data(as_text=True)
    form = page_form(client, f"/supply/posts/{need.id}", action=f"/supply/quotes/{quote.id}/accept")
    assert form.submit(client).status_code == 302
    db.session.expire_all()
    assert db.session.get(SupplyPost, need.id).status == "awarded"
    page = client.get(f"/supply/posts/{need.id}").get_data(as_text=True)
    assert "amei@example.cn" in page and "13900000002" in page
    # both sides mark the deal signed with its value
    form = page_form(client, f"/supply/posts/{need.id}", action=f"/supply/quotes/{quote.id}/deal")
    assert form.submit(client, {"outcome": "signed", "value": "15000"}).status_code == 302
    db.session.expire_all()
    assert db.session.get(Quote, quote.id).deal_status == "pending"
    sign_in(amei)
    page = client.get(f"/supply/posts/{need.id}").get_data(as_text=True)
    assert "homestay@example.cn" in page  # the accepted supplier now sees the owner
    form = page_form(client, f"/supply/posts/{need.id}", action=f"/supply/quotes/{quote.id}/deal")
    assert form.submit(client, {"outcome": "signed", "value": "15000"}).status_code == 302
    db.session.expire_all()
    q = db.session.get(Quote, quote.id)
    assert q.deal_status == "signed" and q.deal_value_fen == 1_500_000
    actions = set(db.session.scalars(db.select(AuditEntry.action).where(AuditEntry.action.like("supply.%"))))
    assert {"supply.org_register", "supply.org_approved", "supply.need_post", "supply.quote_send",
            "supply.quote_accept", "supply.deal_signed"} <= actions


def test_forms_answer_bad_input_with_messages(client, sign_in, people):
    buyer = people["buyer"]
    sign_in(buyer)
    form = page_form(client, "/supply/organisations/new", having="categories")
    resp = form.submit(client, {"name": "海边民宿", "categories": None})
    assert resp.status_code == 200 and "Choose at least one category" in _errors(resp) or "至少" in _errors(resp)
    org = _org(buyer, "海边民宿", ["tourism"])
    form = page_form(client, "/supply/posts/new", having="title")
    resp = form.submit(client, {"title": "礼盒", "budget_min": "300", "budget_max": "100"})
    assert resp.status_code == 200 and _errors(resp)
    resp = form.submit(client, {"title": "礼盒", "open_until": (clock.today() - timedelta(days=1)).isoformat()})
    assert resp.status_code == 200 and _errors(resp)
    resp = form.submit(client, {"title": "礼盒", "case_id": "999999"})
    assert resp.status_code == 200 and _errors(resp)
    assert db.session.scalar(db.select(db.func.count(SupplyPost.id))) == 0
    assert org.status == "approved"


def test_quote_needs_the_required_certification_and_never_on_ones_own_need(client, sign_in, people):
    buyer, amei = people["buyer"], people["amei"]
    org = _org(buyer, "海边民宿", ["tourism"])
    need = _need(buyer, org, "鱼鲞代加工", categories=["food_processing"], required_certifications=["sc"])
    shop = _org(amei, "阿梅工坊", ["food_processing"])
    with pytest.raises(ops.SupplyError):
        ops.send_quote(amei, need.id, shop.id, price_fen=100, quantity=1, lead_days=1)
    with pytest.raises(ops.SupplyError):
        ops.send_quote(buyer, need.id, org.id, price_fen=100, quantity=1, lead_days=1)
    # and the matcher never suggests her shop for it
    from market.supply import services

    assert shop.id not in [s.item.id for s in services.suppliers_for(need)]
    shop.certifications = "sc"
    db.session.commit()
    assert shop.id in [s.item.id for s in services.suppliers_for(need)]


def test_two_accepts_at_once_make_one_deal(app, people, make_user):
    buyer = people["buyer"]
    colleague = make_user(("entrepreneur",))
    org = _org(buyer, "海边民宿", ["tourism"])
    ops.add_member(buyer, org.id, colleague.email)
    need = _need(buyer, org)
    quotes = []
    for i in range(2):
        supplier = make_user(("entrepreneur",))
        s_org = _org(supplier, f"包装厂{i}", ["packaging"])
        quotes.append(ops.send_quote(supplier, need.id, s_org.id, price_fen=1000 + i, quantity=2000, lead_days=5).id)
    buyer_id, colleague_id = buyer.id, colleague.id

    def accept(user_id, quote_id):
        from market.models import User

        try:
            return ops.accept_quote(db.session.get(User, user_id), quote_id).id
        except ops.SupplyError:
            return "refused"

    results = race_in_threads(app, [lambda: accept(buyer_id, quotes[0]), lambda: accept(colleague_id, quotes[1])])
    assert sorted(map(str, results)).count("refused") == 1, results
    db.session.expire_all()
    rows = db.session.scalars(db.select(Quote).where(Quote.post_id == need.id)).all()
    assert [q.status for q in rows].count("accepted") == 1
    assert db.session.get(SupplyPost, need.id).accepted_quote_id in quotes


@pytest.mark.parametrize("path", ["/staff/organisations", "/staff/events/new"])
def test_staff_pages_refuse_others(client, sign_in, people, path):
    assert client.get(path).status_code in (302, 401)  # anonymous: to the login page
    sign_in(people["buyer"])
    assert client.get(path).status_code == 403
    sign_in(people["staff"])
    assert client.get(path).status_code == 200


def test_a_pending_organisation_is_hidden_from_others(client, sign_in, people):
    org = _org(people["buyer"], "海边民宿", ["tourism"], approve=False)
    sign_in(people["amei"])
    assert client.get(f"/supply/organisations/{org.id}").status_code == 404
    assert client.get(f"/supply/organisations/{org.id}/edit").status_code == 404


# ---- matchmaking days ------------------------------------------------------------------------

@pytest.fixture
def matchmaking(client, sign_in, people, make_user):
    staff = people["staff"]
    sign_in(staff)
    form = page_form(client, "/staff/events/new", having="slot_count")
    resp = form.submit(client, {"title": "象山产业链对接会", "venue": "象山县妇联", "slot_count": "4", "tables": "2",
                                "slot_minutes": "20", "first_slot": "09:00"})
    assert resp.status_code == 302, _errors(resp)
    event = db.session.scalar(db.select(Event).where(Event.title == "象山产业链对接会"))
    assert event.kind == "matchmaking" and event.tables == 2
    return event


def test_matchmaking_day_from_requests_to_report(app, client, sign_in, people, make_user, matchmaking):
    event, buyer, amei, staff = matchmaking, people["buyer"], people["amei"], people["staff"]
    buyer_org = _org(buyer, "海边民宿", ["tourism"], description="需要刺绣靠垫")
    shop_org = _org(amei, "阿梅刺绣工坊", ["embroidery"], description="刺绣靠垫")
    third = make_user(("entrepreneur",))
    # both register as a browser does; the third registers as herself
    for user, org in ((buyer, buyer_org), (amei, shop_org), (third, None)):
        sign_in(user)
        form = page_form(client, f"/events/{event.id}", action=f"/events/{event.id}/register")
        assert form.submit(client, {"organisation": str(org.id) if org else "0"}).status_code == 302
    regs = {r.user_id: r for r in db.session.scalars(db.select(Registration).where(Registration.event_id == event.id))}
    assert len(regs) == 3 and all(r.status == "registered" for r in regs.values())
    a, b, c = regs[buyer.id], regs[amei.id], regs[third.id]
    # the buyer sees the shop among her suggestions, with reasons, and requests a meeting
    sign_in(buyer)
    page = client.get(f"/events/{event.id}").get_data(as_text=True)
    assert 'id="event-suggestions"' in page and "阿梅刺绣工坊" in page
    form = page_form(client, f"/events/{event.id}", action=f"/events/{event.id}/meet/{b.id}")
    assert form.submit(client, button=("decision", "wanted")).status_code == 302
    # and refuses the third
    form = page_form(client, f"/events/{event.id}", action=f"/events/{event.id}/meet/{c.id}")
    assert form.submit(client, button=("decision", "refused")).status_code == 302
    # the shop requests her back (mutual)
    sign_in(amei)
    form = page_form(client, f"/events/{event.id}", action=f"/events/{event.id}/meet/{a.id}")
    assert form.submit(client, button=("decision", "wanted")).status_code == 302
    # the third asks the buyer (refused by her, so never scheduled); staff add third–shop
    sign_in(third)
    form = page_form(client, f"/events/{event.id}", action=f"/events/{event.id}/meet/{a.id}")
    form.submit(client, button=("decision", "wanted"))
    sign_in(staff)
    form = page_form(client, f"/staff/events/{event.id}", action=f"/staff/events/{event.id}/meetings")
    assert form.submit(client, {"a": str(c.id), "b": str(b.id)}).status_code == 302
    inp = ops.schedule_input(db.session.get(Event, event.id))
    weights = {frozenset((r["a"], r["b"])): r["weight"] for r in inp["requests"]}
    assert frozenset((str(a.id), str(c.id))) not in weights  # refused
    assert weights[frozenset((str(a.id), str(b.id)))] > weights[frozenset((str(b.id), str(c.id)))] - 0.6
    form = page_form(client, f"/staff/events/{event.id}", action=f"/staff/events/{event.id}/schedule")
    assert form.submit(client).status_code == 302
    meetings = db.session.scalars(db.select(EventMeeting).where(EventMeeting.event_id == event.id)).all()
    pairs = {frozenset((m.a_id, m.b_id)) for m in meetings}
    assert pairs == {frozenset((a.id, b.id)), frozenset((b.id, c.id))}
    assert len({m.slot for m in meetings}) == 2  # the shop cannot be at two tables at once
    ab = next(m for m in meetings if {m.a_id, m.b_id} == {a.id, b.id})
    # everyone concerned got the agenda notice; the floor plan and check-in show them
    assert db.session.scalar(db.select(db.func.count(Notice.id)).where(Notice.kind == "event_agenda")) >= 3
    floor = client.get(f"/staff/events/{event.id}/floor").get_data(as_text=True)
    assert "海边民宿" in floor and "阿梅刺绣工坊" in floor
    form = page_form(client, f"/staff/events/{event.id}/checkin", action="")
    assert form.submit(client, button=("registration", str(a.id))).status_code == 302
    db.session.expire_all()
    assert db.session.get(Registration, a.id).checked_in_at is not None
    # her agenda shows the meeting, its table, and now the shop's contact
    sign_in(buyer)
    agenda = client.get(f"/events/{event.id}/agenda").get_data(as_text=True)
    assert "阿梅刺绣工坊" in agenda and "amei@example.cn" in agenda
    assert re.search(rf'data-meeting="{ab.id}"><td>[^<]+</td><td>{ab.table}</td>', agenda)
    # feedback opens on the day; both answer; the report counts one held meeting and the deal
    assert "feedback-form" not in agenda
    clock.set(app, clock.now() + timedelta(days=15))
    try:
        form = page_form(client, f"/events/{event.id}/agenda", action=f"/events/{event.id}/feedback/{ab.id}")
        resp = form.submit(client, {"met": "y", "interesting": "y", "deal_signed": "y", "value": "8000"})
        assert resp.status_code == 302
        sign_in(amei)
        form = page_form(client, f"/events/{event.id}/agenda", action=f"/events/{event.id}/feedback/{ab.id}")
        form.submit(client, {"met": "y", "deal_expected": "y"})
        bc = next(m for m in meetings if m.id != ab.id)
        form = page_form(client, f"/events/{event.id}/agenda", action=f"/events/{event.id}/feedback/{bc.id}")
        form.submit(client, {"met": None})  # the third did not come
        assert db.session.scalar(db.select(db.func.count()).select_from(MeetingFeedback)) == 3
        sign_in(staff)
        report = client.get(f"/staff/events/{event.id}/report").get_data(as_text=True)
        assert re.search(r'id="held">1<', report) and re.search(r'id="no-shows">1<', report)
        assert re.search(r'id="deals-signed">1<', report) and "¥8,000.00" in report
        assert "<svg" in report and "民宿旅游" in report
    finally:
        clock.set(app, None)


def test_late_cancellation_reschedules_moving_few(people, make_user, matchmaking):
    event, staff = matchmaking, people["staff"]
    users = [make_user(("entrepreneur",)) for _ in range(6)]
    regs = [ops.register(u, event.id) for u in users]
    # everyone wants to meet everyone: 15 pairs for 4 slots x 2 tables = at most 8 meetings
    for i, u in enumerate(users):
        for j in range(len(users)):
            if i != j:
                ops.request_meeting(u, event.id, regs[j].id)
    first = ops.schedule_event(staff, event.id)
    assert len(first.meetings) == 8
    before = {(m.a_id, m.b_id): (m.slot, m.table) for m in db.session.scalars(db.select(EventMeeting))}
    ops.withdraw(users[0], event.id)  # re-schedules at once
    after = {(m.a_id, m.b_id): (m.slot, m.table) for m in db.session.scalars(db.select(EventMeeting))}
    assert all(regs[0].id not in pair for pair in after)
    untouched = [p for p in before if regs[0].id not in p]
    kept = sum(1 for p in untouched if after.get(p) == before[p])
    assert kept >= len(untouched) - 1, (before, after)


def test_cancelling_an_event_tells_every_participant(client, sign_in, people, make_user, matchmaking):
    event = matchmaking
    users = [make_user(("entrepreneur",)) for _ in range(3)]
    for u in users:
        ops.register(u, event.id)
    form = page_form(client, f"/staff/events/{event.id}", action=f"/staff/events/{event.id}/cancel")
    assert form.submit(client, {"reason": "台风"}).status_code == 302
    db.session.expire_all()
    assert db.session.get(Event, event.id).status == "cancelled"
    told = set(db.session.scalars(db.select(Notice.recipient).where(Notice.kind == "event_cancelled")))
    assert told == {f"user:{u.id}" for u in users}
    with pytest.raises(ops.SupplyError):
        ops.register(make_user(("entrepreneur",)), event.id)


def test_capacity_fills_then_waiting_list_moves_up(people, make_user, matchmaking):
    event = matchmaking
    event.capacity = 1
    db.session.commit()
    first, second = make_user(("entrepreneur",)), make_user(("entrepreneur",))
    assert ops.register(first, event.id).status == "registered"
    assert ops.register(second, event.id).status == "waiting"
    third = make_user(("entrepreneur",))
    assert ops.register(third, event.id).status == "waiting"
    ops.withdraw(first, event.id)
    db.session.expire_all()
    assert db.session.scalar(db.select(Registration.status).where(Registration.user_id == second.id)) == "registered"
    assert db.session.scalar(db.select(Notice.id).where(Notice.kind == "event_place",
                                                        Notice.recipient == f"user:{second.id}")) is not None
    ops.withdraw(third, event.id)  # a waiting one leaving frees no place
    db.session.expire_all()
    statuses = db.session.scalars(db.select(Registration.status).order_by(Registration.id)).all()
    assert statuses == ["cancelled", "registered", "cancelled"]


def test_event_pages_refuse_strangers(client, sign_in, people, make_user, matchmaking):
    event = matchmaking
    sign_in(people["buyer"])
    assert client.get(f"/events/{event.id}/agenda").status_code == 404
    for path in (f"/staff/events/{event.id}", f"/staff/events/{event.id}/floor", f"/staff/events/{event.id}/report",
                 f"/staff/events/{event.id}/checkin"):
        assert client.get(path).status_code == 403


# ---- cases of the help desk ------------------------------------------------------------------

def test_a_supply_chain_case_links_to_its_needs_and_counts_the_deals(app, client, sign_in, make_user):
    from market.mentoring import services as mentoring
    from tests.support import case_data

    author = make_user(("entrepreneur",), email="afang@example.cn")
    stranger = make_user(("entrepreneur",))
    case = mentoring.file_case(author, case_data(difficulties=["supply_chain"], description="找冷链物流"))
    other_case = mentoring.file_case(author, case_data(difficulties=["e_commerce"]))
    org = _org(author, "阿芳海鲜干货", ["seafood"])
    stranger_org = _org(stranger, "冷链车队", ["cold_chain"])
    # only someone the case belongs to may link it, and only a supply-chain case
    with pytest.raises(ops.SupplyError):
        _need(stranger, stranger_org, "冷链", case_id=case.id)
    with pytest.raises(ops.SupplyError):
        _need(author, org, "冷链", case_id=other_case.id)
    sign_in(author)
    form = page_form(client, f"/supply/posts/new?case={case.id}", having="title")
    assert form.value("case_id") == str(case.id)
    resp = form.submit(client, {"title": "冷链运输到上海", "categories": ["cold_chain"], "quantity": "8"})
    assert resp.status_code == 302, _errors(resp)
    need = db.session.scalar(db.select(SupplyPost).where(SupplyPost.case_id == case.id))
    quote = ops.send_quote(stranger, need.id, stranger_org.id, price_fen=80000, quantity=8, lead_days=2)
    ops.accept_quote(author, quote.id)
    ops.record_deal(author, quote.id, True, 80000)
    ops.record_deal(stranger, quote.id, True, 80000)
    page = client.get(f"/mentoring/cases/{case.id}").get_data(as_text=True)
    assert "本个案发布的产业链需求：1条；已签约：1笔" in page


def test_an_offer_shows_the_needs_it_answers(client, sign_in, people):
    buyer, amei = people["buyer"], people["amei"]
    org = _org(buyer, "海边民宿", ["tourism"])
    _need(buyer, org, "绣花抱枕300个", categories=["embroidery"], quantity=300)
    _need(buyer, org, "有机大米", categories=["agriculture"], quantity=100, required_certifications=["organic"])
    shop = _org(amei, "阿梅刺绣工坊", ["embroidery"])
    offer = ops.post(amei, shop.id, ops.PostData(kind="offer", title="冬季刺绣产能空余", description="可接刺绣靠垫订单",
                                                 categories=["embroidery"], quantity=200,
                                                 open_until=clock.today() + timedelta(days=60)))
    sign_in(amei)
    page = client.get(f"/supply/posts/{offer.id}").get_data(as_text=True)
    section = page.split('id="answered-needs"')[1].split("</ol>")[0]
    assert "绣花抱枕300个" in section and "有机大米" not in section  # no organic certification
    assert "capacity-short" in section  # 200 a month for 300
    sign_in(buyer)
    assert 'id="answered-needs"' not in client.get(f"/supply/posts/{offer.id}").get_data(as_text=True)


def test_members_edit_their_organisation_and_add_a_colleague(client, sign_in, people, make_user):
    buyer = people["buyer"]
    colleague = make_user(("entrepreneur",), email="colleague@example.cn")
    org = _org(buyer, "海边民宿", ["tourism"], certs=["sc"], capacity=100)
    sign_in(buyer)
    form = page_form(client, f"/supply/organisations/{org.id}/edit", having="categories")
    assert form.value("certifications") == "sc" and form.value("capacity_month") == "100"
    resp = form.submit(client, {"materials": "海产品干制", "categories": ["tourism", "seafood"]})
    assert resp.status_code == 302, _errors(resp)
    db.session.expire_all()
    org = db.session.get(Organisation, org.id)
    assert org.category_codes == ["tourism", "seafood"] and org.certification_codes == ["sc"]
    assert org.capacity_month == 100 and org.materials == "海产品干制"
    form = page_form(client, f"/supply/organisations/{org.id}", action=f"/supply/organisations/{org.id}/members")
    assert form.submit(client, {"email": "nobody@example.cn"}).status_code == 302
    assert form.submit(client, {"email": "colleague@example.cn"}).status_code == 302
    assert ops.is_member(colleague, org)
    # the colleague may now post for it, a stranger may not edit it
    sign_in(colleague)
    assert client.get(f"/supply/organisations/{org.id}/edit").status_code == 200
    sign_in(people["amei"])
    assert client.get(f"/supply/organisations/{org.id}/edit").status_code == 404


def test_a_participant_withdraws_with_the_form(client, sign_in, people, matchmaking):
    event = matchmaking
    ops.register(people["buyer"], event.id)
    sign_in(people["buyer"])
    form = page_form(client, f"/events/{event.id}", action=f"/events/{event.id}/withdraw")
    assert form.submit(client).status_code == 302
    db.session.expire_all()
    assert db.session.scalar(db.select(Registration.status)) == "cancelled"


def test_event_pages_run_as_many_queries_for_ten_participants_as_for_four(app, client, people, make_user, matchmaking):
    from sqlalchemy import event as sa_event

    def statements(path):
        seen = []
        listener = lambda *args: seen.append(args[2])  # noqa: E731
        sa_event.listen(db.engine, "before_cursor_execute", listener)
        try:
            assert client.get(path).status_code == 200
        finally:
            sa_event.remove(db.engine, "before_cursor_execute", listener)
        return len(seen)

    ev = matchmaking
    paths = (f"/staff/events/{ev.id}", f"/staff/events/{ev.id}/floor", f"/staff/events/{ev.id}/checkin",
             f"/staff/events/{ev.id}/report")
    counts = []
    users = []
    for size in (4, 10):
        while len(users) < size:
            u = make_user(("entrepreneur",))
            org = _org(u, f"机构{len(users)}", ["packaging"])
            users.append((u, ops.register(u, ev.id, org.id)))
        for (u, _reg), (_v, other) in zip(users, users[1:] + users[:1], strict=True):
            ops.request_meeting(u, ev.id, other.id)
        ops.schedule_event(people["staff"], ev.id)
        counts.append([statements(p) for p in paths])
    assert counts[0] == counts[1], counts


def test_meetings_only_in_the_slots_she_is_present(client, sign_in, people, make_user, matchmaking):
    event = matchmaking
    late = make_user(("entrepreneur",))
    sign_in(late)
    form = page_form(client, f"/events/{event.id}", action=f"/events/{event.id}/register")
    assert form.submit(client, {"available": ["d1s03", "d1s04"]}).status_code == 302
    reg = db.session.scalar(db.select(Registration).where(Registration.user_id == late.id))
    assert reg.available_slots == ["d1s03", "d1s04"]
    others = [make_user(("entrepreneur",)) for _ in range(3)]
    for u in others:
        ops.register(u, event.id)
        ops.request_meeting(u, event.id, reg.id)
    result = ops.schedule_event(people["staff"], event.id)
    slots = [m.slot for m in result.meetings]
    assert sorted(slots) == ["d1s03", "d1s04"] and len(result.unscheduled) == 1
    with pytest.raises(ops.SupplyError):
        ops.register(late, event.id, available=["d9s99"])


def test_page_views_reuse_the_fitted_matcher_and_an_edit_refits(client, sign_in, people):
    from market.supply import services

    buyer, amei = people["buyer"], people["amei"]
    homestay = _org(buyer, "海边民宿", ["tourism"], description="象山海边民宿")
    need = _need(buyer, homestay, title="刺绣靠垫500个", categories=["embroidery"], description="绣花抱枕")
    shop = _org(amei, "阿梅刺绣工坊", ["embroidery"], description="手工刺绣，靠垫 团扇", capacity=800)
    sign_in(buyer)
    services.matchers.clear()
    first = client.get(f"/supply/posts/{need.id}").get_data(as_text=True)
    assert "阿梅刺绣工坊" in first
    fits = services.matchers.fits
    assert fits >= 1
    # the same page again, and once more: no refit, the same suggestions
    for _ in range(2):
        assert client.get(f"/supply/posts/{need.id}").get_data(as_text=True).count("阿梅刺绣工坊") == first.count(
            "阿梅刺绣工坊")
    assert services.matchers.fits == fits
    # the supplier edits her organisation as a browser does: the next view refits and sees the edit
    sign_in(amei)
    form = page_form(client, f"/supply/organisations/{shop.id}/edit", having="categories")
    resp = form.submit(client, {"description": "手工刺绣，靠垫 团扇 绣花抱枕"})
    assert resp.status_code == 302, _errors(resp)
    sign_in(buyer)
    client.get(f"/supply/posts/{need.id}")
    assert services.matchers.fits == fits + 1
    client.get(f"/supply/posts/{need.id}")
    assert services.matchers.fits == fits + 1
    # a new need changes what the organisation page fits on: the shop's suggestions refit once
    sign_in(amei)
    client.get(f"/supply/organisations/{shop.id}")
    before = services.matchers.fits
    client.get(f"/supply/organisations/{shop.id}")
    assert services.matchers.fits == before
    _need(buyer, homestay, title="团扇200把", categories=["embroidery"])
    assert "团扇200把" in client.get(f"/supply/organisations/{shop.id}").get_data(as_text=True)
    assert services.matchers.fits == before + 1


def test_menu_and_staff_overview_link_to_supply_pages(client, sign_in, people, make_user):
    plain_buyer = make_user(("buyer",), email="justbuying@example.cn")
    sign_in(plain_buyer)
    page = client.get("/").get_data(as_text=True)
    assert re.search(r'href="/events/" id="nav-events"', page) and 'id="nav-supply"' not in page
    sign_in(people["amei"])  # an artisan trades: the board too
    page = client.get("/").get_data(as_text=True)
    assert re.search(r'href="/supply/" id="nav-supply"', page) and 'id="nav-events"' in page
    sign_in(people["staff"])
    overview = client.get("/staff/").get_data(as_text=True)
    links = overview.split('id="ov-supply-links"')[1].split("</ul>")[0]
    for path in ("/staff/organisations", "/events/", "/staff/events/new"):
        assert f'href="{path}"' in links
        assert client.get(path).status_code == 200
    client.post("/account/logout", data={"csrf_token": page_form(client, "/", having="csrf_token").value("csrf_token")})
    assert 'id="nav-events"' not in client.get("/").get_data(as_text=True)
