"""The commission of one sub-order under one rule: pure arithmetic on plain values (no
database), so every rule can be tested on its own. Integer fen, half up."""
from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Line:
    total_fen: int
    category: str | None = None
    brand_id: int | None = None


@dataclass(frozen=True)
class Component:
    name: str
    kind: str  # percent | fixed_per_order
    rate_bp: int = 0  # basis points of the matching lines (percent)
    fixed_fen: int = 0  # per sub-order with a matching line (fixed_per_order)
    min_fen: int | None = None
    max_fen: int | None = None
    category: str | None = None
    brand_id: int | None = None

    def matches(self, line: Line) -> bool:
        return (self.category is None or line.category == self.category) and \
            (self.brand_id is None or line.brand_id == self.brand_id)


def _half_up(numerator: int, denominator: int) -> int:
    return (2 * numerator + denominator) // (2 * denominator)


def component_fen(component: Component, lines: list[Line]) -> int:
    matching = [ln for ln in lines if component.matches(ln)]
    if not matching:
        return 0
    if component.kind == "percent":
        amount = _half_up(sum(ln.total_fen for ln in matching) * component.rate_bp, 10_000)
    elif component.kind == "fixed_per_order":
        amount = component.fixed_fen
    else:
        raise ValueError(f"kind: unknown commission component kind {component.kind!r}")
    if component.min_fen is not None:
        amount = max(amount, component.min_fen)
    if component.max_fen is not None:
        amount = min(amount, component.max_fen)
    return amount


def commission_fen(components: list[Component], lines: list[Line]) -> int:
    """The sum of the components, never more than the sub-order itself."""
    total = sum(component_fen(c, lines) for c in components)
    return max(0, min(total, sum(ln.total_fen for ln in lines)))


def reversal_fen(commission: int, reversed_so_far: int, refund: int, refunded_total: int, subtotal: int) -> int:
    """Commission given back for a refund of `refund` fen of a sub-order of `subtotal`:
    proportional, and the rest of it once the sub-order is refunded in full."""
    left = max(0, commission - reversed_so_far)
    if subtotal <= 0 or refunded_total >= subtotal:
        return left
    return min(left, _half_up(commission * refund, subtotal))
