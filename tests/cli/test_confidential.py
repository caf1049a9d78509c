"""Confidential incidents from the command line: `eim list`, `eim show` and `eim export`.

A security incident's title and details are for the security group (rania is in security-ops);
everyone else gets a placeholder (key, severity, category) or, for one incident, a one-line refusal.
"""

from __future__ import annotations

import csv
import io
import json

import pytest

SECRET_TITLE = "Phishing [urgent] to finance"
SECRET_WORDS = ("Phishing", "evil.example", "finance", "rania")


@pytest.fixture
def store(eim):
    eim.new("Disk full on db01")
    eim("new", "--title", SECRET_TITLE, "--impact", "2", "--urgency", "1", "--category", "security",
        "--service", "email", "--group", "security-ops", "--assignee", "rania", "--description",
        "mail from evil.example asks for invoices")
    return eim


def _leaks(text: str) -> list[str]:
    return [w for w in SECRET_WORDS if w in text]


def test_list_shows_a_placeholder_outside_the_security_group(store) -> None:
    lines = store("list").out.splitlines()
    assert len(lines) == 2 and not _leaks("\n".join(lines))
    secret = next(line for line in lines if line.startswith("INC-000002"))
    assert secret.startswith("INC-000002  S2  new") and secret.endswith("confidential")
    member = store("--user", "rania", "list").out
    assert SECRET_TITLE in member


def test_list_json_shows_the_placeholder_with_severity_and_category(store) -> None:
    rows = {r["key"]: r for r in store("list", "--json").json}
    placeholder = rows["INC-000002"]
    assert (placeholder["title"], placeholder["service"], placeholder["group"], placeholder["assignee"]) == (
        "confidential", "", "", "")
    assert (placeholder["severity"], placeholder["category"], placeholder["confidential"]) == (2, "security", True)
    assert not _leaks(json.dumps(rows))
    assert rows["INC-000001"]["title"] == "Disk full on db01" and rows["INC-000001"]["confidential"] is False
    member = {r["key"]: r for r in store("--user", "rania", "list", "--json").json}
    assert (member["INC-000002"]["title"], member["INC-000002"]["assignee"]) == (SECRET_TITLE, "rania")


def test_a_filter_word_from_the_title_finds_nothing_outside_the_group(store) -> None:
    assert store("list", "--filter", "phishing").out == ""
    assert store("list", "--filter", "assignee:rania").out == ""
    assert store("list", "--filter", "inc-000002").out.startswith("INC-000002")
    assert store("--user", "rania", "list", "--filter", "phishing").out.startswith("INC-000002")


@pytest.mark.parametrize("args", [["show", "INC-000002"], ["show", "INC-000002", "--json"],
                                  ["export", "INC-000002"], ["export", "INC-000002", "--format", "json"]])
def test_one_confidential_incident_is_refused_in_one_line(store, args: list[str]) -> None:
    for user in ("alice", "admin"):
        refused = store("--user", user, *args, ok=False)
        assert (refused.status, refused.out) == (2, "")
        assert refused.err == "eim: INC-000002 is confidential: only the security group sees its details\n"


def test_the_security_group_reads_and_exports_it(store) -> None:
    shown = store("--user", "rania", "show", "INC-000002", "--json").json
    assert (shown["title"], shown["description"]) == (SECRET_TITLE, "mail from evil.example asks for invoices")
    assert SECRET_TITLE in store("--user", "rania", "export", "INC-000002").out


def test_exporting_everything_redacts_confidential_incidents(store) -> None:
    lines = [json.loads(line) for line in store("export").out.splitlines()]
    by_key = {r["key"]: r for r in lines}
    assert set(by_key) == {"INC-000001", "INC-000002"}
    placeholder = by_key["INC-000002"]
    assert (placeholder["title"], placeholder["severity"], placeholder["category"], placeholder["confidential"]) == (
        "confidential", 2, "security", True)
    assert not _leaks(json.dumps(lines))
    rows = list(csv.DictReader(io.StringIO(store("export", "--format", "csv").out)))
    assert [r["title"] for r in rows] == ["Disk full on db01", "confidential"] and not _leaks(str(rows))
    member = store("--user", "rania", "export", "--format", "csv").out
    assert SECRET_TITLE in member and "evil.example" in member
