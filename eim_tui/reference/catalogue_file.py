"""`catalog.toml`: the declarative form of the catalogue, read with the line of every entry so a
mistake is refused as `catalog.toml:12: …`, and written back (`eim catalog export`) in a form that
reads in again to no changes.

    [[group]]    name, description, shift_lead, members
    [[category]] name, confidential, subcategories
    [[service]]  name, description, owner_group
    [[ci]]       name, service, kind, owner_group, attributes = { … }
    [[sla]]      severity, response, resolution, and optionally service (that service's own targets)
    [[routing]]  name, keywords, services, category, subcategory, group, reason   (tried in file order)
    [[escalation]] name, when, severities, after, notify, reach, mark_escalated, raise_severity, reason
                 (as in data/escalation.toml, which seeds them)
"""

from __future__ import annotations

import json
import re
import tomllib
from bisect import bisect_right
from datetime import timedelta
from typing import Any

from eim_tui.domain.durations import parse_duration
from eim_tui.domain.errors import ValidationError
from eim_tui.domain.escalation import Recipient, Trigger
from eim_tui.reference.catalogue import ENTITIES, Catalogue, Entity, sla_key

_HEADER = re.compile(r"^[ \t]*\[\[[ \t]*(" + "|".join(ENTITIES) + r")[ \t]*\]\]", re.MULTILINE)
_FIELDS = {
    "group": {"name", "description", "shift_lead", "members"},
    "category": {"name", "confidential", "subcategories"},
    "service": {"name", "description", "owner_group"},
    "ci": {"name", "service", "kind", "owner_group", "attributes"},
    "sla": {"severity", "service", "response", "resolution"},
    "routing": {"name", "keywords", "services", "category", "subcategory", "group", "reason"},
    "escalation": {"name", "when", "severities", "after", "notify", "reach", "mark_escalated", "raise_severity",
                   "reason"},
}
TRIGGERS = tuple(t.value for t in Trigger)
RECIPIENTS = tuple(r.value for r in Recipient)


class CatalogueFileError(ValidationError):
    """A catalogue file that cannot be applied: the message starts with `FILE:LINE:`."""


class _Entry:
    """One `[[kind]]` table with where it starts, to name the line of a field that is wrong."""

    def __init__(self, reader: _Reader, kind: str, table: Any, line: int, end: int) -> None:
        self.reader, self.kind, self.table, self.line, self.end = reader, kind, table, line, end

    def error(self, message: str, key: str | None = None) -> CatalogueFileError:
        return self.reader.error(message, self.line_of(key) if key else self.line)

    def line_of(self, key: str) -> int:
        pattern = re.compile(rf"^[ \t]*\"?{re.escape(key)}\"?[ \t]*=")
        for number in range(self.line, min(self.end, len(self.reader.lines)) + 1):
            if pattern.match(self.reader.lines[number - 1]):
                return number
        return self.line

    def text(self, key: str, required: bool = False) -> str:
        value = self.table.get(key, "")
        if not isinstance(value, str):
            raise self.error(f"{key} must be text in quotes", key)
        value = value.strip()
        if required and not value:
            raise self.error(f"[[{self.kind}]] needs a {key}", key if key in self.table else None)
        return value

    def names(self, key: str) -> list[str]:
        value = self.table.get(key, [])
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            raise self.error(f'{key} must be a list of names in quotes, like ["a", "b"]', key)
        return [v.strip() for v in value if v.strip()]

    def duration(self, key: str) -> int:
        value = self.table.get(key)
        if not isinstance(value, str):
            raise self.error(f'{key} must be a duration in quotes, like "15m" or "4h"', key if key in self.table else None)
        try:
            seconds = int(parse_duration(value).total_seconds())
        except ValueError as exc:
            raise self.error(f"{key}: {exc}", key) from None
        if seconds <= 0:
            raise self.error(f"{key} is zero; an SLA target must be longer than zero, like \"15m\"", key)
        return seconds


class _Reader:
    def __init__(self, text: str, filename: str) -> None:
        self.text, self.filename = text, filename
        self.lines = text.splitlines()

    def error(self, message: str, line: int | None = None) -> CatalogueFileError:
        return CatalogueFileError(f"{self.filename}:{line}: {message}" if line else f"{self.filename}: {message}")


