"""The catalogue commands' parsers, their diff output, and reading a CMDB export for `eim cis import`.

A CMDB export is CSV (a header row) or JSON (a list of objects, or {"records": [...]}), with a
map file saying which column is which:

    # map.toml
    name = "hostname"            # required
    service = "business_service" # required
    kind = "class"
    owner_group = "support_group"
    attributes = ["os", "location"]   # columns kept as the CI's attributes
"""

from __future__ import annotations

import csv
import json
import tomllib
from pathlib import Path
from typing import Any

from eim_tui.cli.errors import Parser, UsageError
from eim_tui.config import read_regular_text

MAP_KEYS = ("name", "service", "kind", "owner_group", "attributes")
MAX_SHOWN = 20  # bad rows listed before "… and N more"


def add_entity_parsers(sub, common) -> None:
    verbs_of = {}
    for noun, helptext, verbs in (
        ("services", "the services incidents are logged against", "list|show|add|set|retire"),
        ("cis", "configuration items: the things a service runs on", "list|show|add|set|retire|import"),
        ("categories", "the category tree, and which categories are confidential", "list|add|set"),
        ("sla", "SLA targets per severity, and a service's own", "list|set"),
        ("routing", "the rules proposing category and group from an incident's words or service",
         "list|add|remove|test"),
        ("escalation", "the rules for incidents not handled in time (change them with eim catalog apply)",
         "list|show"),
        ("catalog", "the whole catalogue as a TOML file: export, and apply (idempotent, all or nothing)",
         "export|apply"),
    ):
        parser = sub.add_parser(noun, parents=[common], help=helptext)
        verbs_of[noun] = parser.add_subparsers(dest=f"{noun}_command", metavar=verbs, required=True,
                                               parser_class=Parser)

    v = verbs_of["services"]
    lst = v.add_parser("list", parents=[common], help="the services (active ones; --all adds retired)")
    lst.add_argument("--all", action="store_true")
    lst.add_argument("--json", action="store_true")
    show = v.add_parser("show", parents=[common], help="a service: owner, CIs, SLA targets, open incidents, history")
    show.add_argument("name")
    show.add_argument("--json", action="store_true")
    for verb, text in (("add", "add a service (admins)"), ("set", "change a service (admins)")):
        p = v.add_parser(verb, parents=[common], help=text)
        p.add_argument("name")
        p.add_argument("--description")
        p.add_argument("--owner-group", metavar="GROUP")
        if verb == "set":
            p.add_argument("--restore", action="store_true", help="bring a retired service back")
    v.add_parser("retire", parents=[common], help="retire a service and its CIs (admins; history is kept)"
                 ).add_argument("name")

    v = verbs_of["cis"]
    lst = v.add_parser("list", parents=[common], help="configuration items (active ones; --all adds retired)")
    lst.add_argument("--service")
    lst.add_argument("--prefix", default="", help="only names starting with this")
    lst.add_argument("--all", action="store_true")
    lst.add_argument("--json", action="store_true")
    show = v.add_parser("show", parents=[common], help="a CI: service, kind, owner, attributes, open incidents")
    show.add_argument("name")
    show.add_argument("--json", action="store_true")
    for verb, text in (("add", "add a CI (admins)"), ("set", "change a CI (admins)")):
        p = v.add_parser(verb, parents=[common], help=text)
        p.add_argument("name")
        p.add_argument("--service")
        p.add_argument("--kind", help="server, database, load balancer, …")
        p.add_argument("--owner-group", metavar="GROUP")
        p.add_argument("--attributes", metavar="JSON", help="the attributes as a JSON object (set: replaces them)")
        p.add_argument("--attr", action="append", metavar="KEY=VALUE", help="one attribute (repeatable)")
        if verb == "set":
            p.add_argument("--restore", action="store_true", help="bring a retired CI back")
    v.add_parser("retire", parents=[common], help="retire a CI (admins; history is kept)").add_argument("name")
    imp = v.add_parser("import", parents=[common], help="add or update CIs from a CMDB export (CSV or JSON)")
    imp.add_argument("file")
    imp.add_argument("--map", required=True, metavar="MAP.toml", help="which column is name, service, kind, …")

    v = verbs_of["categories"]
    v.add_parser("list", parents=[common], help="the category tree").add_argument("--json", action="store_true")
    add = v.add_parser("add", parents=[common], help="add a category (admins)")
    add.add_argument("name")
    add.add_argument("--sub", action="append", metavar="SUBCATEGORY")
    add.add_argument("--confidential", action="store_true", help="only the security group sees its incidents")
    change = v.add_parser("set", parents=[common], help="change a category (admins)")
    change.add_argument("name")
    change.add_argument("--add-sub", action="append", metavar="SUBCATEGORY")
    change.add_argument("--remove-sub", action="append", metavar="SUBCATEGORY")
    change.add_argument("--confidential", choices=["yes", "no"])

    v = verbs_of["sla"]
    lst = v.add_parser("list", parents=[common], help="SLA targets (with --service, that service's too)")
    lst.add_argument("--service")
    lst.add_argument("--json", action="store_true")
    change = v.add_parser("set", parents=[common], help="set targets for a severity, or a service's own (admins)")
    change.add_argument("--severity", type=_severity, required=True, metavar="1-5")
    change.add_argument("--service", help="this service's own targets (others keep the severity's)")
    change.add_argument("--response", metavar="DURATION", help="like 15m, 4h")
    change.add_argument("--resolution", metavar="DURATION")
    change.add_argument("--clear", action="store_true", help="remove the service's own targets")

    v = verbs_of["routing"]
    v.add_parser("list", parents=[common], help="the rules, in the order they are tried"
                 ).add_argument("--json", action="store_true")
    add = v.add_parser("add", parents=[common], help="add a rule (admins)")
    add.add_argument("name")
    add.add_argument("--keyword", action="append", help="a word or phrase in the title/description (repeatable)")
    add.add_argument("--service", action="append", help="incidents on this service (repeatable)")
    add.add_argument("--category", required=True)
    add.add_argument("--subcategory", required=True)
    add.add_argument("--group", required=True)
    add.add_argument("--reason", default="")
    add.add_argument("--position", type=int, metavar="N", help="1 = tried first (default: last)")
    v.add_parser("remove", parents=[common], help="remove a rule (admins)").add_argument("name")
    test = v.add_parser("test", parents=[common], help="which rule would route this text or alert, and why")
    test.add_argument("text", nargs="*", help="an incident's title / description, or an alert's summary")
    test.add_argument("--service", default="")
    test.add_argument("--label", action="append", metavar="KEY=VALUE",
                      help="an alert label (repeatable): also shows the alert routing rule it meets")
    test.add_argument("--json", action="store_true")

    v = verbs_of["escalation"]
    v.add_parser("list", parents=[common], help="the rules, in order: when, after how long, whom they alert"
                 ).add_argument("--json", action="store_true")
    show = v.add_parser("show", parents=[common], help="one rule, and its history")
    show.add_argument("name")
    show.add_argument("--json", action="store_true")

    v = verbs_of["catalog"]
    v.add_parser("export", parents=[common], help="print the catalogue as TOML")
    apply = v.add_parser("apply", parents=[common], help="make the store's catalogue what FILE says (admins)")
    apply.add_argument("file")
    apply.add_argument("--dry-run", action="store_true", help="show the changes only")


