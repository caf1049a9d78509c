"""The export formats without a process: Markdown cells stay one cell, CSV flattens the review."""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime

from eim_tui.domain.model import Incident, Source
from eim_tui.output.export import _cell, write_all

AT = datetime(2026, 11, 26, 9, 0, tzinfo=UTC)


def test_a_typed_pipe_or_newline_stays_inside_its_markdown_cell() -> None:
    assert _cell("a | b\nc") == "a \\| b<br>c"
    assert _cell("") == "—" and _cell(None) == "—" and _cell(True) == "yes" and _cell(Source.PHONE) == "phone"


def test_csv_has_one_row_per_incident_and_json_for_nested_values() -> None:
    review = {"summary": "s", "actions": [{"action": "a", "owner": "o"}]}
    incidents = iter([
        Incident(1, "Disk, full", 2, 2, 3, AT, post_incident_review=review),
        Incident(2, 'Quote "x"', 3, 3, 5, AT),
    ])
    out = io.StringIO()
    assert write_all(incidents, "csv", out) == 2
    rows = list(csv.DictReader(io.StringIO(out.getvalue())))
    assert [r["key"] for r in rows] == ["INC-000001", "INC-000002"]
    assert rows[0]["title"] == "Disk, full" and rows[1]["title"] == 'Quote "x"'
    assert rows[0]["post_incident_review"] == '{"summary": "s", "actions": [{"action": "a", "owner": "o"}]}'
    assert rows[1]["post_incident_review"] == "" and rows[0]["reported_at"] == "2026-11-26T09:00:00Z"
