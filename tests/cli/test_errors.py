"""Bad input: status 2 and exactly one line on stderr starting `eim: `, never a traceback."""

from __future__ import annotations

import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor

import pytest
from sqlalchemy import text

import eim_tui
from eim_tui.store import Database

BAD_INPUT = {
    "no title": (["new", "--impact", "1", "--urgency", "1"], "--title"),
    "impact 7": (["new", "--title", "x", "--impact", "7", "--urgency", "1"], "impact"),
    "unknown category": (["new", "--title", "x", "--impact", "1", "--urgency", "1", "--category", "plumbing"],
                         "unknown category 'plumbing'"),
    "unknown service": (["new", "--title", "x", "--impact", "1", "--urgency", "1", "--service", "nope"],
                        "unknown service 'nope'"),
    "bad filter": (["list", "--filter", "sev<=9"], "severity must be a number 1–5"),
    "unknown filter field": (["list", "--filter", "colour:red"], "unknown field 'colour'"),
    "unknown view": (["list", "--view", "everything"], "invalid choice"),
    "not a key": (["show", "NOPE"], "'NOPE' is not an incident key"),
    "no such incident": (["show", "INC-999999"], "no incident INC-999999"),
    "close an open incident": (["close", "INC-000001"], "cannot close an incident that is new"),
    "hold without a reason": (["hold", "INC-000001"], "--reason"),
    "unknown hold reason": (["hold", "INC-000001", "--reason", "lunch"], "unknown hold reason 'lunch'"),
    "unknown command": (["frobnicate"], "invalid choice"),
    "nonsense database": (["--db", "nonsense://x", "list"], "unsupported database 'nonsense'"),
    "unreachable PostgreSQL": (["--db", "postgresql+psycopg://postgres@127.0.0.1:1/eim", "list"],
                               "store unreachable: PostgreSQL at 127.0.0.1:1: connection refused"),
    "no such PostgreSQL database": (["--db", "postgresql+psycopg://postgres@127.0.0.1:5432/eim_no_such_db", "list"],
                                    "does not exist"),
    "a directory for a file": (["--db", "sqlite:////", "list"], "store unreachable: the file cannot be opened"),
    "in-memory SQLite": (["--db", "sqlite://", "list"], "in-memory"),
}


def _wrong(results: dict[str, object]) -> dict[str, str]:
    """The cases whose answer is not status 2 and one line `eim: …` naming the problem."""
    wrong = {}
    for name, result in results.items():
        expected = BAD_INPUT[name][1]
        lines = result.err.splitlines()
        if (result.status != 2 or len(lines) != 1 or not lines[0].startswith("eim: ")
                or expected not in lines[0] or "Traceback" in result.err or result.out):
            wrong[name] = str(result)
    return wrong


def test_bad_input_gives_one_line_and_status_2(eim) -> None:
    eim.new()
    assert _wrong({name: eim(*args, ok=False) for name, (args, _) in BAD_INPUT.items()}) == {}
    # Nothing was written by any of them.
    assert [r["key"] for r in eim("list", "--json", "--filter", "all").json] == ["INC-000001"]
    assert eim("audit", "verify").out.startswith("timeline intact: 1 events")


# One of each way to fail, where it matters most: the status a shell sees, and what the process
# prints on its way out (an uncaught exception would be a traceback on stderr).
AS_A_PROCESS = ["unknown command", "no such incident", "unreachable PostgreSQL"]


def test_bad_input_gives_one_line_and_status_2_from_a_real_process(eim_process) -> None:
    # The cases are independent: run them side by side (each is a whole Python process).
    with ThreadPoolExecutor(3) as pool:
        results = dict(zip(AS_A_PROCESS, pool.map(lambda name: eim_process(*BAD_INPUT[name][0], ok=False),
                                                  AS_A_PROCESS)))
    assert _wrong(results) == {}


def test_a_crash_is_one_line_and_status_1_never_a_traceback(eim, eim_process, tmp_path) -> None:
    """What nobody foresaw (here a file that is not SQLite at all) still ends in one line."""
    garbage = tmp_path / "garbage.db"
    garbage.write_text("not a database, just text\n" * 200)
    for run in (eim, eim_process):
        result = run("list", db=f"sqlite:///{garbage}", ok=False)
        assert result.status == 1 and result.out == "", str(result)
        assert result.err == "eim: DatabaseError: (sqlite3.DatabaseError) file is not a database\n", str(result)


def test_a_database_that_is_not_an_eim_store_is_refused(eim, tmp_path) -> None:
    url = f"sqlite:///{tmp_path}/other.db"
    db = Database(url)
    with db.write() as session:
        session.execute(text("CREATE TABLE payroll (id INTEGER PRIMARY KEY)"))
    db.dispose()
    result = eim("list", db=url, ok=False)
    assert result.status == 2 and result.err.startswith("eim: the database holds tables that are not an eim store")
    assert result.err.count("\n") == 1


@pytest.mark.parametrize("args", [["--help"], ["list", "--help"], ["assign", "--help"]])
def test_help_exits_0(eim, args) -> None:
    result = eim(*args)
    assert "usage: eim" in result.out and result.err == ""


def test_help_from_a_real_process_loads_neither_the_store_nor_the_ui(eim_process) -> None:
    result = eim_process("--help")
    assert "usage: eim" in result.out and result.err == ""
    # `eim --help` starts fast: the heavy libraries wait for the command that needs them.
    probe = ("import sys\nfrom eim_tui.cli.main import main\ntry:\n    main(['--help'])\nexcept SystemExit:\n    pass\n"
             "print(sorted({m.split('.')[0] for m in sys.modules} & {'sqlalchemy', 'alembic', 'textual', 'rich', "
             "'aiohttp', 'apscheduler', 'platformdirs'}), file=sys.stderr)")
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, timeout=60)
    assert (done.returncode, done.stderr) == (0, "[]\n")


def test_version(eim, eim_process) -> None:
    for run in (eim, eim_process):
        result = run("--version")
        assert (result.status, result.out, result.err) == (0, f"eim {eim_tui.__version__}\n", ""), str(result)
