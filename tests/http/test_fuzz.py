"""Zero 500s: every route in the URL map, as every persona, with hostile generated input.

The routes come from `app.url_map`, the personas from the role model (`ROLES`, plus a visitor
and an artisan still pending approval), the parameter names from the forms and the views'
`request.args/form.get(...)` calls: a new route, role or field is covered without editing
this file. Values come from Hypothesis: huge and negative numbers, NaN, empty, very long,
non-UTF-8, wrong types (JSON lists and strings), other users' ids.

Examples per (route, persona) and backend: FUZZ_EXAMPLES (default 3). The "ci" profile seeds each
backend differently (reproducible, and SQLite and PostgreSQL each get inputs the other does not: 6
distinct inputs per route and persona over the two, where both used to get the same 6 and the
second run repeated the first's inputs); `FUZZ_PROFILE=dev FUZZ_EXAMPLES=50 pytest tests/http/test_fuzz.py`
explores.
"""
from __future__ import annotations

import importlib
import io
import logging
import os
import pkgutil
import re
from pathlib import Path
from urllib.parse import quote

import pytest
from hypothesis import HealthCheck, given, seed, settings
from hypothesis import strategies as st
from werkzeug.routing import IntegerConverter, PathConverter

import market
from market.extensions import db
from market.models.accounts import ROLES
from tests.support import ADDRESS, login, use_localstripe

EXAMPLES = int(os.environ.get("FUZZ_EXAMPLES", 3))
CI_SEEDS = {"sqlite": 1, "postgresql": 2}  # one input stream per backend in the "ci" profile
PROFILE = os.environ.get("FUZZ_PROFILE", "ci")
settings.register_profile("ci", derandomize=True, database=None)
settings.register_profile("dev", database=None)
SKIP_METHODS = {"HEAD", "OPTIONS"}

HOSTILE = [
    "", " ", "0", "-1", "1", "2", "2147483647", "2147483648", "-2147483649", "99999999999999999999",
    "1e309", "NaN", "sNaN", "-Infinity", "Infinity", "0x10", "1.5", "１２３", "abc", "null", "true",
    "<script>alert(1)</script>", "' OR 1=1 --", "../../etc/passwd", "%00", "\x00", "\ud7ff\ue000",
    "x" * 5000, "红" * 300, "//evil.example/", "https://evil.example/", "/\\evil.example",
]


def _market_modules():
    for info in pkgutil.walk_packages(market.__path__, "market."):
        if info.name not in ("market.devserver",):
            importlib.import_module(info.name)


def _form_fields() -> tuple[set[str], set[str]]:
    """Every field name of every form the app defines, and the names of its file fields."""
    from flask_wtf import FlaskForm
    from wtforms.fields import FileField, MultipleFileField
    from wtforms.fields.core import UnboundField

    _market_modules()
    names, files = set(), set()
    todo = list(FlaskForm.__subclasses__())
    while todo:
        cls = todo.pop()
        todo.extend(cls.__subclasses__())
        for name in dir(cls):
            value = getattr(cls, name, None)
            if isinstance(value, UnboundField):
                names.add(name)
                if issubclass(value.field_class, FileField | MultipleFileField):
                    files.add(name)
    return names, files


def _read_names() -> set[str]:
    """Names the views read straight from the request (`request.form.get("x")`, `args.get`)."""
    pattern = re.compile(r"""(?:args|form|values|data)\.get\(\s*["'](\w+)["']""")
    found = set()
    for path in Path(market.__file__).parent.rglob("*.py"):
        found.update(pattern.findall(path.read_text(encoding="utf-8")))
    return found


FORM_FIELDS, FILE_FIELDS = _form_fields()
PARAM_NAMES = sorted(FORM_FIELDS | _read_names() | {"page", "next", "q", "status", "token"})


# ---- the world the personas act in -----------------------------------------------------

@pytest.fixture
def world(app, localstripe_url, make_user, make_artisan, make_product, make_mentor, make_help_request):
    """One person per role (staff-granted roles granted by staff), a pending artisan, a shop with
    an order, a paid order with a refund request, an accepted case, a case filed on behalf of a woman without an account, a proposed case."""
    from market.accounts.services import grant_role
    from market.mentoring import services as cases
    from market.models.accounts import STAFF_GRANTED_ROLES
    from market.orders import operations as orders

    use_localstripe(app, localstripe_url)
    users = {role: make_user((role,)) for role in ROLES if role not in STAFF_GRANTED_ROLES}
    for role in STAFF_GRANTED_ROLES:
        users[role] = make_user(("buyer",))
        grant_role(users["staff"], users[role], role)
    pending = make_artisan(approved=False)
    artisan = make_artisan()
    users["artisan"] = artisan.user
    product = make_product(artisan, stock=50)
    make_product(pending, status="draft")
    orders.place_order(users["buyer"], {product.id: 1}, ADDRESS, "fuzz-token")
    # A paid order with an open refund request, for the refund request pages.
    from market.returns import operations as returns

    paid = orders.place_order(users["buyer"], {product.id: 2}, ADDRESS, "fuzz-token-paid")
    orders.mark_paid(paid.id, paid.total_fen)
    returns.open_request(users["buyer"], paid.id, target=f"sub-{paid.sub_orders[0].id}", kind="refund",
                         reason="damaged", note="fuzz")
    mentor = make_mentor()
    users["mentor"] = mentor.user
    case = make_help_request(users["entrepreneur"])
    intro = next(i for i in case.introductions if i.mentor_id == mentor.id)
    cases.ask_mentor(users["entrepreneur"], case.id, intro.id)
    cases.accept(mentor.user, intro.id)
    data = cases.CaseData("李阿婆海鲜", "seafood", "startup", "象山县", ["e_commerce"], "不会网上卖货。", True)
    cases.file_on_behalf(users["committee"], data, channel="committee", consent_method="paper",
                         profile_data=cases.ProfileData("李阿婆", "13800138001"))
    cases.propose_case(users["staff"], data, "网店停更三个月", channel="early_warning")
    personas = {"visitor": None, "pending_artisan": pending.user, **users}

    ids = set()
    for table in db.metadata.sorted_tables:
        if "id" in table.c:
            ids.update(row[0] for row in db.session.execute(table.select().with_only_columns(table.c.id)))
    return personas, sorted(ids)


