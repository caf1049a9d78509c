"""The test oracle for `eim import servicenow`: what a plain script over the event log says, with
the standard library alone (no eim code), so the import and the report are checked against an
independent reading of the same file.

Per severity (the last row's `priority`, `1 - Critical` → 1): how many incidents, how many
resolved (the last row has a `resolved_at`), and the median hours from `opened_at` to
`resolved_at` over the resolved ones. Rows that are junk (no number, a state that is not one of
the log's, an unreadable date) are left out, as the import leaves them out.

    python -m tests.importing.oracle FILE.csv[.gz]     # prints the figures as JSON
"""

from __future__ import annotations

import csv
import gzip
import json
import statistics
import sys
from datetime import datetime

STATES = {"New", "Active", "Awaiting User Info", "Awaiting Vendor", "Awaiting Problem", "Awaiting Evidence",
          "Resolved", "Closed"}
DATES = ("opened_at", "sys_updated_at", "resolved_at", "closed_at")


def _when(text: str) -> datetime | None:
    return None if text in ("?", "") else datetime.strptime(text, "%d/%m/%Y %H:%M")


def figures(path: str) -> dict[int, dict[str, float | int | None]]:
    opener = gzip.open if path.endswith(".gz") else open
    last: dict[str, tuple[int, int, dict[str, str]]] = {}
    with opener(path, "rt", encoding="utf-8", newline="") as handle:
        for line, row in enumerate(csv.DictReader(handle)):
            number = row["number"].strip()
            if number in ("", "?") or row["incident_state"] not in STATES:
                continue
            try:
                if _when(row["opened_at"]) is None:
                    continue
                for name in DATES:
                    _when(row[name])
            except ValueError:
                continue
            key = (int(row["sys_mod_count"]), line)
            if number not in last or key > last[number][:2]:
                last[number] = (*key, row)
    out: dict[int, dict] = {}
    hours: dict[int, list[float]] = {}
    for _, _, row in last.values():
        severity = int(row["priority"].split(" ", 1)[0])
        entry = out.setdefault(severity, {"incidents": 0, "resolved": 0, "median_hours_to_resolve": None})
        entry["incidents"] += 1
        resolved = _when(row["resolved_at"])
        if resolved is not None:
            entry["resolved"] += 1
            hours.setdefault(severity, []).append((resolved - _when(row["opened_at"])).total_seconds() / 3600)
    for severity, values in hours.items():
        out[severity]["median_hours_to_resolve"] = statistics.median(values)
    return dict(sorted(out.items()))


if __name__ == "__main__":
    json.dump(figures(sys.argv[1]), sys.stdout, indent=2)
    print()