def _severity(text: str) -> int:
    import argparse

    if text.strip() in ("1", "2", "3", "4", "5"):
        return int(text)
    raise argparse.ArgumentTypeError(f"{text!r} must be a severity from 1 to 5")


def show_plan(plan) -> None:
    for change in plan.changes:
        print(change.describe())
    for note in plan.kept:
        print(f"note: {note}")
    print(plan.summary())


# --- CMDB exports ----------------------------------------------------------------------------------


def read_text(path: Path, encoding: str = "utf-8") -> str:
    """A file the user named, as text; what is wrong with it (or its name) is one line."""
    try:
        return read_regular_text(path, encoding)
    except OSError as exc:
        raise UsageError(f"cannot read {path}: {exc.strerror or exc}") from None
    except UnicodeDecodeError:
        raise UsageError(f"{path.name} is not UTF-8 text; save it as UTF-8") from None
    except ValueError:  # a NUL in the name
        raise UsageError(f"{str(path)!r} is not a usable file name") from None


def read_map(path: Path) -> dict[str, Any]:
    try:
        data = tomllib.loads(read_text(path))
    except tomllib.TOMLDecodeError as exc:
        raise UsageError(f"{path.name}: not valid TOML ({exc})") from None
    strange = sorted(set(data) - set(MAP_KEYS))
    if strange:
        raise UsageError(f"{path.name}: unknown key {strange[0]!r}; a map has {', '.join(MAP_KEYS)}")
    for key in ("name", "service"):
        if not isinstance(data.get(key), str) or not data[key].strip():
            raise UsageError(f'{path.name}: say which column holds the CI\'s {key}, like {key} = "column"')
    if not isinstance(data.get("attributes", []), list):
        raise UsageError(f'{path.name}: attributes must be a list of columns, like attributes = ["os"]')
    return data


