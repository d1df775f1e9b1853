"""The import graph of the installed code, read from the source (AST, nothing is imported): layers
point one way, no module imports itself through others, and nothing installed imports tests/.

Every import counts — at module level, inside a function (lazy) or under TYPE_CHECKING — because
each is a dependency a reader has to follow."""

from __future__ import annotations

import ast
import tomllib
from functools import cache
from pathlib import Path

import pytest

from tests.conftest import REPO

# Bottom to top: a module may import its own layer or a lower one. graph.state and graph.context are
# the types nodes take, below the nodes; graph.graph wires the nodes together, above them.
LAYERS: list[tuple[str, ...]] = [
    ("core",),
    ("adapters",),
    ("graph.state", "graph.context"),
    ("nodes",),
    ("graph",),
    ("app",),
    ("standins",),
    ("app.cli", "func", "bench"),  # the entrypoints, and the benchmark that drives them
]


def installed_packages() -> list[str]:
    config = tomllib.loads((REPO / "pyproject.toml").read_text(encoding="utf-8"))
    return [pattern.rstrip("*") for pattern in config["tool"]["setuptools"]["packages"]["find"]["include"]]


@cache
def modules() -> dict[str, Path]:
    found = {"func": REPO / "func.py"}
    for package in installed_packages():
        for path in sorted((REPO / package).rglob("*.py")):
            parts = path.relative_to(REPO).with_suffix("").parts
            found[".".join(parts[:-1] if parts[-1] == "__init__" else parts)] = path
    return found


def imports_of(path: Path) -> set[str]:
    """The modules a file names in its imports: `from pkg import module` names pkg.module, not the
    package (whose __init__ only re-exports); `from module import name` names the module."""
    known = modules()
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), str(path))):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            assert node.level == 0, f"{path}: relative import"
            submodules = {f"{node.module}.{alias.name}" for alias in node.names} & known.keys()
            names.update(submodules or {node.module})
    return names


@cache
def import_graph() -> dict[str, set[str]]:
    """module → the first-party modules it imports."""
    known = modules()
    return {name: (imports_of(path) & known.keys()) - {name} for name, path in known.items()}


def layer(module: str) -> int:
    best, rank = -1, None
    for index, prefixes in enumerate(LAYERS):
        for prefix in prefixes:
            if (module == prefix or module.startswith(prefix + ".")) and len(prefix) > best:
                best, rank = len(prefix), index
    assert rank is not None, f"{module} belongs to no layer: add it to LAYERS"
    return rank


def test_the_walk_sees_the_installed_code():
    graph = import_graph()
    assert {"core.settings", "graph.graph", "nodes.route_intent", "app.runner", "bench.cli", "standins.gemini"} <= set(
        graph
    )
    assert "graph.context" in graph["nodes.route_intent"]
    assert "nodes.route_intent" in graph["graph.graph"]


@pytest.mark.parametrize("module", sorted(modules()))
def test_no_installed_module_imports_tests(module):
    offending = sorted(n for n in imports_of(modules()[module]) if n == "tests" or n.startswith("tests."))
    assert not offending, f"{module} imports {offending}"


def test_layers_point_one_way():
    upward = [
        f"{module} ({LAYERS[layer(module)][0]}) imports {imported} ({LAYERS[layer(imported)][0]})"
        for module, imported_modules in import_graph().items()
        for imported in sorted(imported_modules)
        if layer(imported) > layer(module)
    ]
    assert not upward, "\n".join(upward)


def test_no_import_cycles():
    graph = import_graph()
    cycles = [component for component in strongly_connected(graph) if len(component) > 1]
    assert not cycles, f"import cycles: {cycles}"


def strongly_connected(graph: dict[str, set[str]]) -> list[list[str]]:
    """Tarjan's algorithm, iterative."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    on_stack: set[str] = set()
    stack: list[str] = []
    components: list[list[str]] = []
    for root in graph:
        if root in index:
            continue
        work = [(root, iter(sorted(graph[root])))]
        index[root] = low[root] = len(index)
        stack.append(root)
        on_stack.add(root)
        while work:
            node, children = work[-1]
            child = next(children, None)
            if child is not None:
                if child not in index:
                    index[child] = low[child] = len(index)
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, iter(sorted(graph[child]))))
                elif child in on_stack:
                    low[node] = min(low[node], index[child])
                continue
            work.pop()
            if work:
                low[work[-1][0]] = min(low[work[-1][0]], low[node])
            if low[node] == index[node]:
                component = []
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    component.append(member)
                    if member == node:
                        break
                components.append(sorted(component))
    return components


def test_the_cycle_check_finds_a_cycle():
    assert [c for c in strongly_connected({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) if len(c) > 1] == [
        ["a", "b", "c"]
    ]


def test_the_function_image_needs_no_test_tool():
    """.dockerignore leaves standins/ and bench/ out of the Function's image: func.py must not reach them."""
    graph, seen, todo = import_graph(), set(), ["func"]
    while todo:
        module = todo.pop()
        if module not in seen:
            seen.add(module)
            todo.extend(graph[module])
    assert "app.runner" in seen
    assert sorted(m for m in seen if m.split(".")[0] in ("standins", "bench", "tests")) == []
