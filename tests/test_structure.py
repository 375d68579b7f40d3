"""The shape the code must keep, read from the source of every first-party package.

Every import counts, also one inside a function (a cycle hidden in a lazy import is still a
cycle) and ``import_module("a.b")`` with a literal name. The packages are discovered, not
listed: a new app (``finance/``, ``stewardship/``, ...) is covered the day it is created.
"""

from __future__ import annotations

import ast
import os
from collections.abc import Iterable, Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
# Top-level packages that are not app code: checked for cycles and size, exempt from the
# app rules (a test may import django.test; a benchmark may call Stripe's fakes).
NOT_APP_CODE = frozenset({"tests", "benchmarks"})
# Where the dependency arrows point (finance, stewardship, fundraisers -> donations ->
# projects; campaign wires them all). The lower rooms may import only what is listed here;
# any other room, including one that does not exist yet, is "later" and out of bounds for
# them. ``campaign`` is the project package: its small shared helpers (client_ip, pagecache,
# groups) may be used by any room, and it may import anything.
ROOM_MAY_IMPORT: dict[str, frozenset[str]] = {
    "projects": frozenset({"projects", "campaign"}),
    "donations": frozenset({"donations", "projects", "campaign"}),
    "finance": frozenset({"finance", "donations", "projects", "campaign"}),
    # What a donor gets after the gift (project updates): beside finance, above donations.
    "stewardship": frozenset({"stewardship", "donations", "projects", "campaign"}),
}
# No module of the repository's own Python is longer than this (migrations are generated).
MAX_LINES = 500
# The one module that talks to Stripe.
STRIPE_ADAPTER = "donations.providers.stripe"


def _packages(root: Path) -> list[str]:
    """Top-level directories that are Python packages or Django apps (real directories:
    ``.venv`` and ``node_modules`` are symlinks)."""
    return sorted(
        path.name
        for path in root.iterdir()
        if path.is_dir()
        and not path.is_symlink()
        and not path.name.startswith(".")
        and ((path / "__init__.py").exists() or (path / "apps.py").exists())
    )


def _app_packages(root: Path) -> list[str]:
    return [name for name in _packages(root) if name not in NOT_APP_CODE]


def _python_files(top: Path) -> Iterator[Path]:
    """Every .py file under ``top``, not following symlinks, migrations left out."""
    for directory, subdirs, files in os.walk(top):
        subdirs[:] = sorted(
            d for d in subdirs if not d.startswith((".", "__pycache__")) and d != "migrations"
        )
        for name in sorted(files):
            if name.endswith(".py"):
                yield Path(directory) / name