def read_catalogue_file(text: str, filename: str = "catalog.toml") -> tuple[dict[str, dict[str, Entity]], dict[tuple[str, str], int]]:
    """The wanted catalogue (kind → name → entity, only the kinds the file has) and each entity's
    line; raises CatalogueFileError naming the file and line of the first mistake."""
    reader = _Reader(text, filename)
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        found = re.search(r"line (\d+)", str(exc))
        raise reader.error(f"not valid TOML: {re.sub(r' [(]at line.*', '', str(exc))}",
                           int(found.group(1)) if found else None) from None
    strange = sorted(set(data) - set(ENTITIES))
    if strange:
        raise reader.error(f"unknown section {strange[0]!r}; a catalogue has [[{']], [['.join(ENTITIES)}]]",
                           _line_of_section(reader, strange[0]))
    starts: dict[str, list[int]] = {kind: [] for kind in ENTITIES}
    line, counted = 1, 0
    for match in _HEADER.finditer(text):  # lines counted as we go: one pass over a 50,000-table file
        line += text.count("\n", counted, match.start())
        counted = match.start()
        starts[match.group(1)].append(line)
    boundaries = sorted(n for lines in starts.values() for n in lines) + [len(reader.lines) + 1]
    wanted: dict[str, dict[str, Entity]] = {}
    where: dict[tuple[str, str], int] = {}
    for kind in ENTITIES:
        if kind not in data:
            continue
        tables = data[kind]
        if not isinstance(tables, list):
            raise reader.error(f"{kind} must be written as [[{kind}]] tables, one per {kind}", _line_of_section(reader, kind))
        wanted[kind] = {}
        for index, table in enumerate(tables):
            line = starts[kind][index] if index < len(starts[kind]) else None
            end = (boundaries[bisect_right(boundaries, line)] if line is not None else len(reader.lines) + 1) - 1
            entry = _Entry(reader, kind, table, line or 0, end)
            extra = sorted(set(table) - _FIELDS[kind])
            if extra:
                raise entry.error(f"unknown field {extra[0]!r} in [[{kind}]]; use: {', '.join(sorted(_FIELDS[kind]))}",
                                  extra[0])
            entity = _ENTITY_READERS[kind](entry, index)
            name = entity_name(kind, entity)
            if name in wanted[kind]:
                raise entry.error(f"{kind} {name!r} is listed twice (first at line {where[(kind, name)]}); keep one")
            wanted[kind][name] = entity
            where[(kind, name)] = entry.line
    return wanted, where


def entity_name(kind: str, entity: Entity) -> str:
    return sla_key(entity["severity"], entity["service"]) if kind == "sla" else entity["name"]


def _line_of_section(reader: _Reader, name: str) -> int | None:
    pattern = re.compile(rf"^[ \t]*(\[\[?[ \t]*{re.escape(name)}\b|{re.escape(name)}[ \t]*=)")
    return next((n for n, text in enumerate(reader.lines, 1) if pattern.match(text)), None)


def _group(e: _Entry, _index: int) -> Entity:
    return {"name": e.text("name", True), "description": e.text("description"), "shift_lead": e.text("shift_lead"),
            "members": sorted(set(e.names("members")))}


def _category(e: _Entry, _index: int) -> Entity:
    confidential = e.table.get("confidential", False)
    if not isinstance(confidential, bool):
        raise e.error("confidential must be true or false", "confidential")
    return {"name": e.text("name", True), "confidential": confidential, "subcategories": e.names("subcategories")}


def _service(e: _Entry, _index: int) -> Entity:
    return {"name": e.text("name", True), "description": e.text("description"),
            "owner_group": e.text("owner_group"), "retired": False}


def _ci(e: _Entry, _index: int) -> Entity:
    attributes = e.table.get("attributes", {})
    if not isinstance(attributes, dict):
        raise e.error("attributes must be a table, like attributes = { os = \"debian\" }", "attributes")
    return {"name": e.text("name", True), "service": e.text("service", True), "kind": e.text("kind"),
            "owner_group": e.text("owner_group"), "attributes": json.loads(json.dumps(attributes, default=str)),
            "retired": False}


def _sla(e: _Entry, _index: int) -> Entity:
    severity = e.table.get("severity")
    if not isinstance(severity, int) or isinstance(severity, bool) or not 1 <= severity <= 5:
        raise e.error("severity must be a number from 1 to 5", "severity" if "severity" in e.table else None)
    return {"severity": severity, "service": e.text("service"), "response": e.duration("response"),
            "resolution": e.duration("resolution")}


def _routing(e: _Entry, index: int) -> Entity:
    rule = {"name": e.text("name", True), "position": index + 1, "keywords": e.names("keywords"),
            "services": e.names("services"), "category": e.text("category", True),
            "subcategory": e.text("subcategory", True), "group": e.text("group", True), "reason": e.text("reason")}
    if not rule["keywords"] and not rule["services"]:
        raise e.error("give keywords or services, or the rule never matches")
    return rule


def _escalation(e: _Entry, index: int) -> Entity:
    when = e.text("when", True)
    if when not in TRIGGERS:
        raise e.error(f"when must be one of {', '.join(TRIGGERS)}, not {when!r}", "when")
    severities = e.table.get("severities")
    if (not isinstance(severities, list) or not severities
            or any(isinstance(s, bool) or not isinstance(s, int) or not 1 <= s <= 5 for s in severities)):
        raise e.error("severities must be a list of 1 … 5, like [1, 2]", "severities" if "severities" in e.table else None)
    after = e.table.get("after", "0s")
    try:
        seconds = int(parse_duration(after).total_seconds()) if isinstance(after, str) else -1
    except ValueError:
        seconds = -1
    if seconds < 0:
        raise e.error(f'after must be a duration in quotes, like "5m" or "0s", not {after!r}', "after")
    notify = e.names("notify")
    for who in notify:
        if who not in RECIPIENTS:
            raise e.error(f"notify: {who!r} is not one of {', '.join(RECIPIENTS)} (name people and groups in reach)",
                          "notify")
    flags = {}
    for key in ("mark_escalated", "raise_severity"):
        flags[key] = e.table.get(key, False)
        if not isinstance(flags[key], bool):
            raise e.error(f"{key} must be true or false", key)
    return {"name": e.text("name", True), "position": index + 1, "when": when, "severities": sorted(set(severities)),
            "after": seconds, "notify": notify, "reach": e.names("reach"), **flags, "reason": e.text("reason")}


