"""The shape the payment code must keep: read from the source, every import (also those
inside functions), so a cycle hidden in a lazy import is found too."""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PACKAGE = ROOT / "donations"


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _is_module(name: str) -> bool:
    path = ROOT.joinpath(*name.split("."))
    return path.with_suffix(".py").exists() or (path / "__init__.py").exists()


def _imports(path: Path) -> set[str]:
    """Modules a file imports. ``from pkg import submodule`` depends on the submodule (a
    package's __init__ runs before any of its submodules anyway: not an edge of its own)."""
    tree = ast.parse(path.read_text())
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            for alias in node.names:
                sub = f"{node.module}.{alias.name}"
                found.add(sub if _is_module(sub) else node.module)
    return found


def _graph() -> dict[str, set[str]]:
    modules = {
        _module_name(path): path for path in PACKAGE.rglob("*.py") if "migrations" not in path.parts
    }
    return {
        name: {m for m in _imports(path) if m in modules and m != name}
        for name, path in modules.items()
    }


def _cycle(graph: dict[str, set[str]]) -> list[str] | None:
    state: dict[str, int] = {}
    stack: list[str] = []

    def visit(node: str) -> list[str] | None:
        state[node] = 1
        stack.append(node)
        for nxt in sorted(graph[node]):
            if state.get(nxt) == 1:
                return [*stack[stack.index(nxt) :], nxt]
            if nxt not in state and (found := visit(nxt)):
                return found
        stack.pop()
        state[node] = 2
        return None

    for node in sorted(graph):
        if node not in state and (found := visit(node)):
            return found
    return None


def test_the_graph_sees_lazy_imports() -> None:
    """The checker itself: an import inside a function is an edge."""
    assert "donations.tasks" in _graph()["donations.apps"]


def test_donations_has_no_import_cycles() -> None:
    assert _cycle(_graph()) is None


def test_the_cycle_finder_finds_a_cycle() -> None:
    assert _cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}}) == ["a", "b", "c", "a"]


def test_services_and_providers_never_import_the_task_module() -> None:
    graph = _graph()
    offenders = [
        name
        for name, deps in graph.items()
        if name.startswith(("donations.services", "donations.providers"))
        and "donations.tasks" in deps
    ]
    assert offenders == []


def test_only_the_stripe_adapter_imports_stripe() -> None:
    importers = sorted(
        _module_name(path)
        for path in [
            *ROOT.glob("donations/**/*.py"),
            *ROOT.glob("projects/**/*.py"),
            *ROOT.glob("campaign/**/*.py"),
        ]
        if any(m == "stripe" or m.startswith("stripe.") for m in _imports(path))
    )
    assert importers == ["donations.providers.stripe"]


def test_production_code_never_imports_django_test() -> None:
    importers = sorted(
        _module_name(path)
        for path in [
            *ROOT.glob("donations/**/*.py"),
            *ROOT.glob("projects/**/*.py"),
            *ROOT.glob("campaign/**/*.py"),
        ]
        if any(m == "django.test" or m.startswith("django.test.") for m in _imports(path))
    )
    assert importers == []