def read_records(path: Path) -> list[tuple[int, dict[str, Any]]]:
    """(line, record) for every row of a CSV or JSON export."""
    text = read_text(path, "utf-8-sig")
    if path.suffix.lower() == ".json":
        return _json_records(text, path.name)
    if path.suffix.lower() != ".csv":
        raise UsageError(f"{path.name}: give a .csv or .json file")
    reader = csv.DictReader(text.splitlines())
    records = []
    for row in reader:
        if None in row:
            raise UsageError(f"{path.name}:{reader.line_num}: more values than columns; quote a value with a comma")
        records.append((reader.line_num, row))
    return records


def _json_records(text: str, name: str) -> list[tuple[int, dict[str, Any]]]:
    decoder = json.JSONDecoder()
    try:
        whole = json.loads(text)
    except json.JSONDecodeError as exc:
        raise UsageError(f"{name}:{exc.lineno}: not valid JSON ({exc.msg})") from None
    start = text.find("[")
    if isinstance(whole, dict) and isinstance(whole.get("records"), list):
        start = text.find("[", text.find('"records"'))
        whole = whole["records"]
    if not isinstance(whole, list):
        raise UsageError(f'{name}: expected a list of objects, or {{"records": [...]}}')
    records, pos = [], start + 1
    for item in whole:
        while text[pos] in " \t\r\n,":
            pos += 1
        _, end = decoder.raw_decode(text, pos)
        records.append((text.count("\n", 0, pos) + 1, item))
        pos = end
    return records


def read_cis_file(path: Path, map_path: Path, services: set[str] | None = None) -> list[tuple[int, dict[str, Any]]]:
    """(line, CI entity) for every row; every bad row is reported at once and nothing is returned."""
    mapping = read_map(map_path)
    rows, bad = [], []
    for line, record in read_records(path):
        if not isinstance(record, dict):
            bad.append(f"{path.name}:{line}: not an object")
            continue
        value = {key: str(record.get(mapping[key], "") or "").strip() if mapping.get(key) else ""
                 for key in ("name", "service", "kind", "owner_group")}
        missing = [k for k in ("name", "service") if not value[k]]
        if missing:
            bad.append(f"{path.name}:{line}: no {missing[0]} (column {mapping[missing[0]]!r} is empty or missing)")
            continue
        if services is not None and value["service"] not in services:
            bad.append(f"{path.name}:{line}: CI {value['name']!r}: unknown service {value['service']!r}")
            continue
        attributes = {c: record[c] for c in mapping.get("attributes", []) if record.get(c) not in (None, "")}
        rows.append((line, {**value, "attributes": attributes, "retired": False}))
    if bad:
        more = f"\n  … and {len(bad) - MAX_SHOWN} more" if len(bad) > MAX_SHOWN else ""
        raise UsageError(f"{len(bad)} bad row(s) in {path.name}; nothing imported:\n  " + "\n  ".join(bad[:MAX_SHOWN])
                         + more)
    if not rows:
        raise UsageError(f"{path.name} has no rows to import")
    return rows
