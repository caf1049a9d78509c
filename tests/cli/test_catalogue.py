"""The catalogue on the command line (issue 10): services, CIs, groups, categories, SLA targets and
routing rules managed from eim, `eim catalog export|apply`, `eim cis import`; good input changes
the store, bad input is one line (`eim: …`, exit 2) and changes nothing."""

from __future__ import annotations

import json
from pathlib import Path

import pytest


def admin(eim, *args: str, **kw):
    return eim("--user", "admin", *args, **kw)


def test_a_new_service_and_ci_are_offered_then_retired_keeping_history(eim) -> None:
    admin(eim, "services", "add", "payroll", "--owner-group", "app-support", "--description", "Monthly payroll")
    admin(eim, "cis", "add", "payroll-db-01", "--service", "payroll", "--kind", "database", "--attr", "os=debian")
    key = eim.new("Payroll export stalled", "--service", "payroll", "--ci", "payroll-db-01")
    shown = eim("services", "show", "payroll", "--json").json
    assert shown["cis"] == ["payroll-db-01"] and [i["key"] for i in shown["open_incidents"]] == [key]
    assert eim("cis", "show", "payroll-db-01", "--json").json["attributes"] == {"os": "debian"}

    out = admin(eim, "services", "retire", "payroll").out
    assert "retired  service payroll" in out and "retired  CI payroll-db-01" in out
    refused = eim("new", "--title", "again", "--impact", "2", "--urgency", "1", "--service", "payroll", ok=False)
    assert refused.status == 2 and refused.err.startswith("eim: service 'payroll' is retired")
    assert eim("show", key, "--json").json["service"] == "payroll"  # the old incident still shows it
    assert "payroll" not in [s["name"] for s in eim("services", "list", "--json").json]
    assert [s["retired"] for s in eim("services", "list", "--all", "--json").json if s["name"] == "payroll"] == [True]
    assert [h["kind"] for h in eim("services", "show", "payroll", "--json").json["history"]] == ["added", "retired"]
    assert "catalogue history intact" in eim("audit", "verify").out


def test_an_unknown_service_names_the_closest_and_how_to_add_one(eim) -> None:
    refused = eim("new", "--title", "x", "--impact", "2", "--urgency", "1", "--service", "hr-portl", ok=False)
    assert refused.status == 2
    assert refused.err.startswith("eim: unknown service 'hr-portl'; did you mean 'hr-portal'")
    assert "add one with eim services add" in refused.err and refused.err.count("\n") == 1


@pytest.mark.parametrize(("args", "message"), [
    (("services", "add", "foo"), "changing the catalogue is for admins; alice is a responder"),
    (("--user", "admin", "services", "add", "payments"), "service 'payments' exists already"),
    (("--user", "admin", "services", "add", "x", "--owner-group", "nobody"), "unknown owner group 'nobody'"),
    (("--user", "admin", "services", "set", "nope", "--description", "d"), "unknown service 'nope'"),
    (("--user", "admin", "cis", "add", "c1"), "a CI needs its service"),
    (("--user", "admin", "cis", "add", "c1", "--service", "payments", "--attributes", "{nope"), "is not JSON"),
    (("--user", "admin", "sla", "set", "--severity", "2", "--response", "0m"), "an SLA target must be longer than zero"),
    (("--user", "admin", "sla", "set", "--severity", "2", "--service", "nope", "--response", "5m"), "unknown service 'nope'"),
    (("--user", "admin", "groups", "set", "dba", "--add-member", "ghost"), "unknown user 'ghost'"),
    (("--user", "admin", "routing", "add", "r", "--keyword", "k", "--category", "network", "--subcategory", "nope",
      "--group", "network-ops"), "unknown subcategory 'nope' of network"),
    (("--user", "admin", "categories", "set", "network", "--remove-sub", "nope"), "network has no subcategory 'nope'"),
])
def test_bad_input_is_one_line_and_changes_nothing(eim, args, message) -> None:
    before = eim("catalog", "export").out
    result = eim(*args, ok=False)
    assert result.status == 2, str(result)
    assert result.err.startswith("eim: ") and result.err.count("\n") == 1 and message in result.err, result.err
    assert eim("catalog", "export").out == before


