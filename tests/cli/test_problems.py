"""`eim problem …` on both backends: the life of a problem, linking, the JSON shapes, bad input (one
line on stderr, exit 2), `eim show --json`'s known error and `eim audit verify`'s problem line."""

from __future__ import annotations

import pytest

LEAD = {"EIM_USER": "chen"}


def _incident(eim, title: str = "checkout slow p99 above 2s") -> str:
    return eim("new", "--title", title, "--impact", "2", "--urgency", "2", "--service", "checkout-web",
               "--category", "software", "--json").json["key"]


def test_a_problem_becomes_a_known_error_and_comes_back_on_show(eim_on) -> None:
    made = eim_on("problem", "new", "--title", "Checkout slow, p99 above 2s", "--service", "checkout-web",
                  "--category", "software", "--group", "app-support", "--json", env=LEAD).json
    assert (made["key"], made["state"], made["owner_group"], made["version"]) == ("PRB-000001", "open", "app-support", 1)
    key = _incident(eim_on)
    assert eim_on("show", key, "--json").json["known_error"] is None
    assert eim_on("problem", "known-error", "PRB-1", "--workaround", "scale checkout to 6 pods", env=LEAD).out == \
        "PRB-000001 known_error v2\n"
    shown = eim_on("show", key, "--json").json
    assert {k: shown["known_error"][k] for k in ("key", "title", "workaround")} == {
        "key": "PRB-000001", "title": "Checkout slow, p99 above 2s", "workaround": "scale checkout to 6 pods"}
    assert eim_on("problem", "link", key, "PRB-000001").out == f"{key} linked to PRB-000001 v2\n"  # alice: a responder
    assert eim_on("show", key, "--json").json["problem_ref"] == "PRB-000001"
    full = eim_on("problem", "show", "prb-1", "--json").json
    assert full["linked_incidents"] == [{"key": key, "title": "checkout slow p99 above 2s", "state": "new", "severity": 3}]  # 2×2 → Sev3
    assert [e["kind"] for e in full["timeline"]] == ["created", "state_changed", "incident_linked"]
    text = eim_on("problem", "show", "PRB-000001").out
    assert "workaround   scale checkout to 6 pods" in text and f"  {key}  Sev3  new" in text
    assert eim_on("problem", "list", "--json").json[0]["incidents"] == 1
    assert "PRB-000001  known_error     1 inc  Checkout slow" in eim_on("problem", "list").out
    eim_on("problem", "resolve", "PRB-1", "--root-cause", "thread pool too small", env=LEAD)
    assert eim_on("problem", "close", "PRB-1", "--json", env=LEAD).json["state"] == "closed"
    assert eim_on("show", key, "--json").json["known_error"] is None  # closed: no longer a known error
    verified = eim_on("audit", "verify").out.splitlines()
    assert verified[-1] == "problem timeline intact: 5 events, every link verified"


@pytest.mark.parametrize(("args", "message"), [
    (["problem", "show", "PRB-x"], "eim: 'PRB-x' is not a problem key; use the form PRB-000123\n"),
    (["problem", "show", "PRB-000009"], "eim: no problem PRB-000009; see eim problem list\n"),
    (["problem", "link", "INC-1", "nope"], "eim: 'nope' is not a problem key; use the form PRB-000123\n"),
    (["problem", "link", "INC-x", "PRB-1"], "eim: 'INC-x' is not an incident key; use the form INC-000123\n"),
    (["problem", "new", "--title", "  "], "eim: a problem needs a title: say in a line what keeps going wrong\n"),
    (["problem", "new", "--title", "x", "--category", "weather"], None),
    (["problem", "known-error", "PRB-1", "--workaround", " "], None),
    (["problem", "close", "PRB-1"], "eim: cannot close PRB-000001: it is open; allowed: known-error, resolve\n"),
    (["problem", "resolve", "PRB-1"], "eim: say what the root cause of PRB-000001 was (--root-cause)\n"),
    (["problem", "list", "--state", "fixed"], None),
])
def test_bad_input_is_one_line_and_exit_2(eim_on, args: list[str], message: str | None) -> None:
    eim_on("problem", "new", "--title", "first", env=LEAD)
    refused = eim_on(*args, ok=False, env=LEAD)
    assert refused.status == 2 and refused.err.count("\n") == 1 and "Traceback" not in refused.err
    if message is not None:
        assert refused.err == message
    assert eim_on("problem", "list", "--json").json[0]["version"] == 1  # nothing written


def test_a_responder_may_not_make_a_problem(eim_on) -> None:
    refused = eim_on("problem", "new", "--title", "x", ok=False)
    assert refused.status == 2
    assert refused.err == "eim: managing problem records needs the shift lead or admin role; alice is a responder\n"
