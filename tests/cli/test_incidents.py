"""`eim new`, `eim list`, `eim show`: what scripts read."""

from __future__ import annotations

from datetime import datetime, timedelta


def _time(text: str) -> datetime:
    assert text.endswith("Z"), text
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


def test_new_prints_the_key_and_list_json_shows_it(eim_on) -> None:
    result = eim_on("new", "--title", "Payments API returns 502", "--impact", "1", "--urgency", "2",
                    "--service", "payments")
    assert result.out == "INC-000001\n" and result.err == ""
    assert eim_on.new("Checkout slow") == "INC-000002"

    listing = eim_on("list", "--json").json
    assert isinstance(listing, list) and [r["key"] for r in listing] == ["INC-000001", "INC-000002"]
    first = listing[0]
    assert set(first) >= {"key", "severity", "state", "title", "service", "group", "assignee", "sla"}
    assert (first["severity"], first["state"], first["title"], first["service"], first["group"], first["assignee"]) == (
        2, "new", "Payments API returns 502", "payments", "", "")
    sla = first["sla"]
    assert set(sla) == {"clock", "state", "due_at", "seconds_left"}
    assert (sla["clock"], sla["state"]) == ("response", "ok")
    assert 1700 < sla["seconds_left"] <= 1800  # Sev2: 30 minutes to respond
    assert isinstance(sla["seconds_left"], int)
    _time(sla["due_at"])


def test_show_json_holds_every_field_sla_notes_and_timeline(eim) -> None:
    eim.new("Disk full on db01", "--description", "/var at 100%", "--ci", "db01.pay.internal",
            "--category", "hardware", "--group", "dba", "--reporter", "Grace", "--contact", "x1234")
    eim("note", "INC-000001", "--kind", "observation", "--text", "WAL files piling up")
    shown = eim("show", "INC-000001", "--json").json
    fields = {
        "key", "severity", "title", "description", "impact", "urgency", "priority", "state", "source",
        "reported_at", "detected_at", "acknowledged_at", "resolved_at", "closed_at", "reporter_name",
        "reporter_contact", "service", "configuration_item", "category", "subcategory", "assignment_group",
        "assignee", "major", "confidential", "hold_reason", "response_due_at", "resolution_due_at",
        "resolution_code", "resolution_notes", "post_incident_review", "version", "parent",
        "sla", "diagnosis_notes", "timeline",
    }
    assert fields <= set(shown), fields - set(shown)
    assert (shown["key"], shown["title"], shown["description"], shown["category"], shown["assignment_group"]) == (
        "INC-000001", "Disk full on db01", "/var at 100%", "hardware", "dba")
    assert (shown["reporter_name"], shown["reporter_contact"], shown["configuration_item"]) == (
        "Grace", "x1234", "db01.pay.internal")
    assert set(shown["sla"]) == {"response", "resolution"}
    response = shown["sla"]["response"]
    assert response["state"] == "ok" and response["target_seconds"] == 1800 and response["stopped_at"] is None
    assert shown["sla"]["resolution"]["target_seconds"] == 8 * 3600
    assert _time(shown["resolution_due_at"]) - _time(shown["reported_at"]) == timedelta(hours=8)
    [note] = shown["diagnosis_notes"]
    assert (note["position"], note["kind"], note["text"], note["author"]) == (1, "observation", "WAL files piling up", "alice")
    assert [(e["seq"], e["actor"], e["kind"]) for e in shown["timeline"]] == [
        (1, "alice", "created"), (2, "alice", "note_added")]
    assert all(len(e["hash"]) == 64 for e in shown["timeline"])


def test_show_in_text(eim) -> None:
    eim.new()
    text = eim("show", "1").out
    assert text.startswith("INC-000001  Sev2  new") and "Payments API returns 502" in text
    assert "logged INC-000001" in text


def test_list_filters_views_and_text(eim) -> None:
    eim.new("Payments API returns 502")
    eim("new", "--title", "Printer jammed", "--impact", "3", "--urgency", "3", "--service", "printing")
    eim("ack", "INC-000002")
    assert [r["key"] for r in eim("list", "--json", "--filter", "sev<=2").json] == ["INC-000001"]
    assert [r["key"] for r in eim("list", "--json", "--filter", "service:printing").json] == ["INC-000002"]
    assert [r["key"] for r in eim("list", "--json", "--view", "mine").json] == ["INC-000002"]
    assert [r["key"] for r in eim("list", "--json", "--view", "unassigned").json] == ["INC-000001"]
    assert [r["key"] for r in eim("list", "--json", "--limit", "1").json] == ["INC-000001"]
    assert eim("list", "--json", "--filter", "nothing-like-this").json == []
    lines = eim("list").out.splitlines()
    assert len(lines) == 2 and lines[0].startswith("INC-000001  S2  new") and "Printer jammed" in lines[1]
