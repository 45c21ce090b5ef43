"""Small helpers that several blueprints' views share.

`run_and_redirect` is the shape of most POST handlers here: check the form, call one
operation, flash its error or its success, redirect. Each view keeps what is its own (which
operation, which messages, where to go); this function keeps the order of those steps in one
place, so that no handler forgets the 404 for a missing row or lets a rule's error become a 500.
"""
from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

from flask import abort, flash, redirect

T = TypeVar("T")
Errors = type[Exception] | tuple[type[Exception], ...]


class LazyList:
    """A list a context processor hands every template, computed only when a template reads
    it (once per request context at most): context processors run for every template
    rendered, and menus that ask who is signed in would load her for pages made from shared
    parts that never show them (market.serving)."""

    def __init__(self, compute: Callable[[], list]):
        self._compute = compute
        self._value: list | None = None

    def _get(self) -> list:
        if self._value is None:
            self._value = list(self._compute())
        return self._value

    def __iter__(self):
        return iter(self._get())

    def __len__(self) -> int:
        return len(self._get())

    def __bool__(self) -> bool:
        return bool(self._get())

    def __getitem__(self, index):
        return self._get()[index]


def run_and_redirect(call: Callable[[], T], *, done: str | Callable[[T], str], to: str | Callable[[], str],
                     errors: Errors = (), missing: Errors = (), valid: bool = True,
                     invalid: str | None = None) -> Any:
    """Run `call()` and redirect to `to` (a URL, or a function giving it, asked after the call).

    - `valid` false (a form that did not validate): flash `invalid` as an error, call nothing.
    - `call` raises one of `missing` (the row is not there, or not hers to see): 404.
    - `call` raises one of `errors` (a rule was broken; its message is safe to show): flash it.
    - otherwise flash `done` (or `done(result)`) as a success.
    """
    if not valid:
        if invalid is not None:
            flash(invalid, "error")
    else:
        try:
            result = call()
        except missing:
            abort(404)
        except errors as e:
            flash(str(e), "error")
        else:
            flash(done(result) if callable(done) else done, "success")
    return redirect(to() if callable(to) else to)
