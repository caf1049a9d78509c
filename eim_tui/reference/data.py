"""The reference data shipped in `data/` (TOML and CSV), read once and checked as a whole.

`load_reference()` returns a `ReferenceData`: the priority matrix, SLA policies, category tree,
groups and users, services, resolution codes, routing rules and demo incident templates. Anything
wrong raises `ReferenceError` naming the file, the line where it can tell, and how to fix it, so a
mistake in an edited file stops the program with one clear sentence instead of a traceback.
"""

from __future__ import annotations

import csv
import functools
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import Any

from eim_tui.domain.errors import ValidationError
from eim_tui.domain.escalation import EscalationRule
from eim_tui.domain.model import (
    SEVERITY_NAMES,
    Category,
    Group,
    HypothesisStatus,
    NoteKind,
    Role,
    Service,
    Source,
    User,
)
from eim_tui.domain.priority import LEVELS, PriorityMatrix, check_severity
from eim_tui.domain.sla import SlaPolicy
from eim_tui.reference.files import DataFile, Entry, severity_tables
from eim_tui.reference.paths import DATA_DIR
from eim_tui.reference.sla import load_escalation, load_policies


@dataclass(frozen=True, slots=True)
class RoutingRule:
    """Proposes category, subcategory and group when a keyword occurs in the text or the service
    is one of `services`. Rules are tried in file order; the first that matches wins."""

    name: str
    keywords: tuple[str, ...]
    services: tuple[str, ...]
    category: str
    subcategory: str
    group: str
    reason: str

    def matches(self, text: str, service: str = "") -> bool:
        lowered = text.lower()
        return service in self.services or any(k.lower() in lowered for k in self.keywords)


@dataclass(frozen=True, slots=True)
class DemoNote:
    kind: NoteKind
    text: str
    status: HypothesisStatus | None = None


@dataclass(frozen=True, slots=True)
class DemoResolution:
    code: str
    notes: str
    tested: str = ""
    communication: str = ""


@dataclass(frozen=True, slots=True)
class DemoTemplate:
    title: str
    description: str
    category: str
    subcategory: str
    service: str
    ci: str
    impact: int
    urgency: int
    source: Source
    group: str
    reporter: str
    department: str
    contact: str
    diagnosis: tuple[DemoNote, ...] = ()
    resolution: DemoResolution | None = None


@dataclass(frozen=True)
class ReferenceData:
    """Everything in `data/`, checked: each name a rule, template or service uses exists."""

    matrix: PriorityMatrix
    severity_names: dict[int, str]
    policies: dict[int, SlaPolicy]
    categories: tuple[Category, ...]
    groups: tuple[Group, ...]
    users: tuple[User, ...]
    services: tuple[Service, ...]
    resolution_codes: dict[str, str]
    routing_rules: tuple[RoutingRule, ...]
    demo_templates: tuple[DemoTemplate, ...]
    escalation_rules: tuple[EscalationRule, ...] = ()
    # A service's own SLA targets, by (service, severity); the store's catalogue fills it (issue 10).
    service_policies: dict[tuple[str, int], SlaPolicy] = field(default_factory=dict)

    # Lookups by name: the store's catalogue may hold thousands of services and 50,000 CIs.
    @functools.cached_property
    def _by_name(self) -> dict[str, dict[str, Any]]:
        return {"category": {c.name: c for c in self.categories}, "service": {s.name: s for s in self.services},
                "group": {g.name: g for g in self.groups}, "user": {u.name: u for u in self.users}}

    @functools.cached_property
    def item_services(self) -> dict[str, str]:
        """Every active configuration item → its service."""
        return {ci: s.name for s in self.services for ci in s.configuration_items}

    @functools.cached_property
    def item_names(self) -> tuple[str, ...]:
        """Every active configuration item, sorted (completion bisects it)."""
        return tuple(sorted(self.item_services))

    def category(self, name: str) -> Category | None:
        return self._by_name["category"].get(name)

    def service(self, name: str) -> Service | None:
        return self._by_name["service"].get(name)

    def group(self, name: str) -> Group | None:
        return self._by_name["group"].get(name)

    def user(self, name: str) -> User | None:
        return self._by_name["user"].get(name)

    def policy(self, severity: int, service: str = "") -> SlaPolicy:
        """The SLA policy for `severity`: the service's own where it has one, else the severity's."""
        severity = check_severity(severity)
        if service and self.service_policies:
            found = self.service_policies.get((service, severity))
            if found is not None:
                return found
        return self.policies[severity]

    def policies_for(self, service: str) -> dict[int, SlaPolicy]:
        """Every severity's policy as it applies to incidents on `service`."""
        if not service or not self.service_policies:
            return self.policies
        return {severity: self.policy(severity, service) for severity in self.policies}

    def widest_policies(self) -> dict[int, SlaPolicy]:
        """Per severity, the policy (the severity's or a service's own) whose resolution warning comes
        longest before its due time: the SLA scheduler's look-ups wake for the earliest one."""
        widest = dict(self.policies)
        for (_service, severity), policy in self.service_policies.items():
            current = widest[severity]
            if policy.resolution * (1 - policy.warning_fraction) > current.resolution * (1 - current.warning_fraction):
                widest[severity] = policy
        return widest

    def is_confidential(self, category: str) -> bool:
        found = self.category(category)
        return found is not None and found.confidential


