"""The unread count in the menu costs no query of its own: it is a column of the signed-in
user's row (kept by market.notifications in the transaction that adds or reads a notice),
which Flask-Login loads for every signed-in page anyway. The speed issue owns the benchmarks."""
from __future__ import annotations

import re

from sqlalchemy import event

from market.extensions import db
from market.notifications import notify
from tests.support import login


def _statements(client, path: str) -> tuple[list[str], str]:
    statements = []
    listener = lambda *args: statements.append(args[2])  # noqa: E731
    event.listen(db.engine, "before_cursor_execute", listener)
    try:
        resp = client.get(path)
        assert resp.status_code == 200
    finally:
        event.remove(db.engine, "before_cursor_execute", listener)
    return statements, resp.get_data(as_text=True)


def test_signed_in_catalogue_page_shows_the_unread_count_without_an_extra_query(app, client, make_user,
                                                                                  make_artisan, make_product):
    make_product(make_artisan(), title="竹编果篮")
    her = make_user(("buyer",))
    login(client, her)
    _statements(client, "/products")  # warm: whatever is cached per process is cached now
    before, page = _statements(client, "/products")
    assert 'id="unread-count"' not in page
    for i in range(3):
        notify(her, "order_paid", {"number": f"SM{i}"})
    db.session.commit()
    _statements(client, "/products")
    after, page = _statements(client, "/products")
    assert re.search(r'id="unread-count"[^>]*>3<', page)
    assert len(after) == len(before), (before, after)
    assert not [s for s in after if re.search(r"\bnotices\b", s)], "the count is read from the user's row"
