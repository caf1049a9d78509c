"""A number too large for the store (SQLite INTEGER and PostgreSQL bigint are 64-bit) in any verb is
refused as bad input, one line and exit 2 — once at the parsing point (`cli.errors.Parser` for
every typed argument, `parse_key` / `parse_change_key` for keys read by handlers) — not an
OverflowError from the driver (exit 1, found by the verb fuzzer on `eim task list 1111…`)."""

from __future__ import annotations

import pytest

from eim_tui.cli.main import main
from eim_tui.domain.changes import parse_change_key
from eim_tui.domain.model import LARGEST_NUMBER, parse_key

HUGE = "11111111111111111111111"

CASES = [
    ["task", "list", HUGE],
    ["task", "done", "INC-000001", HUGE],
    ["show", f"INC-{HUGE}"],
    ["show", HUGE],
    ["ack", HUGE],
    ["ack", "INC-000001", "--expect-version", HUGE],
    ["change", "show", f"CHG-{HUGE}"],
    ["list", "--limit", HUGE],
    ["payloads", "retry", HUGE],
    ["payloads", "--limit", HUGE],
    ["demo", "--incidents", HUGE],
    ["list", "--limit", "5"],  # control: a number the store can hold works
]


@pytest.mark.parametrize("argv", CASES, ids=" ".join)
def test_a_number_too_large_is_one_line_and_exit_2(argv, tmp_path, monkeypatch, capsys) -> None:
    monkeypatch.setenv("EIM_DB", str(tmp_path / "eim.db"))
    monkeypatch.setenv("EIM_USER", "alice")
    status = main(argv)
    err = capsys.readouterr().err
    if HUGE not in " ".join(argv):
        assert status == 0, err
        return
    assert status == 2, err
    assert len(err.strip().splitlines()) == 1, err
    assert "too large" in err and "Overflow" not in err and "Traceback" not in err


def test_the_largest_number_is_still_a_key() -> None:
    assert parse_key(f"INC-{LARGEST_NUMBER}") == LARGEST_NUMBER
    assert parse_change_key(str(LARGEST_NUMBER)) == LARGEST_NUMBER
    for text in (str(LARGEST_NUMBER + 1), HUGE):
        with pytest.raises(ValueError, match="too large"):
            parse_key(text)
        with pytest.raises(ValueError, match="too large"):
            parse_change_key(text)
