"""The lifecycle verbs: same rules and timeline as the TUI, the actor from --user / EIM_USER."""

from __future__ import annotations

from eim_tui.store import HEAD_REVISION


def test_every_verb_changes_the_incident_and_writes_the_timeline(eim) -> None:
    key = eim.new()
    assert eim("ack", key).out == "INC-000001 in_progress v2\n"
    assert eim("assign", key, "--group", "platform", "--user", "bob").out == "INC-000001 in_progress v3\n"
    eim("prioritize", key, "--impact", "1", "--urgency", "1")
    eim("hold", key, "--reason", "vendor", "--note", "PSP ticket 4711")
    eim("resume", key)
    assert eim("note", key, "--kind", "hypothesis", "--text", "TLS certificate expired").out == \
        "INC-000001 note #1 hypothesis\n"
    eim("resolve", key, "--code", "fixed", "--notes", "renewed the certificate")
    eim("reopen", key, "--reason", "502s are back")
    eim("resolve", key, "--code", "fixed", "--notes", "renewed the intermediate too")
    assert eim("--user", "bob", "close", key, "--rating", "5").out.startswith("INC-000001 closed v")

    second = eim.new("Checkout slow")
    eim("link", second, "--parent", key, "--problem", "PRB-12", "--change", "CHG-7")
    eim("major", second)
    eim("major", second, "--off")
    eim("--user", "lead", "cancel", second, "--reason", "duplicate of INC-000001")

    shown = eim("show", key, "--json").json
    assert (shown["state"], shown["assignment_group"], shown["assignee"], shown["priority"]) == (
        "closed", "platform", "bob", 1)
    assert (shown["resolution_code"], shown["resolution_notes"], shown["feedback_rating"]) == (
        "fixed", "renewed the intermediate too", 5)
    assert shown["sla_paused_seconds"] >= 0 and shown["hold_reason"] is None
    assert [(n["kind"], n["status"]) for n in shown["diagnosis_notes"]] == [("hypothesis", "open")]
    events = [(e["actor"], e["kind"], e["summary"]) for e in shown["timeline"]]
    summaries = [s for _, _, s in events]
    assert events[0][:2] == ("alice", "created")
    assert "state new → in progress" in summaries
    assert "assigned —/alice → platform/bob" in summaries
    assert "severity 2 → 1" in summaries
    assert "state in progress → on hold (awaiting vendor: PSP ticket 4711)" in summaries
    assert "state on hold → in progress" in summaries
    assert "hypothesis #1: TLS certificate expired" in summaries
    assert "state resolved → in progress — 502s are back" in summaries
    assert events[-1] == ("bob", "state_changed", "state resolved → closed")
    assert {actor for actor, _, _ in events[:-1]} == {"alice"}

    other = eim("show", second, "--json").json
    assert (other["state"], other["parent"], other["problem_ref"], other["change_ref"], other["major"]) == (
        "cancelled", "INC-000001", "PRB-12", "CHG-7", False)
    events = [(e["actor"], e["kind"], e["summary"]) for e in other["timeline"]]
    summaries = [s for _, _, s in events]
    assert "duplicate of — → INC-000001" in summaries and "major no → yes" in summaries
    assert "major yes → no" in summaries
    assert events[-1] == ("lead", "state_changed", "state new → cancelled (duplicate of INC-000001)")
    assert eim("audit", "verify").status == 0


def test_expect_version_refuses_a_stale_change(eim) -> None:
    key = eim.new()
    eim("ack", key, "--expect-version", "1")
    stale = eim("major", key, "--expect-version", "1", ok=False)
    assert stale.status == 2
    assert stale.err.startswith("eim: INC-000001 was changed by alice") and stale.err.count("\n") == 1
    assert eim("show", key, "--json").json["major"] is False


def test_the_actor_comes_from_user_or_eim_user(eim) -> None:
    eim.new("first")  # EIM_USER=alice
    eim("--user", "grace", "new", "--title", "second", "--impact", "2", "--urgency", "2")
    eim("ack", "1", env={"EIM_USER": "hiro"})
    eim("ack", "2", "--user", "kofi")  # --user after the verb works too
    first, second = eim("show", "1", "--json").json, eim("show", "2", "--json").json
    assert first["created_by"] == "alice" and first["reporter_name"] == "alice"
    assert second["created_by"] == "grace"
    assert [e["actor"] for e in first["timeline"]] == ["alice", "hiro", "hiro"]
    assert [e["actor"] for e in second["timeline"]] == ["grace", "kofi", "kofi"]
    assert first["assignee"] == "hiro" and second["assignee"] == "kofi"


def test_the_lifecycle_on_each_backend(eim_on) -> None:
    assert eim_on("db", "upgrade").out == f"schema at revision {HEAD_REVISION}\n"
    key = eim_on.new()
    eim_on("ack", key)
    eim_on("hold", key, "--reason", "user")
    listing = eim_on("list", "--json").json
    assert [(r["key"], r["state"], r["sla"]["state"]) for r in listing] == [("INC-000001", "on_hold", "paused")]
    assert eim_on("audit", "verify").out.startswith("timeline intact: 4 events")
