"""Template values computed only when a template reads them."""
from __future__ import annotations

from collections.abc import Callable, Iterator


class LazyList:
    """A list a context processor hands to every template, computed on first read.

    Menus that depend on who is looking (staff links, the supply menu) ask Flask-Login for
    the user, which loads her from the database; a signed-in page whose header comes from
    the readers' cache (market/serving.py) never reads them, so it need not load her."""

    def __init__(self, compute: Callable[[], list]):
        self._compute = compute
        self._items: list | None = None

    def _list(self) -> list:
        if self._items is None:
            self._items = list(self._compute())
        return self._items

    def __iter__(self) -> Iterator:
        return iter(self._list())

    def __len__(self) -> int:
        return len(self._list())

    def __bool__(self) -> bool:
        return bool(self._list())

    def __getitem__(self, i):
        return self._list()[i]

    def __eq__(self, other) -> bool:
        return self._list() == (list(other) if isinstance(other, LazyList) else other)

    __hash__ = None

    def __repr__(self) -> str:
        return f"LazyList({self._list()!r})"
