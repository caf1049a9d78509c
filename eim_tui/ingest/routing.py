"""Alert routing rules (`data/alert_routing.toml`): label matchers → the fields of the incident.

`load_alert_routing(ref)` reads and checks the file against the reference data (services,
categories, groups, resolution codes); a mistake raises `ReferenceError` naming the file, the
line and the fix, so `eim ingest` refuses to start with one clear sentence. `AlertRouting.route`
is pure: an `Alert` in, a `Routing` (everything `log_incident` needs besides the alert) out.
"""

from __future__ import annotations

import re
import string
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from eim_tui.domain.alert_plan import Routing
from eim_tui.domain.alerts import Alert, RefirePolicy
from eim_tui.domain.errors import ValidationError
from eim_tui.domain.intake import MAX_TITLE
from eim_tui.domain.priority import LEVELS
from eim_tui.reference.data import ReferenceData
from eim_tui.reference.files import DataFile, Entry, ReferenceError
from eim_tui.reference.paths import DATA_DIR

RULES_FILE = "alert_routing.toml"
_FIELD = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
_POLICY_KEYS = ("on_refire", "auto_resolve", "resolution_code", "title", "ci", "during_change")
DURING_CHANGE = ("note", "hold")  # what an alert during a change in progress does to its incident


@dataclass(frozen=True, slots=True)
class Rule:
    name: str
    equal: tuple[tuple[str, str], ...]
    regex: tuple[tuple[str, re.Pattern[str]], ...]
    fields: dict[str, Any]  # service, category, subcategory, group, impact, urgency, and the _POLICY_KEYS

    def matches(self, values: dict[str, str]) -> bool:
        return all(values.get(k, "") == v for k, v in self.equal) and all(
            p.fullmatch(values.get(k, "")) for k, p in self.regex
        )


@dataclass(frozen=True)
class AlertRouting:
    rules: tuple[Rule, ...]
    default: Rule
    severity: dict[str, tuple[int, int]]
    ref: ReferenceData

    def rule_for(self, alert: Alert) -> Rule:
        return self._rule_for(alert.fields())

    def _rule_for(self, values: dict[str, str]) -> Rule:
        # The first matching rule depends on the fields alone; a receiver sees the same alerts again
        # and again (repeats), so the answer is remembered (a bounded cache: cleared when full).
        key = tuple(values.items())
        cache = self.__dict__.setdefault("_rules_seen", {})
        rule = cache.get(key)
        if rule is None:
            if len(cache) >= 20_000:
                cache.clear()
            rule = cache[key] = next((r for r in self.rules if r.matches(values)), self.default)
        return rule

    def on_refire(self, alert: Alert) -> RefirePolicy:
        """What the alert's rule says a refiring alert does (`route(alert).on_refire`, for less)."""
        return RefirePolicy(self.rule_for(alert).fields["on_refire"])

    def route(self, alert: Alert) -> Routing:
        values = alert.fields()
        rule = self._rule_for(values)
        f = rule.fields
        impact, urgency = self.severity.get(alert.severity) or self.severity["other"]
        o = alert.overrides
        return Routing(
            rule=rule.name,
            title=(o.get("title") or render(f["title"], values) or alert.name)[:MAX_TITLE],
            service=o.get("service", f.get("service", "")),
            configuration_item=o.get("configuration_item", render(f["ci"], values))[:200],
            category=o.get("category", f.get("category", "")),
            subcategory=o.get("subcategory", f.get("subcategory", "") if "category" not in o else ""),
            assignment_group=o.get("assignment_group", f.get("group", "")),
            impact=o.get("impact", f.get("impact", impact)),
            urgency=o.get("urgency", f.get("urgency", urgency)),
            on_refire=RefirePolicy(f["on_refire"]),
            auto_resolve=f["auto_resolve"],
            resolution_code=f["resolution_code"],
            reporter_name=o.get("reporter_name", ""),
            reporter_contact=o.get("reporter_contact", ""),
            reporter_department=o.get("reporter_department", ""),
            during_change=f["during_change"],
        )


    def check(self, routing: Routing) -> None:
        """Refuse names a generic event set itself that the reference data does not know."""
        ref = self.ref
        if routing.service and ref.service(routing.service) is None:
            raise ValidationError(f"unknown service {routing.service!r}; see data/services.csv")
        if routing.assignment_group and ref.group(routing.assignment_group) is None:
            raise ValidationError(f"unknown assignment_group {routing.assignment_group!r}; "
                                  f"use one of: {', '.join(g.name for g in ref.groups)}")
        category = ref.category(routing.category) if routing.category else None
        if routing.category and category is None:
            raise ValidationError(f"unknown category {routing.category!r}; "
                                  f"use one of: {', '.join(c.name for c in ref.categories)}")
        if routing.subcategory and (category is None or routing.subcategory not in category.subcategories):
            raise ValidationError(f"unknown subcategory {routing.subcategory!r} of {routing.category or 'no category'}")


