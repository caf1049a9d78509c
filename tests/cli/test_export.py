"""`eim export`: one incident as a Markdown post-incident report or JSON, every incident as JSON
lines or CSV; and closing a major incident from a shell with its review (`--review-file`)."""

from __future__ import annotations

import csv
import io
import json

LEAD = {"EIM_USER": "chen"}  # a shift lead: may close a major incident


def _life(eim) -> None:
    """INC-000001: a major incident carried to closure with its review; INC-000002 left new."""
    eim.new("Core switch down | campus offline", "--description", "Building A has no network")
    eim("ack", "INC-000001")
    eim("note", "INC-000001", "--kind", "observation", "--text", "Supervisor card LED red")
    eim("major", "INC-000001")
    eim("resolve", "INC-000001", "--code", "hardware_replaced", "--notes", "Swapped the card",
        "--tested", "ping sweep", "--communication", "status page")
    eim.new("Printer jam on 3rd floor")


REVIEW = {
    "summary": "Card died; campus offline 40 minutes",
    "highlights": "09:02 alert, 09:40 swapped",
    "went_well": "Spare on site",
    "went_badly": "No redundancy",
    "actions": [{"action": "Add a second supervisor card", "owner": "dmitri"}],
}


def test_close_major_with_review_file_then_export_md_and_json(eim, tmp_path) -> None:
    _life(eim)
    refused = eim("close", "INC-000001", "--verified-by", "grace", ok=False, env=LEAD)
    assert refused.status == 2 and "post-incident review" in refused.err and len(refused.err.splitlines()) == 1
    bad = tmp_path / "bad.json"
    bad.write_text("{not json")
    refused = eim("close", "INC-000001", "--review-file", str(bad), ok=False, env=LEAD)
    assert refused.status == 2 and "is not JSON" in refused.err

    done = eim("close", "INC-000001", "--verified-by", "grace", "--rating", "4", "--lessons", "keep spares",
               "--review-file", "-", stdin=json.dumps(REVIEW), env=LEAD)
    assert done.out.startswith("INC-000001 closed")

    exported = eim("export", "INC-000001", "--format", "json").json
    assert exported["post_incident_review"] == REVIEW
    assert (exported["state"], exported["closure_verified_by"], exported["feedback_rating"]) == ("closed", "grace", 4)
    shown = eim("show", "INC-000001", "--json").json
    # The clocks are read at each call's own instant; `show` also adds the change context it reads
    # live (its changes, the recent changes on its service, its alerts' links, the known error it
    # matches now), which the export — the incident's own record, with the caused-by link in
    # change_ref and the timeline — leaves out.
    drop = ("sla", "changes", "recent_changes", "links", "known_error")
    assert {k: v for k, v in exported.items() if k not in drop} == {k: v for k, v in shown.items() if k not in drop}
    assert [e["summary"] for e in exported["timeline"]][:2] == [
        "logged INC-000001: Sev2 (impact 1 × urgency 2)", "state new → in progress"]

    report = eim("export", "INC-000001", "--format", "md").out
    assert report.startswith("# Post-incident report: INC-000001 — Core switch down | campus offline\n")
    for expected in ("**MAJOR**", "## Summary\n\nBuilding A has no network", "| resolution code | hardware_replaced |",
                     "| verified by | grace |", "| lessons learned | keep spares |",
                     "### What went well\n\nSpare on site", "| Add a second supervisor card | dmitri |",
                     "**observation**: Supervisor card LED red — alice", "| state resolved → closed |"):
        assert expected in report, expected
    assert report.count("| alice | state new → in progress |") == 1

    out = tmp_path / "inc1.md"
    written = eim("export", "INC-000001", "--output", str(out))  # md is the default for one incident
    assert written.out == "" and str(out) in written.err
    # Same report, but for the line saying when it was generated.
    assert out.read_text(encoding="utf-8").splitlines()[:-1] == report.splitlines()[:-1]


def test_export_every_incident_as_json_lines_and_csv(eim, tmp_path) -> None:
    _life(eim)
    lines = eim("export").out.splitlines()
    records = [json.loads(line) for line in lines]
    assert [r["key"] for r in records] == ["INC-000001", "INC-000002"]
    assert (records[0]["state"], records[1]["state"]) == ("resolved", "new")

    target = tmp_path / "all.csv"
    eim("export", "--format", "csv", "--output", str(target))
    rows = list(csv.DictReader(io.StringIO(target.read_text(encoding="utf-8"))))
    assert [r["key"] for r in rows] == ["INC-000001", "INC-000002"]
    assert rows[0]["title"] == "Core switch down | campus offline" and rows[0]["major"] == "True"


def test_export_refuses_bad_input_in_one_line(eim) -> None:
    _life(eim)
    for args, words in ((["INC-000001", "--format", "csv"], "md or json"), (["--format", "md"], "give a KEY"),
                        (["INC-12x"], "not an incident key"), (["INC-000099"], "INC-000099"),
                        (["INC-000001", "--output", "/nonexistent/dir/x.md"], "does not exist")):
        result = eim("export", *args, ok=False)
        assert result.status == 2 and words in result.err and len(result.err.strip().splitlines()) == 1, result
