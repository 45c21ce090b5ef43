"""Hot pages run a fixed number of database queries, whatever the page size or the number
of images (no N+1). The product list has its own test in test_catalog.py."""
from __future__ import annotations

import io

from sqlalchemy import event

from market.extensions import db


def _statements(client, path: str) -> int:
    statements = []
    listener = lambda *args: statements.append(args[2])  # noqa: E731
    event.listen(db.engine, "before_cursor_execute", listener)
    try:
        assert client.get(path).status_code == 200
    finally:
        event.remove(db.engine, "before_cursor_execute", listener)
    return len(statements)


def test_search_query_count_does_not_grow_with_page_size(app, client, make_artisan, make_product):
    a, b = make_artisan(), make_artisan()
    for i in range(12):
        make_product(a if i % 2 else b, title=f"手工刺绣{i}号", description="silk embroidery")
    client.get("/products")  # a process's first listing builds its listing index, once
    counts = {}
    for per_page in (2, 12):
        app.config["PRODUCTS_PER_PAGE"] = per_page
        counts[per_page] = (_statements(client, "/products?q=刺绣"), _statements(client, "/products?q=silk"))
    assert counts[2] == counts[12], counts


def test_home_page_query_count_is_fixed(app, client, make_artisan, make_product):
    a = make_artisan()
    make_product(a, title="一件")
    one = _statements(client, "/")
    for i in range(7):
        make_product(make_artisan(), title=f"商品{i}")
    assert _statements(client, "/") == one


def test_product_page_query_count_does_not_grow_with_images(app, client, make_artisan, make_product):
    from market import demo_data

    a = make_artisan()
    plain = make_product(a, title="无图商品")
    pictures = [(io.BytesIO(demo_data.make_image_bytes(n)), f"p{n}.jpg") for n in range(4)]
    illustrated = make_product(a, title="四张图的商品", uploads=[_upload(data, name) for data, name in pictures])
    db.session.expire_all()
    assert len(illustrated.images) == 4
    assert _statements(client, f"/products/{plain.id}") == _statements(client, f"/products/{illustrated.id}")


def _upload(data, name):
    from werkzeug.datastructures import FileStorage

    return FileStorage(stream=data, filename=name, content_type="image/jpeg")