def _load_priority(data_dir: Path) -> tuple[PriorityMatrix, dict[int, str]]:
    file = DataFile(data_dir, "priority.toml")
    data = file.toml()
    rows = data.get("matrix")
    try:
        if not isinstance(rows, list) or not all(isinstance(r, list) for r in rows):
            raise ValidationError("`matrix` must be 3 lists of 3 severities, one list per impact")
        matrix = PriorityMatrix(tuple(tuple(r) for r in rows))
    except ValidationError as exc:
        raise file.error(f"matrix: {exc}", file.line_of(r"matrix\s*=")) from exc
    names = dict(SEVERITY_NAMES)
    for severity, entry in severity_tables(file, data).items():
        names[severity] = entry.get("name")
    return matrix, names


def _load_categories(data_dir: Path) -> tuple[Category, ...]:
    file = DataFile(data_dir, "categories.toml")
    categories = tuple(
        Category(e.get("name"), e.get("subcategories", tuple, []), e.get("confidential", bool, False))
        for e in file.entries("category")
    )
    return categories


def _load_people(data_dir: Path) -> tuple[tuple[Group, ...], tuple[User, ...]]:
    file = DataFile(data_dir, "groups.toml")
    user_entries = file.entries("user")
    users = tuple(
        User(e.get("name"), e.get("full_name", str, ""), e.get("email", str, ""),
             Role(e.pick("role", [r.value for r in Role], default="responder")), e.get("groups", tuple, []))
        for e in user_entries
    )
    groups = []
    for e in file.entries("group"):
        group = Group(e.get("name"), e.get("description", str, ""), e.get("shift_lead", str, ""),
                      e.get("members", tuple, []))
        for person in group.members + ((group.shift_lead,) if group.shift_lead else ()):
            e.choice(person, (u.name for u in users), "user")
        groups.append(group)
    for e, user in zip(user_entries, users):
        for name in user.groups:
            e.choice(name, (g.name for g in groups), "group")
        member_of = sorted(g.name for g in groups if user.name in g.members)
        if member_of != sorted(user.groups):
            raise e.error(f"groups {sorted(user.groups)} disagree with the groups that list "
                          f"{user.name!r} as a member {member_of}; make the two agree")
    return tuple(groups), users


def _load_services(data_dir: Path, group_names: set[str]) -> tuple[Service, ...]:
    file = DataFile(data_dir, "services.csv")
    reader = csv.DictReader(file.text.splitlines())
    columns = ["name", "description", "owner_group", "configuration_items"]
    if reader.fieldnames != columns:
        raise file.error(f"the header must be {','.join(columns)}", 1)
    services = []
    for row in reader:
        entry = Entry(file, row, f"service {row.get('name')!r}", reader.line_num)
        if None in row or None in row.values():
            raise entry.error(f"expected {len(columns)} columns; quote a value that contains a comma")
        if not row["name"].strip():
            raise entry.error("the service has no name; fill in the first column")
        owner = entry.choice(row["owner_group"].strip(), group_names, "owner group")
        items = tuple(ci.strip() for ci in row["configuration_items"].split(";") if ci.strip())
        services.append(Service(row["name"].strip(), row["description"].strip(), owner, items))
    if not services:
        raise file.error("no services; add a row per service")
    names = [s.name for s in services]
    if len(set(names)) != len(names):
        raise file.error(f"service {next(n for n in names if names.count(n) > 1)!r} is listed twice; keep one")
    return tuple(services)


