"""`eim import` and `eim report` from the shell: the summary line, bad rows on stderr with their line
numbers, the report in every format, and bad input as one line with exit status 2, nothing written."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import pytest

from tests.importing.conftest import event, write_log, write_slice

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def slice_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_slice(tmp_path_factory.mktemp("cli") / "slice.csv", 600)


def test_import_then_again_then_report(eim_on, slice_file: Path) -> None:
    first = eim_on("import", "servicenow", str(slice_file))
    new = int(first.out.split(": ")[1].split(" new")[0].replace(",", ""))
    assert first.out.strip() == f"imported 600 rows: {new} new, 0 changed, 0 unchanged" and first.err == ""
    again = eim_on("import", "servicenow", str(slice_file))
    assert again.out.strip() == f"imported 600 rows: 0 new, 0 changed, {new} unchanged"
    data = eim_on("report", "--json").json
    assert data["by"] == "severity" and data["total"]["opened"] == new
    assert json.loads(json.dumps(data)) == data
    assert eim_on("audit", "verify").out.startswith("timeline intact")


def test_report_formats(eim, slice_file: Path) -> None:
    eim("import", "servicenow", str(slice_file))
    text = eim("report", "--by", "month").out
    assert text.splitlines()[0].endswith("by month") and "2016-03" in text and text.splitlines()[-1].startswith("total")
    table = list(csv.reader(io.StringIO(eim("report", "--csv").out)))
    assert table[0][:5] == ["key", "opened", "resolved", "closed", "backlog"] and table[-1][0] == "total"
    md = eim("report", "--md", "--by", "group").out
    assert "| key | opened |" in md and "|---|" in md
    process = eim("report", "--process").out
    assert "on hold: awaiting user" in process and "transitions" in process
    assert eim("report", "--process", "--json").json["states"][0]["incidents"] > 0


def test_bad_rows_are_listed_on_stderr_and_counted(eim, tmp_path: Path) -> None:
    log = write_log(tmp_path / "log.csv", [event("INC1", "New", 0, "1/3/2016 09:00"),
                                           event("INC1", "-100", 1, "1/3/2016 09:10")])
    done = eim("import", "servicenow", str(log))
    assert done.out.strip() == "imported 1 rows: 1 new, 0 changed, 0 unchanged; 1 bad row"
    assert done.err.strip() == f"eim: {log}:3: INC1: unknown state '-100' (row skipped)"


def test_a_dry_run_writes_nothing(eim, slice_file: Path) -> None:
    assert eim("import", "servicenow", str(slice_file), "--dry-run").out.startswith("would import 600 rows")
    assert eim("report", "--json").json["total"]["opened"] == 0


def test_import_csv_with_the_example_map(eim) -> None:
    fixture = ROOT / "tests" / "importing" / "fixtures" / "jira_export.csv"
    done = eim("import", "csv", str(fixture), "--map", str(ROOT / "docs" / "import-map.example.toml"))
    assert done.out.strip() == "imported 6 rows: 6 new, 0 changed, 0 unchanged"


@pytest.mark.parametrize(("args", "message"), [
    (["import", "servicenow", "{tmp}/missing.csv"], "eim: cannot read {tmp}/missing.csv: no such file"),
    (["import", "servicenow", "{tmp}/other.csv"],
     "eim: {tmp}/other.csv is not a ServiceNow incident event log: it has no column number, incident_state"),
    (["import", "csv", "{tmp}/other.csv", "--map", "{tmp}/nomap.toml"], "eim: cannot read the map {tmp}/nomap.toml"),
    (["import", "csv", "{tmp}/other.csv", "--map", "{tmp}/map.toml"],
     "eim: {tmp}/other.csv is not an export the map describes: it has no column Ticket"),
    (["report", "--by", "team"], "eim: unknown --by 'team'; use one of severity, category"),
    (["report", "--from", "2016-03-05", "--to", "2016-03-01"], "eim: --from 2016-03-05 is after --to 2016-03-01"),
    (["report", "--from", "March"], "eim: --from 'March' is not a date; use YYYY-MM-DD"),
    (["report", "--json", "--csv"], "eim: argument --csv: not allowed with argument --json"),
])
def test_bad_input_is_one_line_and_exit_2(eim, tmp_path: Path, args: list[str], message: str) -> None:
    (tmp_path / "other.csv").write_text("id,title\n1,x\n", encoding="utf-8")
    (tmp_path / "map.toml").write_text('[columns]\nnumber="Ticket"\nstate="S"\nopened_at="O"\npriority="P"\n'
                                       '[states]\nOpen="new"\n', encoding="utf-8")
    done = eim(*[a.format(tmp=tmp_path) for a in args], ok=False)
    assert done.status == 2, str(done)
    assert done.err.startswith(message.format(tmp=tmp_path)), done.err
    assert len(done.err.strip().splitlines()) == 1 and "Traceback" not in done.err
    assert eim("report", "--json").json["total"]["opened"] == 0


def test_a_progress_bar_on_a_terminal_and_one_line_otherwise(tmp_path: Path, slice_file: Path) -> None:
    """stderr a terminal (a real pty): the bar is drawn and ends in a newline; a pipe: no bar at all."""
    import os
    import pty
    import subprocess
    import sys

    env = {**{k: v for k, v in os.environ.items() if not k.startswith("EIM_")}, "EIM_USER": "alice"}
    argv = [sys.executable, "-m", "eim_tui", "--db", f"sqlite:///{tmp_path}/tty.db", "import", "servicenow",
            str(slice_file)]
    leader, follower = pty.openpty()
    try:
        done = subprocess.run(argv, stdout=subprocess.PIPE, stderr=follower, env=env, timeout=120, check=False)
        os.close(follower)
        drawn = b""
        while True:
            try:
                chunk = os.read(leader, 4096)
            except OSError:  # the pty is drained and closed
                break
            if not chunk:
                break
            drawn += chunk
    finally:
        os.close(leader)
    assert done.returncode == 0
    text = drawn.decode()
    assert "[##############################]" in text and " tickets " in text and text.endswith("\r\n")
    piped = subprocess.run(argv[:4] + [f"sqlite:///{tmp_path}/pipe.db"] + argv[5:], capture_output=True, text=True,
                           env=env, timeout=120, check=False)
    assert piped.returncode == 0 and piped.stderr == "" and len(piped.stdout.splitlines()) == 1
