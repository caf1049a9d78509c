"""The organisation's catalogue as plain data: services, configuration items, groups, categories,
SLA targets, routing and escalation rules — what the store holds, what `catalog.toml` says, and the difference.

Pure functions on frozen values (no store, no files): `store/catalogue.py` reads and writes these,
`services/catalogue.py` decides, and `reference/catalogue_file.py` reads and writes the TOML form.
An entity is a plain dict of its fields (`Entity`), so comparing, diffing and exporting are generic.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from eim_tui.domain.errors import ValidationError

# The kinds of thing the catalogue holds, in the order they are applied (what others refer to first).
ENTITIES = ("group", "category", "service", "ci", "sla", "routing", "escalation")
LABELS = {"group": "group", "category": "category", "service": "service", "ci": "CI", "sla": "SLA target",
          "routing": "routing rule", "escalation": "escalation rule"}
# Entities that are retired (kept for history) rather than removed when a catalogue file leaves them out.
RETIRABLE = frozenset({"service", "ci"})
# Entities a catalogue file owns wholly: absent from the file means gone. Groups and categories are
# never removed by a file (incidents and people refer to them); say so in the diff instead.
OWNED_BY_FILE = frozenset({"service", "ci", "sla", "routing", "escalation"})

Entity = dict[str, Any]


def sla_key(severity: int, service: str = "") -> str:
    """The name of an SLA target: `Sev2`, or `payments Sev2` for a service's own."""
    return f"{service} Sev{severity}" if service else f"Sev{severity}"


@dataclass
class Catalogue:
    """Every entity by kind and name. Retired services and CIs carry `retired: True`."""

    entities: dict[str, dict[str, Entity]] = field(default_factory=lambda: {kind: {} for kind in ENTITIES})

    def of(self, kind: str) -> dict[str, Entity]:
        return self.entities[kind]

    def active(self, kind: str) -> dict[str, Entity]:
        return {n: e for n, e in self.entities[kind].items() if not e.get("retired")}

    def after(self, plan: Plan) -> Catalogue:
        """This catalogue with `plan` carried out (a new value; this one is unchanged)."""
        result = Catalogue({kind: dict(found) for kind, found in self.entities.items()})
        for change in plan.changes:
            if change.after is None:
                result.entities[change.entity].pop(change.name, None)
            else:
                result.entities[change.entity][change.name] = change.after
        return result


@dataclass(frozen=True, slots=True)
class Change:
    """One difference: `before` is None for an addition, `after` None for a removal."""

    kind: str  # added | changed | retired | removed
    entity: str
    name: str
    before: Entity | None
    after: Entity | None
    line: int | None = None  # where the catalogue file says it, when it came from one

    def fields_changed(self) -> list[str]:
        before, after = self.before or {}, self.after or {}
        return sorted(k for k in set(before) | set(after) if before.get(k) != after.get(k))

    def describe(self) -> str:
        label = f"{LABELS[self.entity]} {self.name}"
        if self.kind == "changed":
            parts = [f"{k}: {_show(self.before.get(k))} → {_show(self.after.get(k))}"  # type: ignore[union-attr]
                     for k in self.fields_changed()]
            return f"changed  {label} ({'; '.join(parts)})"
        return f"{self.kind:<8} {label}"


def _show(value: Any) -> str:
    if isinstance(value, (list, tuple)):
        return "[" + ", ".join(map(str, value)) + "]"
    if value is None or value == "":
        return "-"
    return str(value)


@dataclass(frozen=True)
class Plan:
    """The changes that take the store's catalogue to the wanted one, in applying order."""

    changes: tuple[Change, ...]
    kept: tuple[str, ...] = ()  # notes on what the file leaves out but a file cannot remove

    def counts(self) -> dict[str, int]:
        found = {"added": 0, "changed": 0, "retired": 0, "removed": 0}
        for change in self.changes:
            found[change.kind] += 1
        return found

    def summary(self) -> str:
        counts = self.counts()
        if not self.changes:
            return "no changes: the store already holds this catalogue"
        return ", ".join(f"{n} {kind}" for kind, n in counts.items() if n)