# ---- strategies -------------------------------------------------------------------------

def _value(ids):
    return st.one_of(
        st.sampled_from(HOSTILE),
        st.sampled_from([str(i) for i in ids]),
        st.integers(min_value=-(2**40), max_value=2**70).map(str),
        st.text(max_size=40),
    )


def _path_value(converter, ids):
    if isinstance(converter, IntegerConverter):
        return st.one_of(st.sampled_from(ids), st.integers(min_value=0, max_value=2**70)).map(str)
    text = st.one_of(st.sampled_from(HOSTILE), st.text(min_size=1, max_size=30))
    if isinstance(converter, PathConverter):
        return text.map(lambda s: quote(s, safe="/"))
    return text.map(lambda s: quote(s, safe=""))


def _request(data, rule, method, ids):
    path_args = {name: data.draw(_path_value(conv, ids), label=name) for name, conv in rule._converters.items()}
    path = rule.rule
    for name, value in path_args.items():
        path = re.sub(rf"<(?:[^:>]+:)?{name}>", value or "x", path)
    query = data.draw(st.dictionaries(st.sampled_from(PARAM_NAMES), _value(ids), max_size=4), label="query")
    kwargs = {"query_string": query}
    if method != "GET":
        body = data.draw(st.sampled_from(["form", "form", "form", "json", "raw"]), label="body")
        if body == "json":
            kwargs["json"] = data.draw(st.one_of(
                st.dictionaries(st.sampled_from(PARAM_NAMES), st.one_of(_value(ids), st.integers(), st.none(),
                                                                         st.lists(st.integers(), max_size=3))),
                st.lists(st.integers(), max_size=3), st.text(max_size=20), st.integers()), label="json")
        elif body == "raw":  # not UTF-8, not even well-formed
            kwargs["data"] = data.draw(st.binary(max_size=200), label="raw")
            kwargs["content_type"] = "application/x-www-form-urlencoded"
        else:
            form = data.draw(st.dictionaries(st.sampled_from(PARAM_NAMES), _value(ids), max_size=8), label="form")
            for name in FILE_FIELDS:
                choice = data.draw(st.sampled_from(["absent", "empty", "junk"]), label=name)
                if choice == "empty":  # what a browser sends when no file was chosen
                    form[name] = (io.BytesIO(b""), "")
                elif choice == "junk":
                    form[name] = (io.BytesIO(data.draw(st.binary(max_size=64))), "photo.jpg")
            kwargs["data"] = form
    return path, kwargs


class _Errors(logging.Handler):
    def __init__(self):
        super().__init__(logging.ERROR)
        self.last = ""

    def emit(self, record):
        self.last = self.format(record)


def test_no_route_answers_500_to_anyone(app, world, capsys):
    personas, ids = world
    rules = [(rule, method) for rule in app.url_map.iter_rules() if rule.endpoint != "static"
             for method in sorted(rule.methods - SKIP_METHODS)]
    errors = _Errors()
    logging.getLogger().addHandler(errors)
    failures, sent = [], [0]

    backend_seed = CI_SEEDS.get(db.engine.dialect.name, 0)

    def probe_for(persona, client, rule, method):
        @settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=list(HealthCheck))
        @given(data=st.data())
        def probe(data):
            path, kwargs = _request(data, rule, method, ids)
            errors.last = ""
            resp = client.open(path, method=method, **kwargs)
            sent[0] += 1
            if resp.status_code >= 500:
                failures.append(f"{persona} {method} {path} {kwargs} -> {resp.status_code}\n{errors.last}")

        return seed(backend_seed)(probe) if PROFILE == "ci" else probe

    try:
        for persona, user in personas.items():
            client = app.test_client()
            for rule, method in rules:
                if user is not None:  # again before each route: a fuzzed POST may have logged her out
                    login(client, user)
                probe_for(persona, client, rule, method)()
    finally:
        logging.getLogger().removeHandler(errors)
    with capsys.disabled():  # shown in every run, not only with -s
        print(f"\nfuzz ({db.engine.dialect.name}): {len(rules)} routes x {len(personas)} personas, "
              f"{sent[0]} requests, {len(failures)} answered 5xx")
    assert not failures, f"{len(failures)} requests answered 5xx:\n" + "\n\n".join(failures[:12])
    assert sent[0] >= len(rules) * len(personas) * min(EXAMPLES, 2)


settings.load_profile(PROFILE)
