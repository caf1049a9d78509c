"""The domain layer imports nothing outside the standard library, and time comes only from the
clock module (STYLE.md: "No `datetime.now()` outside the clock module")."""

from __future__ import annotations

import ast
import json
import subprocess
import sys
import textwrap
from pathlib import Path

import eim_tui
import eim_tui.domain

PACKAGE = Path(eim_tui.__file__).resolve().parent
DOMAIN = Path(eim_tui.domain.__file__).resolve().parent
CLOCK = DOMAIN / "clock.py"
STDLIB = sys.stdlib_module_names | {"__future__"}


def _allowed(module: str) -> bool:
    # `_sysconfigdata_<platform>` is the standard library's build configuration (zoneinfo reads
    # its TZPATH through sysconfig); its name varies by platform, so it is not in the list.
    return (
        module.split(".")[0] in STDLIB
        or module.startswith("_sysconfigdata_")
        or module == "eim_tui"
        or module.startswith("eim_tui.domain")
    )


def test_importing_the_domain_loads_only_the_standard_library() -> None:
    script = textwrap.dedent(
        """
        import importlib, json, pkgutil, sys
        before = set(sys.modules)
        import eim_tui.domain
        names = [m.name for m in pkgutil.iter_modules(eim_tui.domain.__path__, "eim_tui.domain.")]
        for name in names:
            importlib.import_module(name)
        print(json.dumps({"modules": names, "loaded": sorted(set(sys.modules) - before)}))
        """
    )
    done = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, check=True, cwd=PACKAGE.parent
    )
    report = json.loads(done.stdout)
    expected = {f"eim_tui.domain.{p.stem}" for p in DOMAIN.glob("*.py") if p.stem != "__init__"}
    assert set(report["modules"]) == expected
    assert set(report["loaded"]) >= expected
    outside = [name for name in report["loaded"] if not _allowed(name)]
    assert outside == [], f"importing eim_tui.domain loaded non-stdlib modules: {outside}"


def imports_outside_the_stdlib(source: str, package: str = "eim_tui.domain") -> list[str]:
    """Every module a source imports (at any depth, relative ones resolved) that is neither
    standard library nor the domain package."""
    found = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            modules = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.rsplit(".", node.level - 1)[0] if node.level > 1 else package
                modules = [f"{base}.{node.module}"] if node.module else [f"{base}.{a.name}" for a in node.names]
            else:
                modules = [node.module or ""]
                if node.module == "eim_tui":  # `from eim_tui import x` reaches outside unless x is domain
                    modules = [f"eim_tui.{alias.name}" for alias in node.names]
        else:
            continue
        found += [m for m in modules if not _allowed(m)]
    return found


def test_the_import_checker_catches_what_it_should() -> None:
    bad = (
        "import textual\nfrom sqlalchemy import select\ndef f():\n    import plyer\n"
        "from ..store import x\nfrom .. import scheduler\nfrom eim_tui import services\n"
    )
    assert sorted(imports_outside_the_stdlib(bad)) == [
        "eim_tui.scheduler",
        "eim_tui.services",
        "eim_tui.store",
        "plyer",
        "sqlalchemy",
        "textual",
    ]
    good = "import re\nfrom datetime import UTC\nfrom . import sla\nfrom eim_tui.domain.model import State\nfrom eim_tui import domain\n"
    assert imports_outside_the_stdlib(good) == []


def test_domain_sources_import_only_the_stdlib_and_the_domain() -> None:
    sources = sorted(DOMAIN.glob("*.py"))
    assert CLOCK in sources
    offenders = {p.name: bad for p in sources if (bad := imports_outside_the_stdlib(p.read_text()))}
    assert offenders == {}


# --- time only from the clock -------------------------------------------------------------------

WALL_CLOCK_METHODS = {"now", "utcnow", "today"}


def wall_clock_calls(source: str) -> list[int]:
    """Line numbers of calls that read the wall clock: datetime.now/utcnow/today, date.today and
    time.time, however datetime and time were imported or renamed."""
    tree = ast.parse(source)
    classes: set[str] = set()  # names bound to datetime.datetime / datetime.date
    modules_datetime: set[str] = set()
    modules_time: set[str] = set()
    time_functions: set[str] = set()  # names bound to time.time
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                bound = alias.asname or alias.name
                if alias.name == "datetime":
                    modules_datetime.add(bound)
                elif alias.name == "time":
                    modules_time.add(bound)
        elif isinstance(node, ast.ImportFrom) and node.level == 0:
            for alias in node.names:
                bound = alias.asname or alias.name
                if node.module == "datetime" and alias.name in {"datetime", "date"}:
                    classes.add(bound)
                elif node.module == "time" and alias.name == "time":
                    time_functions.add(bound)
    lines = []
    for node in ast.walk(tree):
        if not isinstance(node, ast.Call):
            continue
        func = node.func
        if isinstance(func, ast.Name) and func.id in time_functions:
            lines.append(node.lineno)
        elif isinstance(func, ast.Attribute):
            owner = func.value
            if func.attr in WALL_CLOCK_METHODS and (
                (isinstance(owner, ast.Name) and owner.id in classes)
                or (
                    isinstance(owner, ast.Attribute)
                    and owner.attr in {"datetime", "date"}
                    and isinstance(owner.value, ast.Name)
                    and owner.value.id in modules_datetime
                )
            ):
                lines.append(node.lineno)
            elif func.attr == "time" and isinstance(owner, ast.Name) and owner.id in modules_time:
                lines.append(node.lineno)
    return sorted(lines)


def test_the_wall_clock_checker_catches_what_it_should() -> None:
    bad = textwrap.dedent(
        """
        import datetime as dt
        import time
        from datetime import datetime, date as day
        from time import time as seconds
        a = datetime.now(UTC)
        b = dt.datetime.utcnow()
        c = day.today()
        d = time.time()
        e = seconds()
        """
    )
    assert wall_clock_calls(bad) == [6, 7, 8, 9, 10]
    good = "import time\nfrom datetime import datetime\nx = time.monotonic()\ny = clock.now()\nz = datetime.fromisoformat('2025-01-01')\n"
    assert wall_clock_calls(good) == []


def test_only_the_clock_module_reads_the_wall_clock() -> None:
    sources = [p for p in sorted(PACKAGE.rglob("*.py")) if p.resolve() != CLOCK]
    assert DOMAIN / "sla.py" in sources
    offenders = {str(p.relative_to(PACKAGE)): lines for p in sources if (lines := wall_clock_calls(p.read_text()))}
    assert offenders == {}, "time must come from an injected eim_tui.domain.clock.Clock"
    assert wall_clock_calls(CLOCK.read_text()) != []  # and the clock module really is where it is read
