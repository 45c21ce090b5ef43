"""The address-book form sent twice (a double click on “save”, the back button and “save”
again, two tabs) keeps one entry: a second, concurrent submit of the same address is the entry
the first one made, on SQLite and PostgreSQL; a different address is a new entry, and an edit
that would make an entry a copy of another is refused with a message."""
from __future__ import annotations

from sqlalchemy import func, select

from market.extensions import db
from market.models import SavedAddress
from tests.support import login, page_form, race_in_threads

HOME = {"name": "林小雨", "phone": "138 0013 8000", "address": "浙江省宁波市鄞州区天童南路 100 号"}


def _entries(user_id: int) -> list[SavedAddress]:
    db.session.expire_all()
    return list(db.session.scalars(select(SavedAddress).where(SavedAddress.user_id == user_id)
                                   .order_by(SavedAddress.id)))


def test_the_form_sent_twice_saves_one_address(client, make_user):
    buyer = make_user()
    login(client, buyer)
    form = page_form(client, "/addresses/", action="")
    first = form.submit(client, HOME)
    again = form.submit(client, {**HOME, "phone": "+86 13800138000"})  # the same number, typed otherwise
    assert first.status_code == again.status_code == 302
    assert [(e.phone, e.is_default) for e in _entries(buyer.id)] == [("13800138000", True)]


def test_a_double_click_at_once_saves_one_address(app, make_user):
    buyer = make_user()
    clients = []
    for _ in range(4):
        c = app.test_client()
        assert login(c, buyer).status_code == 302
        clients.append(c)
    results = race_in_threads(app, [lambda c=c: c.post("/addresses/", data=HOME) for c in clients])
    assert [getattr(r, "status_code", r) for r in results] == [302] * 4
    entries = _entries(buyer.id)
    assert len(entries) == 1 and entries[0].is_default


def test_a_different_address_is_a_new_entry_and_an_edit_into_a_copy_is_refused(client, make_user):
    buyer = make_user()
    login(client, buyer)
    form = page_form(client, "/addresses/", action="")
    assert form.submit(client, HOME).status_code == 302
    assert form.submit(client, {**HOME, "name": "林妈妈"}).status_code == 302
    home, mother = _entries(buyer.id)
    edit = page_form(client, f"/addresses/{mother.id}/edit", action="")
    resp = edit.submit(client, {"name": "林小雨"})  # now identical to the first entry
    assert resp.status_code == 400 and "已在您的地址簿" in resp.get_data(as_text=True)
    assert [e.name for e in _entries(buyer.id)] == ["林小雨", "林妈妈"]
    # Saving an entry unchanged (only "default" ticked) is fine.
    assert edit.submit(client, {"is_default": "y"}).status_code == 302
    assert [e.is_default for e in _entries(buyer.id)] == [False, True]
    assert db.session.scalar(select(func.count()).select_from(SavedAddress)) == 2
