"""The layers hold: the import-linter contracts in pyproject.toml pass, and no module imports
itself back through others — counting imports inside functions, which a lazy import would
otherwise hide (only `if TYPE_CHECKING:` imports are left out: they never run)."""

from __future__ import annotations

import ast
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

import eim_tui

PACKAGE = Path(eim_tui.__file__).resolve().parent
ROOT = PACKAGE.parent
LINT_IMPORTS = Path(sys.executable).with_name("lint-imports")


def test_the_import_contracts_hold() -> None:
    if not LINT_IMPORTS.exists():
        pytest.fail(f"{LINT_IMPORTS} is missing: install the test extras (pip install -e '.[test]')")
    done = subprocess.run([str(LINT_IMPORTS), "--no-cache"], cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "0 broken" in done.stdout


def module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def modules() -> dict[str, Path]:
    return {module_name(p): p for p in PACKAGE.rglob("*.py") if "migrations" not in p.parts}


def _type_checking_block(node: ast.AST) -> bool:
    test = getattr(node, "test", None)
    return isinstance(node, ast.If) and (
        (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING")
        or (isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING")
    )


def _runtime_imports(tree: ast.AST) -> Iterator[ast.Import | ast.ImportFrom]:
    for node in ast.iter_child_nodes(tree):
        if _type_checking_block(node):
            continue
        if isinstance(node, (ast.Import, ast.ImportFrom)):
            yield node
        yield from _runtime_imports(node)


def imports_of(name: str, source: str, known: set[str], is_package: bool = False) -> set[str]:
    """The eim modules `name` imports when it runs (a `from package import submodule` counts as
    importing the submodule)."""
    package = name if is_package else name.rpartition(".")[0]
    found: set[str] = set()
    for node in _runtime_imports(ast.parse(source)):
        if isinstance(node, ast.Import):
            found.update(a.name for a in node.names if a.name in known)
            continue
        if node.level:
            base = package.split(".")
            base = base[: len(base) - node.level + 1]
            target = ".".join(base + ([node.module] if node.module else []))
        else:
            target = node.module or ""
        for alias in node.names:
            if f"{target}.{alias.name}" in known:
                found.add(f"{target}.{alias.name}")
            elif target in known:
                found.add(target)
    found.discard(name)
    return found


def import_cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components of more than one module (Tarjan's algorithm)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    cycles: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for nxt in sorted(graph.get(node, ())):
            if nxt not in index:
                visit(nxt)
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
                cycles.append(sorted(component))

    sys.setrecursionlimit(max(sys.getrecursionlimit(), 10_000))
    for node in sorted(graph):
        if node not in index:
            visit(node)
    return cycles


def test_no_module_imports_itself_back_through_others() -> None:
    known = modules()
    names = set(known)
    graph = {name: imports_of(name, path.read_text(encoding="utf-8"), names, path.name == "__init__.py")
             for name, path in known.items()}
    assert import_cycles(graph) == []


def test_the_cycle_finder_sees_a_cycle_hidden_in_a_function() -> None:
    names = {"p.a", "p.b", "p.c"}
    a = "def f():\n    from p import b\n"
    b = "from p.c import x\n"
    c = "import typing\nif typing.TYPE_CHECKING:\n    from p.a import y\ndef g():\n    from . import a\n"
    graph = {"p.a": imports_of("p.a", a, names), "p.b": imports_of("p.b", b, names), "p.c": imports_of("p.c", c, names)}
    assert graph == {"p.a": {"p.b"}, "p.b": {"p.c"}, "p.c": {"p.a"}}
    assert import_cycles(graph) == [["p.a", "p.b", "p.c"]]
    graph["p.c"] = imports_of("p.c", "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    import p.a\n", names)
    assert import_cycles(graph) == []


def test_nothing_outside_the_command_line_imports_it() -> None:
    known = modules()
    offenders = [
        name for name, path in known.items()
        if not name.startswith("eim_tui.cli") and name != "eim_tui.__main__"
        and any(i.startswith("eim_tui.cli") for i in imports_of(name, path.read_text(encoding="utf-8"), set(known)))
    ]
    assert offenders == []


def test_every_package_says_in_one_line_what_lives_there() -> None:
    for init in PACKAGE.rglob("__init__.py"):
        if "migrations" in init.parts:
            continue
        doc = ast.get_docstring(ast.parse(init.read_text(encoding="utf-8")))
        assert doc, f"{init.relative_to(ROOT)} has no docstring"
        assert len(doc.strip().splitlines()) == 1 or doc.strip().splitlines()[1] == "", (
            f"{init.relative_to(ROOT)}: the first line alone should say what lives there"
        )