def render(templates: tuple[str, ...], values: dict[str, str]) -> str:
    """The first template whose fields all have a value, filled in; "" when none can be."""
    for template in templates:
        names = [name for _, name, _, _ in string.Formatter().parse(template) if name]
        if all(values.get(n) for n in names):
            return " ".join(template.format_map(values).split())
    return ""


def load_alert_routing(ref: ReferenceData, path: Path | None = None) -> AlertRouting:
    """The alert routing rules, checked against the reference data; raises ReferenceError."""
    path = Path(path) if path else DATA_DIR / RULES_FILE
    file = DataFile(path.parent, path.name)
    data = file.toml()
    unknown = set(data) - {"defaults", "severity", "rule", "default"}
    if unknown:
        key = sorted(unknown)[0]
        raise file.error(f"unknown table {key!r}; use [defaults], [severity], [[rule]] and [default]",
                         file.line_of(rf"\[*{re.escape(key)}\b") or file.line_of(rf"{re.escape(key)}\s*="))
    known = _Names(ref)
    base = _defaults(file, data.get("defaults", {}), known)
    severity = _severity(file, data.get("severity", {}))
    rules = [_rule(e, base, known) for e in file.entries("rule")] if "rule" in data else []
    if "default" not in data:
        raise file.error("no [default] table; add one for alerts no rule matches (category, subcategory, group)")
    default_entry = Entry(file, _table(file, data["default"], "default"), "[default]", file.table_line("default"))
    if {"match", "match_re"} & set(default_entry.table):
        raise default_entry.error("the default rule matches every alert; move match/match_re to a [[rule]]")
    return AlertRouting(tuple(rules), _rule(default_entry, base, known, name="default"), severity, ref)


class _Names:
    def __init__(self, ref: ReferenceData) -> None:
        self.ref = ref
        self.services = [s.name for s in ref.services]
        self.groups = [g.name for g in ref.groups]
        self.categories = {c.name: c for c in ref.categories}
        self.codes = list(ref.resolution_codes)


def _table(file: DataFile, value: Any, name: str) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise file.error(f"`{name}` must be a table like [{name}]", file.line_of(rf"{name}\s*="))
    return value


def _templates(entry: Entry, key: str, value: Any) -> tuple[str, ...]:
    templates = (value,) if isinstance(value, str) else value
    if not isinstance(templates, (list, tuple)) or not templates or not all(isinstance(t, str) for t in templates):
        raise entry.error(f'`{key}` must be a template like "{{alertname}} on {{instance}}" or a list of them')
    for template in templates:
        try:
            names = [name for _, name, spec, conv in string.Formatter().parse(template) if name is not None]
        except ValueError as exc:
            raise entry.error(f"`{key}` template {template!r}: {exc}; write fields as {{name}}") from None
        for name in names:
            if not _FIELD.match(name):
                raise entry.error(f"`{key}` template {template!r}: {{{name}}} is not a field name; write {{label}}")
    return tuple(templates)


