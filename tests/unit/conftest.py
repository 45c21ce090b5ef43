"""Fixtures of the unit tests' own."""
import pytest

from tests.support import BACKENDS, PG_URL, create_pg_database


@pytest.fixture(params=BACKENDS)
def empty_database(request, tmp_path):
    """The URL of an empty database on each backend, for migration tests to upgrade."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'migrate.db'}"
    else:
        url, drop = create_pg_database(PG_URL)
        yield url
        drop()