def test_groups_categories_sla_and_routing(eim) -> None:
    admin(eim, "groups", "add", "payroll-team", "--description", "Payroll", "--shift-lead", "alice", "--member", "bob")
    admin(eim, "groups", "set", "payroll-team", "--add-member", "alice")
    group = eim("groups", "show", "payroll-team", "--json").json
    assert (group["shift_lead"], group["members"]) == ("alice", ["alice", "bob"])
    assert "payroll-team" in {u["name"]: u for u in eim("users", "list", "--json").json}["alice"]["groups"]

    admin(eim, "categories", "add", "hr", "--sub", "payroll", "--sub", "leave", "--confidential")
    hr = {c["name"]: c for c in eim("categories", "list", "--json").json}["hr"]
    assert hr == {"name": "hr", "confidential": True, "subcategories": ["leave", "payroll"]}

    admin(eim, "sla", "set", "--service", "payments", "--severity", "2", "--response", "15m")
    targets = eim("sla", "list", "--service", "payments", "--json").json
    assert {"severity": 2, "service": "payments", "response": 900, "resolution": 8 * 3600} in targets
    admin(eim, "sla", "set", "--service", "payments", "--severity", "2", "--clear")
    assert all(t["service"] == "" for t in eim("sla", "list", "--service", "payments", "--json").json)

    admin(eim, "routing", "add", "payroll-words", "--keyword", "payroll", "--category", "hr", "--subcategory",
          "payroll", "--group", "payroll-team", "--position", "1")
    rules = eim("routing", "list", "--json").json
    assert rules[0]["name"] == "payroll-words" and [r["position"] for r in rules] == list(range(1, len(rules) + 1))
    tested = eim("routing", "test", "the payroll export stalled", "--json").json["keyword_rule"]
    assert (tested["name"], tested["why"]) == ("payroll-words", "the text contains 'payroll'")
    alert = eim("routing", "test", "disk", "--label", "alertname=DiskFull", "--json").json
    assert "alert_rule" in alert and alert["alert_rule"]["name"]
    admin(eim, "routing", "remove", "payroll-words")
    assert "payroll-words" not in [r["name"] for r in eim("routing", "list", "--json").json]


def test_catalog_export_apply_is_idempotent_and_refuses_with_the_line(eim, tmp_path: Path) -> None:
    exported = eim("catalog", "export").out
    path = tmp_path / "catalog.toml"
    path.write_text(exported, encoding="utf-8")
    assert admin(eim, "catalog", "apply", str(path)).out.endswith("no changes: the store already holds this catalogue\n")
    path.write_text(exported + '\n[[service]]\nname = "payroll"\nowner_group = "app-support"\n', encoding="utf-8")
    dry = admin(eim, "catalog", "apply", str(path), "--dry-run").out
    assert "added    service payroll" in dry and "dry run: nothing applied" in dry
    assert eim("services", "show", "payroll", ok=False).status == 2
    applied = admin(eim, "catalog", "apply", str(path)).out
    assert "added    service payroll" in applied and applied.endswith("applied: 1 added\n")
    assert admin(eim, "catalog", "apply", str(path)).out.endswith("no changes: the store already holds this catalogue\n")

    lines = path.read_text(encoding="utf-8") + '\n[[ci]]\nname = "x-01"\nservice = "nowhere"\n'
    path.write_text(lines, encoding="utf-8")
    header = len(lines.splitlines()) - 2
    refused = admin(eim, "catalog", "apply", str(path), ok=False)
    assert refused.status == 2 and refused.err.startswith(f"eim: catalog.toml:{header}: ci x-01: unknown service 'nowhere'")
    path.write_text("[[service]\n", encoding="utf-8")
    assert admin(eim, "catalog", "apply", str(path), ok=False).err.startswith("eim: catalog.toml:1: not valid TOML")


def test_cis_import_reports_every_bad_row_and_updates_in_place(eim, tmp_path: Path) -> None:
    mapping = tmp_path / "map.toml"
    mapping.write_text('name = "host"\nservice = "svc"\nkind = "class"\nattributes = ["os"]\n', encoding="utf-8")
    csv_file = tmp_path / "cmdb.csv"
    csv_file.write_text("host,svc,class,os\nweb-9,payments,server,debian\n,payments,server,x\nweb-10,nowhere,server,x\n",
                        encoding="utf-8")
    refused = admin(eim, "cis", "import", str(csv_file), "--map", str(mapping), ok=False)
    assert refused.status == 2 and "2 bad row(s) in cmdb.csv; nothing imported" in refused.err
    assert "cmdb.csv:3: no name" in refused.err and "cmdb.csv:4: CI 'web-10': unknown service 'nowhere'" in refused.err
    assert eim("cis", "show", "web-9", ok=False).status == 2  # nothing half-imported

    csv_file.write_text("host,svc,class,os\nweb-9,payments,server,debian\n", encoding="utf-8")
    assert admin(eim, "cis", "import", str(csv_file), "--map", str(mapping)).out.endswith("1 added\n")
    json_file = tmp_path / "cmdb.json"
    json_file.write_text(json.dumps({"records": [{"host": "web-9", "svc": "payments", "class": "vm", "os": "debian"}]},
                                    indent=2), encoding="utf-8")
    assert admin(eim, "cis", "import", str(json_file), "--map", str(mapping)).out.endswith("1 changed\n")
    ci = eim("cis", "show", "web-9", "--json").json
    assert (ci["kind"], ci["attributes"]) == ("vm", {"os": "debian"})
    json_file.write_text('[\n  {"host": "a", "svc": "payments"},\n  {"host": "", "svc": "payments"}\n]\n', encoding="utf-8")
    refused = admin(eim, "cis", "import", str(json_file), "--map", str(mapping), ok=False)
    assert "cmdb.json:3: no name" in refused.err


def test_db_upgrade_does_not_put_back_a_removed_member(eim) -> None:
    member = eim("groups", "show", "dba", "--json").json["members"][0]
    admin(eim, "groups", "set", "dba", "--remove-member", member)
    eim("db", "upgrade")
    assert member not in eim("groups", "show", "dba", "--json").json["members"]
