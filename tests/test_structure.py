"""The layout of DESIGN §1 holds: every import arrow points down, no module imports itself back through others,
and no private name crosses a module boundary. Read from the source with ``ast`` (imports inside functions
count too), so it stays true as the code grows."""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = ("voice_agent", "signaling", "web", "db")
CLIENT = "signaling.client"
#: The composition root: the one module that may import everything.
COMPOSITION_ROOT = "web.cli"
#: What each layer may import besides itself.
MAY_IMPORT = {
    "voice_agent": set(),
    "db": set(),
    "signaling": {"voice_agent"},
    "client": {"voice_agent", "signaling"},
    "web": {"voice_agent", "signaling", "db"},
}


def modules() -> dict[str, Path]:
    """Every module of the four packages, by dotted name."""
    found = {}
    for package in PACKAGES:
        for path in (ROOT / package).rglob("*.py"):
            parts = path.relative_to(ROOT).with_suffix("").parts
            name = ".".join(parts[:-1] if parts[-1] == "__init__" else parts)
            found[name] = path
    return found


def layer(module: str) -> str:
    if module == CLIENT or module.startswith(CLIENT + "."):
        return "client"
    return module.split(".")[0]


def imports(name: str, path: Path, known: dict[str, Path]) -> list[tuple[str, str | None, int]]:
    """(imported module, imported name or None, line) for each import of a module of ours."""
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found = []
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            found += [(alias.name, None, node.lineno) for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")[: len(package.split(".")) - node.level + 1]
                source = ".".join([*base, node.module] if node.module else base)
            else:
                source = node.module or ""
            for alias in node.names:
                submodule = f"{source}.{alias.name}"
                found.append(
                    (submodule, None, node.lineno) if submodule in known else (source, alias.name, node.lineno)
                )
    result = []
    for target, imported, line in found:
        while target and target not in known:
            target = target.rpartition(".")[0]
        if target and target != name:
            result.append((target, imported, line))
    return result


def import_graph() -> tuple[dict[str, set[str]], list[str]]:
    """Module → modules it imports, and every private name imported from another module."""
    known = modules()
    graph: dict[str, set[str]] = {name: set() for name in known}
    private = []
    for name, path in known.items():
        for target, imported, line in imports(name, path, known):
            graph[name].add(target)
            if imported and imported.startswith("_") and not imported.startswith("__"):
                private.append(f"{name}:{line} imports {target}.{imported}")
    return graph, private


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """The strongly connected groups of more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    groups: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for other in sorted(graph[node]):
            if other not in index:
                visit(other)
                low[node] = min(low[node], low[other])
            elif other in on_stack:
                low[node] = min(low[node], index[other])
        if low[node] == index[node]:
            group = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                group.append(member)
                if member == node:
                    break
            if len(group) > 1:
                groups.append(sorted(group))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return groups


def test_every_import_points_down():
    graph, _ = import_graph()
    upward = [
        f"{module} imports {target}"
        for module, targets in sorted(graph.items())
        for target in sorted(targets)
        if module != COMPOSITION_ROOT
        and layer(target) != layer(module)
        and layer(target) not in MAY_IMPORT[layer(module)]
    ]
    assert upward == []


def test_no_module_imports_itself_back_through_others():
    graph, _ = import_graph()
    assert cycles(graph) == []


def test_no_private_name_crosses_a_module_boundary():
    _, private = import_graph()
    assert private == []


def test_the_checks_see_what_they_are_meant_to_see():
    """The walk finds the modules and their imports (a check of nothing would pass too)."""
    graph, _ = import_graph()
    assert {"voice_agent.session", "signaling.rtc_call", "web.app", "db.repository"} <= graph.keys()
    assert "signaling.rtc_call" in graph["web.call_routes"] and "db.repository" in graph["web.app"]
    assert cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]
