"""`eim role`, `eim task`, `eim actions`, `eim subscribe` and `eim update` on both backends: what
they print, what `eim show --json` and the Markdown review then say, and bad input — one line,
status 2, nothing written."""

from __future__ import annotations


def _timeline(eim, key: str) -> list[str]:
    return [e["kind"] for e in eim("show", key, "--json").json["timeline"]]


def test_roles_tasks_updates_end_to_end(eim_on, tmp_path) -> None:
    key = eim_on.new("Core switch down")
    out = eim_on("role", key, "--commander", "bob", "--scribe", "nadia", "--expert", "dmitri", "--expert", "esther").out
    assert out.strip() == f"{key} commander bob · scribe nadia · comms — · experts dmitri, esther"
    assert eim_on("role", key, "--clear", "scribe", "--comms", "chen", "--json").json == {
        "incident": key, "commander": "bob", "scribe": "", "comms": "chen", "experts": ["dmitri", "esther"]}

    assert eim_on("task", "add", key, "--what", "fail over to db02", "--who", "bob", "--due", "2h").out.strip() \
        == f"{key} #1 added"
    action = eim_on("task", "add", key, "--what", "add a disk alert", "--who", "chen", "--due", "2026-12-20T10:00",
                    "--action", "--json").json
    assert (action["number"], action["kind"], action["who"], action["status"]) == (2, "action", "chen", "open")
    assert eim_on("task", "done", key, "1").out.strip() == f"{key} #1 done"
    listed = eim_on("task", "list", key, "--json").json
    assert [(t["number"], t["status"]) for t in listed] == [(1, "done"), (2, "open")]
    assert [a["what"] for a in eim_on("actions", "--open", "--json").json] == ["add a disk alert"]
    assert eim_on("actions", "--mine", "--json").json == []  # alice owns none
    assert eim_on("actions", "--mine", "--json", "--user", "chen").json[0]["incident"] == key

    assert eim_on("subscribe", key, "--user", "bob").out.strip() == f"{key} subscribers: bob"
    out = eim_on("subscribe", key, "--url", "json://127.0.0.1:9/hook?token=s3cret").out
    assert "s3cret" not in out and "token=****" in out
    eim_on("subscribe", key, "--group", "network-ops")
    eim_on("unsubscribe", key, "--group", "network-ops")
    done = eim_on("update", key, "--happening", "core switch replaced", "--impact", "east hall offline",
                  "--next-update", "30m", "--json").json
    assert done["subscribers"] == 2 and done["next_update_at"]
    assert done["text"].startswith("What is happening: core switch replaced\nImpact: east hall offline")

    shown = eim_on("show", key, "--json").json
    assert shown["roles"]["commander"] == "bob" and len(shown["tasks"]) == 2
    assert shown["last_update"]["by"] == "alice"
    assert "s3cret" not in eim_on("show", key, "--json").out
    kinds = _timeline(eim_on, key)
    for kind in ("roles_changed", "task_added", "task_done", "subscribers_changed", "stakeholder_update"):
        assert kind in kinds

    report = tmp_path / "pir.md"
    eim_on("export", key, "--format", "md", "-o", str(report))
    text = report.read_text()
    assert "## Roles" in text and "| commander | bob |" in text
    assert "## Post-incident actions" in text and "add a disk alert" in text and "chen" in text


def test_bad_input_is_one_line_and_writes_nothing(eim_on) -> None:
    key = eim_on.new()
    before = _timeline(eim_on, key)
    cases = [
        (["role", key, "--commander", "zed"], "unknown user 'zed'"),
        (["role", key, "--clear", "chief"], "unknown role 'chief'"),
        (["task", "add", key, "--what", "too late", "--due", "2020-01-01T10:00"], "is in the past"),
        (["task", "add", key, "--what", "x", "--due", "someday"], "cannot read 'someday' as a due time"),
        (["task", "add", key, "--what", "no owner", "--action"], "needs an owner"),
        (["task", "done", key, "7"], "has no task #7"),
        (["subscribe", key, "--url", "nope://x"], "not a notification URL"),
        (["subscribe", key, "--user", "zed"], "no user 'zed'"),
        (["update", key], "say what to tell"),
        (["update", key, "--text", "x", "--next-update", "2020-01-01T00:00"], "is in the past"),
    ]
    for argv, words in cases:
        result = eim_on(*argv, ok=False)
        assert result.status == 2, str(result)
        assert result.err.startswith("eim: ") and result.err.count("\n") == 1 and words in result.err, str(result)
    assert _timeline(eim_on, key) == before
    assert eim_on("task", "list", key, "--json").json == []
