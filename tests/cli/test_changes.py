"""`eim change …` and `eim link --caused-by` on both backends: good input, bad input (one line on
stderr, exit 2), the JSON shapes, the failure report, and `eim show --json`'s change fields."""

from __future__ import annotations

import pytest


def _new(eim, *extra: str, title: str = "Upgrade payments DB", service: str = "payments"):
    return eim("change", "new", "--title", title, "--start", "2026-12-05T22:00Z", "--end", "2026-12-05T23:30Z",
               "--risk", "high", "--service", service, *extra)


def test_a_change_from_new_to_completed(eim_on) -> None:
    made = _new(eim_on, "--ci", "db01.pay.internal", "--owner", "bob", "--description", "14.9 → 14.10", "--json").json
    assert made["key"] == "CHG-000001" and made["state"] == "planned" and made["risk"] == "high"
    assert made["window"] == {"start": "2026-12-05T22:00:00Z", "end": "2026-12-05T23:30:00Z"}
    assert (made["services"], made["cis"], made["owner"]) == (["payments"], ["db01.pay.internal"], "bob")
    assert eim_on("change", "start", "CHG-1").out == "CHG-000001 in_progress v2\n"
    assert eim_on("change", "complete", "chg-000001", "--note", "no errors").out == "CHG-000001 completed v3\n"
    shown = eim_on("change", "show", "CHG-000001", "--json").json
    assert shown["state"] == "completed" and shown["outcome"] == "no errors"
    assert [e["summary"] for e in shown["timeline"]] == [
        "planned CHG-000001: Upgrade payments DB (high risk)", "state planned → in progress",
        "state in progress → completed — no errors"]
    text = eim_on("change", "show", "CHG-000001").out
    assert "window     2026-12-05T22:00:00Z → 2026-12-05T23:30:00Z" in text and "outcome    no errors" in text
    listed = eim_on("change", "list", "--json").json
    assert [c["key"] for c in listed] == ["CHG-000001"]
    assert eim_on("change", "list", "--state", "planned", "--json").json == []
    assert "CHG-000001  completed" in eim_on("change", "list").out
    assert eim_on("change", "verify").out.startswith("change timeline intact: 3 events")


def test_fail_and_cancel_need_a_reason_and_a_state_that_allows_them(eim_on) -> None:
    _new(eim_on)
    _new(eim_on, title="Rotate certificates")
    assert eim_on("change", "cancel", "CHG-2", "--reason", "vendor postponed").out == "CHG-000002 cancelled v2\n"
    refused = eim_on("change", "start", "CHG-2", ok=False)
    assert refused.status == 2 and refused.err == "eim: cannot start CHG-000002: it is cancelled; allowed: nothing (the change is over)\n"
    eim_on("change", "start", "CHG-1")
    refused = eim_on("change", "cancel", "CHG-1", "--reason", "x", ok=False)
    assert refused.err == "eim: cannot cancel CHG-000001: it is in progress; allowed: complete, fail\n"
    assert eim_on("change", "fail", "CHG-1", ok=False).err.startswith("eim: the following arguments are required: --reason")
    assert eim_on("change", "fail", "CHG-1", "--reason", "rolled back", "--json").json["state"] == "failed"


@pytest.mark.parametrize(("args", "message"), [
    (["--start", "2026-12-05T23:00Z", "--end", "2026-12-05T22:00Z"],
     ("eim: the window ends (2026-12-05T22:00:00+00:00) before it starts (2026-12-05T23:00:00+00:00); "
      "give an end after the start\n")),
    (["--start", "tonight", "--end", "2026-12-05T22:00Z"],
     "eim: --start 'tonight' is not a time; write 2026-12-05T22:00Z, now, in 2h or 30m ago\n"),
    (["--start", "2026-02-30T10:00Z", "--end", "2026-12-05T22:00Z"], "eim: --start '2026-02-30T10:00Z' is not a time"),
])
def test_a_window_that_cannot_be_is_refused(eim_on, args, message) -> None:
    done = eim_on("change", "new", "--title", "Patch", "--risk", "low", "--service", "payments", *args, ok=False)
    assert done.status == 2 and done.err.startswith(message) and done.out == ""
    assert eim_on("change", "list", "--json").json == []


@pytest.mark.parametrize(("args", "message"), [
    (["--service", "paymnts"], "eim: unknown service 'paymnts'; did you mean 'payments'? see eim services list\n"),
    (["--ci", "db99.nowhere"], "eim: unknown configuration item 'db99.nowhere'; see eim cis list\n"),
    ([], "eim: say what the change affects: --service NAME and/or --ci NAME\n"),
    (["--service", "payments", "--title", " "], "eim: a change needs a title: say in a line what will be done\n"),
])
def test_bad_targets_and_titles_are_refused(eim, args, message) -> None:
    base = ["change", "new", "--title", "Patch", "--risk", "low", "--start", "now", "--end", "in 2h"]
    done = eim(*base, *args, ok=False)
    assert (done.status, done.err) == (2, message)


def test_unknown_keys_are_one_line(eim) -> None:
    assert eim("change", "show", "INC-000001", ok=False).err == (
        "eim: 'INC-000001' is not a change key; use the form CHG-000123\n")
    assert eim("change", "start", "CHG-000042", ok=False).err == "eim: no change CHG-000042; see eim change list\n"


def test_caused_by_and_the_failure_report(eim_on) -> None:
    _new(eim_on)
    _new(eim_on, title="Checkout release", service="checkout-web")
    for key in ("CHG-1", "CHG-2"):
        eim_on("change", "start", key)
        eim_on("change", "complete", key)
    incident = eim_on.new("Payments API returns 502")
    assert eim_on("link", incident, "--caused-by", "CHG-000001").out == f"{incident} new v2\n"
    again = eim_on("link", incident, "--caused-by", "CHG-1", ok=False)
    assert again.err == f"eim: {incident} is already linked as caused by CHG-000001\n"
    mixed = eim_on("link", incident, "--caused-by", "CHG-1", "--problem", "PRB-1", ok=False)
    assert mixed.status == 2 and "--caused-by links a change record on its own" in mixed.err
    assert eim_on("link", incident, "--caused-by", "CHG-9", ok=False).err == "eim: no change CHG-000009; see eim change list\n"
    shown = eim_on("show", incident, "--json").json
    assert shown["change_ref"] == "CHG-000001"
    assert [(c["key"], c["relation"]) for c in shown["changes"]] == [("CHG-000001", "caused_by")]
    assert shown["links"] == {}
    report = {r["service"]: r for r in eim_on("change", "report", "--json").json["services"]}
    assert report["payments"]["change_failure_rate"] == 1.0 and report["payments"]["changes_with_incidents"] == ["CHG-000001"]
    assert (report["checkout-web"]["completed"], report["checkout-web"]["change_failure_rate"]) == (1, 0.0)
    assert "payments" in eim_on("change", "report").out


def test_recent_changes_in_show_json(eim_on) -> None:
    eim_on("change", "new", "--title", "Restart payments API", "--start", "now", "--end", "in 1h", "--risk", "low",
           "--service", "payments")
    eim_on("change", "start", "CHG-1")
    incident = eim_on.new("Payments API returns 502")
    shown = eim_on("show", incident, "--json").json
    assert [(c["key"], c["state"]) for c in shown["recent_changes"]] == [("CHG-000001", "in_progress")]
    other = eim_on("new", "--title", "Mail delayed", "--impact", "3", "--urgency", "3", "--service", "email").out.strip()
    assert eim_on("show", other, "--json").json["recent_changes"] == []