def diff(current: Catalogue, wanted: dict[str, dict[str, Entity | None]], lines: dict[tuple[str, str], int] | None = None,
         owned: Iterable[str] = OWNED_BY_FILE) -> Plan:
    """What changes `current` into `wanted` (only the kinds `wanted` has; `owned` kinds lose what
    `wanted` leaves out: services and CIs are retired, SLA targets and routing rules removed).
    A name that `wanted` maps to None is removed."""
    lines = lines or {}
    changes: list[Change] = []
    kept: list[str] = []
    owned = set(owned)
    for kind in ENTITIES:
        if kind not in wanted:
            continue
        have, want = current.of(kind), wanted[kind]
        for name, after in want.items():
            before = have.get(name)
            line = lines.get((kind, name))
            if after is None:  # asked to remove it
                if before is not None:
                    changes.append(Change("removed", kind, name, before, None, line))
            elif before is None:
                changes.append(Change("added", kind, name, None, after, line))
            elif before != after:
                retiring = bool(after.get("retired")) and not before.get("retired")
                changes.append(Change("retired" if retiring else "changed", kind, name, before, after, line))
        gone = [name for name in have if name not in want and not have[name].get("retired")
                and not (kind == "sla" and not have[name].get("service"))]  # Sev1–5 always have targets
        if kind in owned:
            for name in gone:
                if kind in RETIRABLE:
                    changes.append(Change("retired", kind, name, have[name], {**have[name], "retired": True}))
                else:
                    changes.append(Change("removed", kind, name, have[name], None))
        elif gone:
            kept.append(f"{len(gone)} {LABELS[kind]}(s) not in the file are kept (a file never removes them): "
                        + ", ".join(sorted(gone)[:5]) + (" …" if len(gone) > 5 else ""))
    return Plan(tuple(changes), tuple(kept))


def closest(name: str, known: Iterable[str], n: int = 2) -> list[str]:
    """The known names most like `name` (for 'did you mean …')."""
    known = list(known)
    found = difflib.get_close_matches(name, known, n=n, cutoff=0.5)
    if not found:
        lowered = name.lower()
        found = [k for k in known if lowered and (lowered in k.lower() or k.lower() in lowered)][:n]
    return found


def unknown(what: str, name: str, known: Iterable[str], how_to_add: str) -> ValidationError:
    """`unknown service 'payroll'; did you mean 'hr-portal'? add one with eim services add …`"""
    close = closest(name, known)
    hint = f"; did you mean {' or '.join(repr(c) for c in close)}?" if close else ";"
    return ValidationError(f"unknown {what} {name!r}{hint} add one with {how_to_add}")


def check_references(cat: Catalogue, users: set[str]) -> list[tuple[str, str, str]]:
    """What in `cat` points at nothing: (entity, name, problem) for each, in a stable order.

    Active CIs need an active service; owners need groups; members and shift leads need users;
    routing rules need their category, subcategory, group and services; SLA targets their service;
    escalation rules the people and groups they reach."""
    problems: list[tuple[str, str, str]] = []
    groups = cat.of("group")
    categories = cat.of("category")
    services = cat.active("service")
    all_services = cat.of("service")
    for name, group in groups.items():
        for person in [*group.get("members", []), *([group["shift_lead"]] if group.get("shift_lead") else [])]:
            if person not in users:
                problems.append(("group", name, f"unknown user {person!r}; add them first with eim users add {person} "
                                                "--role responder"))
    for name, service in services.items():
        owner = service.get("owner_group", "")
        if owner and owner not in groups:
            problems.append(("service", name, _unknown_text("owner group", owner, groups, "eim groups add NAME")))
    for name, ci in cat.active("ci").items():
        if ci["service"] not in services:
            why = ("is retired; move the CI to an active service or retire it too" if ci["service"] in all_services
                   else None)
            problems.append(("ci", name, f"service {ci['service']!r} {why}" if why else
                             _unknown_text("service", ci["service"], services, "eim services add NAME")))
        if ci.get("owner_group") and ci["owner_group"] not in groups:
            problems.append(("ci", name, _unknown_text("owner group", ci["owner_group"], groups, "eim groups add NAME")))
    for name, target in cat.of("sla").items():
        if target.get("service") and target["service"] not in all_services:
            problems.append(("sla", name, _unknown_text("service", target["service"], services, "eim services add NAME")))
    for name, rule in cat.of("routing").items():
        category = categories.get(rule["category"])
        if category is None:
            problems.append(("routing", name, _unknown_text("category", rule["category"], categories,
                                                            "eim categories add NAME")))
        elif rule["subcategory"] not in category.get("subcategories", []):
            problems.append(("routing", name, f"unknown subcategory {rule['subcategory']!r} of {rule['category']}; "
                                              f"use one of: {', '.join(category.get('subcategories', []))}"))
        if rule["group"] not in groups:
            problems.append(("routing", name, _unknown_text("group", rule["group"], groups, "eim groups add NAME")))
        for service in rule.get("services", []):
            if service not in all_services:  # a retired one is harmless: it just matches no new incident
                problems.append(("routing", name, _unknown_text("service", service, services, "eim services add NAME")))
    for name, rule in cat.of("escalation").items():
        for target in rule.get("reach", []):
            if target.startswith("group:"):
                if target[6:] not in groups:
                    problems.append(("escalation", name, "reaches " + _unknown_text("group", target[6:], groups,
                                                                                     "eim groups add NAME")))
            elif target not in users:
                problems.append(("escalation", name, f"reaches unknown person {target!r}; add them first with "
                                                     f"eim users add {target} --role responder"))
    return problems


def _unknown_text(what: str, name: str, known: Iterable[str], how: str) -> str:
    return str(unknown(what, name, known, how))
