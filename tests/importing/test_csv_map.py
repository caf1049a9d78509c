"""`eim import csv FILE --map MAP`: another system's export (a Jira CSV, one row per ticket) read
through the documented example map, and the mistakes a map can hold, each said in one line."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import select

from eim_tui.domain.errors import ValidationError
from eim_tui.domain.model import HoldReason, State
from eim_tui.services.import_formats import load_map
from eim_tui.services.importing import import_history
from eim_tui.store.tables import IncidentImportRow

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE_MAP = ROOT / "docs" / "import-map.example.toml"
JIRA = Path(__file__).resolve().parent / "fixtures" / "jira_export.csv"


def _by_ref(svc) -> dict:
    with svc.db.read() as session:
        refs = dict(session.execute(select(IncidentImportRow.external_ref, IncidentImportRow.incident_id)).all())
    return {ref: svc.get(number) for ref, number in refs.items()}


def test_a_jira_export_is_read_through_the_example_map(svc) -> None:
    summary = import_history(svc, JIRA, load_map(EXAMPLE_MAP))
    assert (summary.new, summary.bad) == (6, [])
    got = _by_ref(svc)
    vpn = got["OPS-101"]
    assert vpn.title == "VPN tunnel drops every 20 minutes, Berlin office"  # a quoted comma stays in the title
    assert (vpn.state, vpn.priority, vpn.assignee, vpn.reporter_name, vpn.category, vpn.resolution_code) == (
        State.RESOLVED, 2, "dmitri", "Anna Keller", "vpn", "Fixed")
    # 9:15 AM in Berlin (CET, UTC+1 in March) is 08:15 UTC.
    assert vpn.reported_at == datetime(2024, 3, 5, 8, 15, tzinfo=UTC)
    assert vpn.resolved_at == datetime(2024, 3, 5, 13, 40, tzinfo=UTC)
    assert got["OPS-102"].priority == 1 and got["OPS-102"].state is State.IN_PROGRESS
    assert (got["OPS-103"].state, got["OPS-103"].hold_reason) == (State.ON_HOLD, HoldReason.AWAITING_USER)
    assert got["OPS-104"].state is State.NEW and got["OPS-104"].assignee == ""
    assert got["OPS-105"].state is State.CLOSED and got["OPS-105"].closed_at is not None
    assert got["OPS-106"].state is State.CANCELLED and got["OPS-106"].closed_at is not None
    assert import_history(svc, JIRA, load_map(EXAMPLE_MAP)).line() == "imported 6 rows: 0 new, 0 changed, 6 unchanged"


def test_separator_and_encoding_come_from_the_map(svc, tmp_path: Path) -> None:
    export = tmp_path / "tickets.csv"
    export.write_bytes("Ticket;Zustand;Priorität;Eröffnet\nT-1;Offen;2;05.03.2024 09:15\n".encode("latin-1"))
    mapping = tmp_path / "map.toml"
    mapping.write_text('[format]\nsource = "legacy"\nseparator = ";"\nencoding = "latin-1"\n'
                       'date_format = "%d.%m.%Y %H:%M"\n[columns]\nnumber = "Ticket"\nstate = "Zustand"\n'
                       'priority = "Priorität"\nopened_at = "Eröffnet"\n[states]\n"Offen" = "new"\n', encoding="utf-8")
    assert import_history(svc, export, load_map(mapping)).new == 1
    assert _by_ref(svc)["T-1"].reported_at == datetime(2024, 3, 5, 9, 15, tzinfo=UTC)


@pytest.mark.parametrize(("text", "message"), [
    ('[columns]\nnumber = "Issue key"\n', r"has no column for state, opened_at, priority; add them under \[columns\]"),
    ('[columns]\nnumber="a"\nstate="b"\nopened_at="c"\npriority="d"\nweather="e"\n[states]\nx="new"\n',
     r"names unknown field\(s\) weather in \[columns\]"),
    ('[columns]\nnumber="a"\nstate="b"\nopened_at="c"\npriority="d"\n', r"has no \[states\]"),
    ('[columns]\nnumber="a"\nstate="b"\nopened_at="c"\npriority="d"\n[states]\nOpen="waiting"\n',
     r"state 'waiting' is not one of new, in_progress"),
    ('[columns\n', r"is not valid TOML"),
])
def test_a_wrong_map_is_one_clear_line(tmp_path: Path, text: str, message: str) -> None:
    mapping = tmp_path / "map.toml"
    mapping.write_text(text, encoding="utf-8")
    with pytest.raises(ValidationError, match=message):
        load_map(mapping)


def test_a_map_naming_a_missing_column_writes_nothing(svc, tmp_path: Path) -> None:
    mapping = tmp_path / "map.toml"
    mapping.write_text(EXAMPLE_MAP.read_text(encoding="utf-8").replace('"Component/s"', '"Components"'),
                       encoding="utf-8")
    with pytest.raises(ValidationError, match=r"is not an export the map describes: it has no column Components"):
        import_history(svc, JIRA, load_map(mapping))
    assert _by_ref(svc) == {}


def test_an_imported_incident_in_a_confidential_category_is_confidential(svc, tmp_path: Path) -> None:
    export = tmp_path / "tickets.csv"
    export.write_text("Ticket,State,Priority,Opened,Area\nT-1,Open,2,2024-03-05 09:15:00,security\n"
                      "T-2,Open,2,2024-03-05 09:16:00,network\n", encoding="utf-8")
    mapping = tmp_path / "map.toml"
    mapping.write_text('[columns]\nnumber = "Ticket"\nstate = "State"\npriority = "Priority"\nopened_at = "Opened"\n'
                       'category = "Area"\n[states]\n"Open" = "new"\n', encoding="utf-8")
    import_history(svc, export, load_map(mapping))
    got = _by_ref(svc)
    assert svc.ref.is_confidential("security") and got["T-1"].confidential and not got["T-2"].confidential