def _load_resolution_codes(data_dir: Path) -> dict[str, str]:
    file = DataFile(data_dir, "resolution_codes.toml")
    tables = file.toml().get("code", {})
    codes = {
        code: Entry(file, {}, f"[code.{code}]", partial(file.table_line, f"code.{code}")).nested(table).get("label")
        for code, table in (tables.items() if isinstance(tables, dict) else ())
    }
    if not codes:
        raise file.error('no resolution codes; add tables like [code.fixed] label = "Fixed"')
    return codes


@dataclass(frozen=True)
class _Known:
    """Names that routing rules and demo templates may refer to."""

    categories: dict[str, Category]
    groups: set[str]
    services: set[str]
    codes: set[str]

    def classify(self, entry: Entry) -> tuple[str, str, str]:
        category = entry.pick("category", self.categories)
        sub = entry.pick("subcategory", self.categories[category].subcategories, f"subcategory of {category}")
        return category, sub, entry.pick("group", self.groups)


def _load_routing(data_dir: Path, known: _Known) -> tuple[RoutingRule, ...]:
    file = DataFile(data_dir, "routing.toml")
    rules = []
    for e in file.entries("rule"):
        keywords, services = e.get("keywords", tuple, []), e.get("services", tuple, [])
        if not keywords and not services:
            raise e.error("give keywords or services, or the rule never matches")
        for service in services:
            e.choice(service, known.services, "service")
        rules.append(RoutingRule(e.get("name"), keywords, services, *known.classify(e), e.get("reason", str, "")))
    return tuple(rules)


def _demo_template(e: Entry, known: _Known) -> DemoTemplate:
    levels = [e.choice(e.get(key, int), LEVELS, f"{key} (1 high … 3 low)") for key in ("impact", "urgency")]
    notes = []
    for table in e.get("diagnosis", list, []):
        note = e.nested(table)
        kind = NoteKind(note.pick("kind", [k.value for k in NoteKind], "diagnosis kind"))
        status = None
        if kind is NoteKind.HYPOTHESIS or "status" in table:
            status = HypothesisStatus(note.pick("status", [s.value for s in HypothesisStatus], "hypothesis status", "open"))
        notes.append(DemoNote(kind, note.get("text"), status))
    resolution = None
    if "resolution" in e.table:
        res = e.nested(e.table["resolution"])
        resolution = DemoResolution(res.pick("code", known.codes, "resolution code"), res.get("notes"),
                                    res.get("tested", str, ""), res.get("communication", str, ""))
    category, subcategory, group = known.classify(e)
    return DemoTemplate(
        e.get("title"), e.get("description"), category, subcategory, e.pick("service", known.services),
        e.get("ci", str, ""), levels[0], levels[1], Source(e.pick("source", [s.value for s in Source])),
        group, e.get("reporter"), e.get("department", str, ""), e.get("contact", str, ""),
        tuple(notes), resolution,
    )


def _load_demo(data_dir: Path, known: _Known) -> tuple[DemoTemplate, ...]:
    return tuple(_demo_template(e, known) for e in DataFile(data_dir, "demo_incidents.toml").entries("incident"))


@functools.lru_cache(maxsize=None)
def _load(data_dir: Path) -> ReferenceData:
    matrix, severity_names = _load_priority(data_dir)
    policies = load_policies(data_dir)  # with their calendars: sla.py
    categories = _load_categories(data_dir)
    groups, users = _load_people(data_dir)
    group_names = {g.name for g in groups}
    services = _load_services(data_dir, group_names)
    codes = _load_resolution_codes(data_dir)
    known = _Known({c.name: c for c in categories}, group_names, {s.name for s in services}, set(codes))
    return ReferenceData(
        matrix, severity_names, policies, categories, groups, users, services, codes,
        _load_routing(data_dir, known), _load_demo(data_dir, known), load_escalation(data_dir),
    )


def load_reference(data_dir: Path = DATA_DIR) -> ReferenceData:
    """The reference data in `data_dir`, read once per directory; raises ReferenceError."""
    return _load(Path(data_dir).resolve())