def _module_name(root: Path, path: Path) -> str:
    parts = list(path.relative_to(root).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _is_module(root: Path, name: str) -> bool:
    path = root.joinpath(*name.split("."))
    return path.with_suffix(".py").exists() or (path / "__init__.py").exists()


def _absolute(root: Path, path: Path, node: ast.ImportFrom) -> str:
    """The absolute module an ``from ... import`` names (relative imports resolved)."""
    if node.level == 0:
        return node.module or ""
    package = _module_name(root, path).split(".")
    if path.name != "__init__.py":
        package.pop()
    base = package[: len(package) - (node.level - 1)]
    return ".".join([*base, node.module] if node.module else base)


def _import_module_literal(call: ast.Call) -> str | None:
    """``x`` of ``import_module("x")`` / ``importlib.import_module("x")``, else None."""
    func = call.func
    called = func.id if isinstance(func, ast.Name) else getattr(func, "attr", None)
    if called != "import_module" or not call.args:
        return None
    first = call.args[0]
    return first.value if isinstance(first, ast.Constant) and isinstance(first.value, str) else None


def _imports(root: Path, path: Path) -> set[str]:
    """Modules a file imports. ``from pkg import submodule`` depends on the submodule (a
    package's __init__ runs before any of its submodules anyway: not an edge of its own)."""
    tree = ast.parse(path.read_text(), filename=str(path))
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            module = _absolute(root, path, node)
            for alias in node.names:
                sub = f"{module}.{alias.name}" if module else alias.name
                found.add(sub if _is_module(root, sub) else module)
        elif isinstance(node, ast.Call) and (name := _import_module_literal(node)):
            found.add(name)
    found.discard("")
    return found


def _modules(root: Path, packages: Iterable[str]) -> dict[str, Path]:
    return {
        _module_name(root, path): path
        for package in packages
        for path in _python_files(root / package)
    }


def _graph(root: Path, packages: Iterable[str]) -> dict[str, set[str]]:
    """Module -> the first-party modules it imports, over ``packages``."""
    modules = _modules(root, packages)
    return {
        name: {m for m in _imports(root, path) if m in modules and m != name}
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


def _all_cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """One cycle per strongly connected component (Tarjan), so a failure names them all."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    on_stack: set[str] = set()
    stack: list[str] = []
    components: list[list[str]] = []

    def connect(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for nxt in sorted(graph[node]):
            if nxt not in index:
                connect(nxt)
                low[node] = min(low[node], low[nxt])
            elif nxt in on_stack:
                low[node] = min(low[node], index[nxt])
        if low[node] == index[node]:
            component = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                component.append(member)
                if member == node:
                    break
            if len(component) > 1:
                components.append(sorted(component))

    for node in sorted(graph):
        if node not in index:
            connect(node)
    cycles = []
    for component in components:
        members = set(component)
        found = _cycle({m: graph[m] & members for m in component})
        assert found is not None
        cycles.append(found)
    return cycles


def _room(module: str) -> str:
    return module.split(".", maxsplit=1)[0]


@pytest.fixture(scope="module")
def app_packages() -> list[str]:
    return _app_packages(ROOT)


@pytest.fixture(scope="module")
def graph() -> dict[str, set[str]]:
    return _graph(ROOT, _packages(ROOT))


# --- the checker itself ---------------------------------------------------------------------


def test_the_graph_sees_lazy_imports(tmp_path: Path) -> None:
    """An import inside a function is an edge; so are a relative import and a literal
    ``import_module``."""
    (tmp_path / "app").mkdir()
    (tmp_path / "app" / "__init__.py").write_text("")
    (tmp_path / "app" / "apps.py").write_text(
        "from importlib import import_module\n\n"
        "def ready():\n"
        "    from app import tasks\n"
        "    from . import signals\n"
        "    import_module('app.admin')\n"
    )
    for name in ("tasks", "signals", "admin"):
        (tmp_path / "app" / f"{name}.py").write_text("")
    assert _packages(tmp_path) == ["app"]
    assert _graph(tmp_path, ["app"])["app.apps"] == {"app.tasks", "app.signals", "app.admin"}


def test_the_graph_finds_the_packages_of_this_repository(
    app_packages: list[str], graph: dict[str, set[str]]
) -> None:
    assert {"campaign", "projects", "donations", "stewardship"} <= set(app_packages)
    assert not {"tests", "benchmarks"} & set(app_packages)
    # A lazy import in the real code is seen (the task registration in AppConfig.ready).
    assert any(m.startswith("donations.tasks") for m in graph["donations.apps"])


def test_the_cycle_finder_finds_a_cycle() -> None:
    assert _cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}}) == ["a", "b", "c", "a"]
    assert _all_cycles({"a": {"b"}, "b": {"a"}, "c": {"d"}, "d": {"c"}, "e": {"a"}}) == [
        ["a", "b", "a"],
        ["c", "d", "c"],
    ]
    assert _all_cycles({"a": {"b"}, "b": set()}) == []


# --- the rules ------------------------------------------------------------------------------


def test_no_first_party_module_is_in_an_import_cycle(graph: dict[str, set[str]]) -> None:
    """Over app code, tests and benchmarks alike. (Before projects/formatting.py this found
    projects.seo -> projects.templatetags.campaign_tags -> projects.sharing -> projects.seo.)"""
    assert _all_cycles(graph) == []


def _upward(graph: dict[str, set[str]], app_packages: list[str]) -> list[str]:
    return sorted(
        f"{name} -> {dep}"
        for name, deps in graph.items()
        if _room(name) in ROOM_MAY_IMPORT
        for dep in deps
        if _room(dep) in app_packages and _room(dep) not in ROOM_MAY_IMPORT[_room(name)]
    )


def _tasks_imported_by_services(graph: dict[str, set[str]], app_packages: list[str]) -> list[str]:
    return sorted(
        f"{name} -> {dep}"
        for name, deps in graph.items()
        if _room(name) in app_packages and name.split(".")[1:2] in (["services"], ["providers"])
        for dep in deps
        if _room(dep) in app_packages and dep.split(".")[1:2] == ["tasks"]
    )


def test_the_room_rules_catch_what_they_forbid() -> None:
    rooms = ["campaign", "donations", "finance", "maps", "projects"]
    graph = {
        "campaign.urls": {"finance.admin", "maps.views"},
        "finance.admin": {"donations.models", "projects.models"},
        "maps.views": {"projects.models"},
        "donations.models": {"projects.models", "campaign.client_ip"},
        "donations.selectors": {"finance.models"},
        "projects.models": set(),
        "projects.views": {"maps.views"},
        "finance.services.exports": {"finance.tasks"},
        "donations.providers.local": {"donations.tasks.events"},
        "donations.views": {"donations.tasks"},
    }
    assert _upward(graph, rooms) == [
        "donations.selectors -> finance.models",
        "projects.views -> maps.views",
    ]
    assert _tasks_imported_by_services(graph, rooms) == [
        "donations.providers.local -> donations.tasks.events",
        "finance.services.exports -> finance.tasks",
    ]


def test_imports_point_down_the_rooms(app_packages: list[str], graph: dict[str, set[str]]) -> None:
    """projects imports no other room; donations imports only projects (and campaign's
    helpers); finance, stewardship, fundraisers and any new room may import both."""
    assert _upward(graph, app_packages) == []


def test_services_and_providers_never_import_a_task_module(
    app_packages: list[str], graph: dict[str, set[str]]
) -> None:
    assert _tasks_imported_by_services(graph, app_packages) == []


def _app_importers(app_packages: list[str], wanted: str) -> list[str]:
    return sorted(
        _module_name(ROOT, path)
        for package in app_packages
        for path in _python_files(ROOT / package)
        if any(m == wanted or m.startswith(f"{wanted}.") for m in _imports(ROOT, path))
    )


def test_only_the_stripe_adapter_imports_stripe(app_packages: list[str]) -> None:
    assert _app_importers(app_packages, "stripe") == [STRIPE_ADAPTER]


def test_production_code_never_imports_django_test(app_packages: list[str]) -> None:
    assert _app_importers(app_packages, "django.test") == []


def test_no_module_is_over_500_lines() -> None:
    """Every Python file of the repository (app code, tests, benchmarks, scripts, manage.py;
    migrations aside)."""
    too_long = sorted(
        f"{path.relative_to(ROOT)}: {lines}"
        for path in _python_files(ROOT)
        if (lines := len(path.read_text().splitlines())) > MAX_LINES
    )
    assert too_long == [], "over 500 lines:\n" + "\n".join(too_long)
