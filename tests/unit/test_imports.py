"""No import circle in the project: the modules that used to import each other (orders,
payments, jobs, mail) each import alone in a fresh interpreter, and the graph of every import
between market's modules (function-level ones included) has no cycle."""
from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def _module_name(path: Path) -> str:
    parts = path.relative_to(ROOT).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def import_graph() -> dict[str, set[str]]:
    """market module -> the market modules it imports anywhere in its body. Imports of the
    `market` package itself (the app factory, the composition root) are left out: it wires
    every blueprint together and nothing below it is imported back by it at import time."""
    files = {_module_name(p): p for p in (ROOT / "market").rglob("*.py")}
    graph: dict[str, set[str]] = {name: set() for name in files}
    for name, path in files.items():
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            targets = []
            if isinstance(node, ast.Import):
                targets = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                targets = [f"{node.module}.{alias.name}" for alias in node.names] + [node.module]
            for target in targets:
                while target and target not in files:
                    target = target.rpartition(".")[0]
                if target and target != "market" and target != name and target.startswith("market"):
                    graph[name].add(target)
    return graph


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components with more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []
    counter = [0]

    def visit(v: str) -> None:
        index[v] = low[v] = counter[0]
        counter[0] += 1
        stack.append(v)
        on_stack.add(v)
        for w in graph.get(v, ()):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                component.append(w)
                if w == v:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for v in sorted(graph):
        if v not in index:
            visit(v)
    return found


def test_no_import_circle_between_market_modules():
    graph = import_graph()
    assert "market.payments.services" in graph["market.orders.views"]  # the graph sees imports
    assert cycles(graph) == []


def test_the_orders_side_never_imports_payments():
    graph = import_graph()
    operations = sorted(m for m in graph if m == "market.orders.operations" or m.startswith("market.orders.operations."))
    assert len(operations) > 1  # the package and its modules
    for module in (*operations, "market.orders.services", "market.jobs", "market.mail"):
        assert not any(t.startswith("market.payments") for t in graph[module]), (module, graph[module])


@pytest.mark.parametrize("module", ["market.orders.operations", "market.orders.services", "market.payments.services",
                                    "market.payments.webhooks", "market.jobs", "market.mail", "market.cart.services"])
def test_each_module_imports_alone(module):
    result = subprocess.run([sys.executable, "-c", f"import {module}"], cwd=ROOT, capture_output=True, text=True,
                            timeout=120)
    assert result.returncode == 0, result.stderr[-2000:]
