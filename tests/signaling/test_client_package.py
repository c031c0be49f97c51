"""The loopback client stays a package of its own (DESIGN §1): it uses ``signaling`` and ``voice_agent`` but never
``web`` or ``db``, no server module imports it (the ``mock-interviewer`` command aside), its modules import one
another without a cycle, and nobody imports a private name of it."""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
CLIENT = "signaling.client"
SERVER_PACKAGES = ("signaling", "web", "voice_agent", "db")
#: The composition root: the one server module that may import the client.
COMMAND = "web.cli"


def module_name(path: Path) -> str:
    parts = path.relative_to(ROOT).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def imports_of(path: Path) -> list[tuple[str, list[str]]]:
    """Every import in the file (also those inside functions): the module and the names taken from it."""
    found = []
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            found += [(alias.name, []) for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.append((node.module, [alias.name for alias in node.names]))
    return found


def modules(*packages: str) -> dict[str, Path]:
    return {module_name(p): p for package in packages for p in sorted((ROOT / package).rglob("*.py"))}


def within(module: str, package: str) -> bool:
    return module == package or module.startswith(package + ".")


def test_the_client_imports_nothing_of_web_or_db():
    upward = [
        (name, imported)
        for name, path in modules("signaling/client").items()
        for imported, _ in imports_of(path)
        if within(imported, "web") or within(imported, "db")
    ]
    assert upward == []


def test_no_server_module_but_the_command_imports_the_client():
    importers = [
        (name, imported)
        for name, path in modules(*SERVER_PACKAGES).items()
        if not within(name, CLIENT) and name != COMMAND
        for imported, _ in imports_of(path)
        if within(imported, CLIENT)
    ]
    assert importers == []


def test_the_client_modules_import_one_another_without_a_cycle():
    graph = {
        name: {imported for imported, _ in imports_of(path) if within(imported, CLIENT) and imported != name}
        for name, path in modules("signaling/client").items()
    }
    done: set[str] = set()

    def visit(name: str, path: tuple[str, ...]) -> None:
        assert name not in path, f"import cycle: {' -> '.join((*path, name))}"
        if name in done:
            return
        for imported in graph.get(name, ()):
            visit(imported, (*path, name))
        done.add(name)

    for name in graph:
        visit(name, ())


def test_no_private_name_of_the_client_is_imported():
    private = [
        (name, imported, taken)
        for name, path in modules(*SERVER_PACKAGES, "tests", "benchmarks").items()
        for imported, names in imports_of(path)
        if within(imported, CLIENT)
        for taken in names
        if taken.startswith("_")
    ]
    assert private == []