def _policy(entry: Entry, base: dict[str, Any], known: _Names) -> dict[str, Any]:
    out = dict(base)
    t = entry.table
    if "on_refire" in t:
        out["on_refire"] = entry.pick("on_refire", [p.value for p in RefirePolicy], "on_refire")
    if "auto_resolve" in t:
        out["auto_resolve"] = entry.get("auto_resolve", bool)
    if "resolution_code" in t:
        out["resolution_code"] = entry.pick("resolution_code", known.codes, "resolution code")
    if "during_change" in t:
        out["during_change"] = entry.pick("during_change", DURING_CHANGE, "during_change")
    for key in ("title", "ci"):
        if key in t:
            out[key] = _templates(entry, key, t[key])
    return out


def _defaults(file: DataFile, table: Any, known: _Names) -> dict[str, Any]:
    entry = Entry(file, _table(file, table, "defaults"), "[defaults]", file.table_line("defaults"))
    _only(entry, _POLICY_KEYS)
    base = {"on_refire": "reopen", "auto_resolve": False, "resolution_code": "no_fault_found",
            "title": ("{alertname}",), "ci": (), "during_change": "note"}
    if base["resolution_code"] not in known.codes and "resolution_code" not in entry.table:
        raise entry.error("the built-in resolution code no_fault_found is not in resolution_codes.toml; "
                          "set resolution_code here")
    return _policy(entry, base, known)


def _severity(file: DataFile, table: Any) -> dict[str, tuple[int, int]]:
    out: dict[str, tuple[int, int]] = {}
    for name, levels in _table(file, table, "severity").items():
        entry = Entry(file, {}, f"[severity] {name}", file.line_of(rf"\"?{re.escape(name)}\"?\s*="))
        entry = entry.nested(levels)
        out[name.lower()] = tuple(entry.choice(entry.get(k, int), LEVELS, f"{k} (1 high … 3 low)")
                                  for k in ("impact", "urgency"))  # type: ignore[assignment]
    if "other" not in out:
        raise file.error("[severity] needs `other = { impact = 2, urgency = 2 }` for severities it does not list",
                         file.table_line("severity"))
    return out


def _only(entry: Entry, allowed: tuple[str, ...]) -> None:
    extra = sorted(set(entry.table) - set(allowed))
    if extra:
        raise entry.error(f"unknown key {extra[0]!r}; use {', '.join(allowed)}")


_RULE_KEYS = ("name", "match", "match_re", "service", "category", "subcategory", "group", "impact", "urgency",
              *_POLICY_KEYS)


def _rule(entry: Entry, base: dict[str, Any], known: _Names, name: str = "") -> Rule:
    _only(entry, _RULE_KEYS)
    t = entry.table
    equal = tuple((str(k), v) for k, v in _matchers(entry, "match").items())
    regex = []
    for key, pattern in _matchers(entry, "match_re").items():
        try:
            regex.append((str(key), re.compile(pattern)))
        except re.error as exc:
            raise entry.error(f"match_re.{key}: {pattern!r} is not a regular expression ({exc})") from None
    if not name and not equal and not regex:
        raise entry.error("give match or match_re, or the rule matches every alert (that is [default])")
    fields = _policy(entry, base, known)
    if "service" in t:
        fields["service"] = entry.pick("service", known.services, "service")
    category = entry.pick("category", known.categories, "category") if "category" in t or name == "default" else ""
    if category:
        fields["category"] = category
        subs = known.categories[category].subcategories
        fields["subcategory"] = entry.pick("subcategory", subs, f"subcategory of {category}") if (
            "subcategory" in t or name == "default") else ""
    elif "subcategory" in t:
        raise entry.error("a subcategory needs its category; add category")
    if "group" in t or name == "default":
        fields["group"] = entry.pick("group", known.groups, "group")
    for level in ("impact", "urgency"):
        if level in t:
            fields[level] = entry.choice(entry.get(level, int), LEVELS, f"{level} (1 high … 3 low)")
    return Rule(name or entry.get("name"), equal, tuple(regex), fields)


def _matchers(entry: Entry, key: str) -> dict[str, str]:
    value = entry.table.get(key, {})
    if not isinstance(value, dict) or not all(isinstance(v, str) for v in value.values()):
        raise entry.error(f'`{key}` must be a table of strings like {{ alertname = "DiskFull" }}')
    return value


__all__ = ["AlertRouting", "ReferenceError", "Routing", "load_alert_routing", "render"]
