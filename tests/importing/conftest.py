"""Event logs for the import tests: a slice of the real ServiceNow log and small hand-written logs
in the same format.

The slices come from `fixtures/servicenow_first_40000.csv.gz`, the header and first 40,000 rows of
the whole log (../shared/datasets, UCI "Incident management process enriched event log", CC BY
4.0), committed so the tests need nothing outside the checkout; `make bench` imports the whole log.
"""

from __future__ import annotations

import csv
import gzip
import io
from pathlib import Path

import pytest

DATASET = Path(__file__).resolve().parent / "fixtures" / "servicenow_first_40000.csv.gz"
DATASET_ROWS = 40_000
HEADER = ["number", "incident_state", "active", "reassignment_count", "reopen_count", "sys_mod_count", "made_sla", "caller_id", "opened_by", "opened_at", "sys_created_by", "sys_created_at", "sys_updated_by", "sys_updated_at", "contact_type", "location", "category", "subcategory", "u_symptom", "cmdb_ci", "impact", "urgency", "priority", "assignment_group", "assigned_to", "knowledge", "u_priority_confirmation", "notify", "problem_id", "rfc", "vendor", "caused_by", "closed_code", "resolved_by", "resolved_at", "closed_at"]


def dataset() -> Path:
    return DATASET


def write_slice(target: Path, rows: int) -> Path:
    """The header and the first `rows` rows of the real log, as a plain CSV."""
    assert rows <= DATASET_ROWS, f"the committed slice holds {DATASET_ROWS:,} rows, not {rows:,}"
    with gzip.open(dataset(), "rt", encoding="utf-8", newline="") as src, target.open("w", encoding="utf-8",
                                                                                      newline="") as out:
        for count, line in enumerate(src):
            if count > rows:
                break
            out.write(line)
    return target


@pytest.fixture(scope="session")
def log_slice(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The first 2,000 rows of the real event log (296 incidents)."""
    return write_slice(tmp_path_factory.mktemp("log") / "slice.csv", 2000)


def event(number: str, state: str, mod: int, updated: str, **fields: str) -> dict[str, str]:
    """One hand-written event log row; every column not given is the log's `?` or a plain default."""
    row = {name: "?" for name in HEADER}
    row.update(number=number, incident_state=state, sys_mod_count=str(mod), sys_updated_at=updated,
               sys_updated_by="Updated by 1", active="true", reassignment_count="0", reopen_count="0",
               made_sla="true", caller_id="Caller 1", opened_by="Opened by 1", opened_at="1/3/2016 09:00",
               contact_type="Phone", category="Category 1", subcategory="Subcategory 1", u_symptom="Symptom 1",
               impact="2 - Medium", urgency="2 - Medium", priority="3 - Moderate", assignment_group="Group 1")
    row.update(fields)
    return row


def write_log(target: Path, rows: list[dict[str, str]]) -> Path:
    out = io.StringIO()
    writer = csv.DictWriter(out, HEADER, lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    target.write_text(out.getvalue(), encoding="utf-8")
    return target