_ENTITY_READERS = {"group": _group, "category": _category, "service": _service, "ci": _ci, "sla": _sla,
                   "routing": _routing, "escalation": _escalation}


# --- writing -------------------------------------------------------------------------------------


def write_catalogue_file(cat: Catalogue) -> str:
    """The active catalogue as TOML: reading it back gives no changes."""
    out = ["# The organisation's catalogue (eim catalog export). Apply edits with: eim catalog apply FILE",
           "# Services and CIs left out are retired; SLA targets per service, routing and escalation rules left out",
           "# are removed; groups and categories left out are kept.", ""]
    for group in sorted(cat.of("group").values(), key=lambda g: g["name"]):
        out += ["[[group]]", _kv("name", group["name"]), _kv("description", group["description"]),
                _kv("shift_lead", group["shift_lead"]), _kv("members", group["members"]), ""]
    for category in sorted(cat.of("category").values(), key=lambda c: c["name"]):
        out += ["[[category]]", _kv("name", category["name"]), _kv("confidential", category["confidential"]),
                _kv("subcategories", category["subcategories"]), ""]
    for service in sorted(cat.active("service").values(), key=lambda s: s["name"]):
        out += ["[[service]]", _kv("name", service["name"]), _kv("description", service["description"]),
                _kv("owner_group", service["owner_group"]), ""]
    for ci in sorted(cat.active("ci").values(), key=lambda c: c["name"]):
        out += ["[[ci]]", _kv("name", ci["name"]), _kv("service", ci["service"]), _kv("kind", ci["kind"]),
                _kv("owner_group", ci["owner_group"])]
        if ci["attributes"]:
            out.append(_kv("attributes", ci["attributes"]))
        out.append("")
    for target in sorted(cat.of("sla").values(), key=lambda t: (t["service"], t["severity"])):
        out += ["[[sla]]", _kv("severity", target["severity"])]
        if target["service"]:
            out.append(_kv("service", target["service"]))
        out += [_kv("response", seconds_text(target["response"])),
                _kv("resolution", seconds_text(target["resolution"])), ""]
    for rule in sorted(cat.of("routing").values(), key=lambda r: r["position"]):
        out += ["[[routing]]"] + [_kv(k, rule[k]) for k in ("name", "keywords", "services", "category",
                                                            "subcategory", "group", "reason")] + [""]
    for rule in sorted(cat.of("escalation").values(), key=lambda r: r["position"]):
        out += ["[[escalation]]", _kv("name", rule["name"]), _kv("when", rule["when"]),
                _kv("severities", rule["severities"]), _kv("after", seconds_text(rule["after"]) if rule["after"] else "0s"),
                _kv("notify", rule["notify"]), _kv("reach", rule["reach"]),
                _kv("mark_escalated", rule["mark_escalated"]), _kv("raise_severity", rule["raise_severity"]),
                _kv("reason", rule["reason"]), ""]
    return "\n".join(out)


def seconds_text(seconds: int) -> str:
    """A target as a duration that reads back to the same seconds (`1h30m`, `45m`, `90s`); never
    days, which on a business-hours calendar mean working days."""
    hours, rest = divmod(int(seconds), 3600)
    minutes, secs = divmod(rest, 60)
    text = (f"{hours}h" if hours else "") + (f"{minutes}m" if minutes else "") + (f"{secs}s" if secs else "")
    return text or "0m"


def parse_target(text: str) -> int:
    """A target given on the command line, in seconds; zero and nonsense are refused."""
    try:
        seconds = int(parse_duration(text).total_seconds())
    except ValueError as exc:
        raise ValidationError(str(exc)) from None
    if seconds <= 0:
        raise ValidationError(f"{text!r} is zero; an SLA target must be longer than zero, like 15m")
    return seconds


def target_delta(seconds: int) -> timedelta:
    return timedelta(seconds=seconds)


def _kv(key: str, value: Any) -> str:
    return f"{key} = {_value(value)}"


def _value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return json.dumps(value)
    if isinstance(value, str):
        return json.dumps(value, ensure_ascii=False)
    if isinstance(value, (list, tuple)):
        return "[" + ", ".join(_value(v) for v in value if v is not None) + "]"
    if isinstance(value, dict):
        return "{ " + ", ".join(f"{json.dumps(str(k), ensure_ascii=False)} = {_value(v)}"
                                for k, v in value.items() if v is not None) + " }" if value else "{}"
    return json.dumps(str(value), ensure_ascii=False)
