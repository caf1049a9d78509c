"""The catalogue's tables: reading them as a `Catalogue`, writing a `Plan` in bulk with one
hash-chained `catalogue_event` per change, verifying that chain, and building the `ReferenceData`
the rest of eim reads (active services and CIs only, SLA targets from the store).

The catalogue chain's head is the one row of `catalogue_head`. It is also the "seeded" marker: a
store whose catalogue chain has begun is never seeded from data/ again.
"""

from __future__ import annotations

import hashlib
import json
from collections import defaultdict
from dataclasses import replace
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import bindparam, delete, func, insert, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from eim_tui.domain.escalation import EscalationRule, Recipient, Trigger
from eim_tui.domain.model import Category, Group, Role, Service, User
from eim_tui.reference.catalogue import ENTITIES, Catalogue, Change, Plan, sla_key
from eim_tui.reference.data import ReferenceData, RoutingRule
from eim_tui.store.tables import (
    CatalogueEventRow,
    CatalogueHeadRow,
    CategoryRow,
    ConfigurationItemRow,
    EscalationRuleRow,
    GroupMemberRow,
    GroupRow,
    IncidentRow,
    RoutingRuleRow,
    ServiceRow,
    ServiceSlaRow,
    SlaPolicyRow,
    SubcategoryRow,
    UserRow,
)

HEAD_ID = 1
GENESIS = "0" * 64


# --- reading -------------------------------------------------------------------------------------


def read(session: Session, with_cis: bool = True) -> Catalogue:
    """The whole catalogue, retired services and CIs included (`with_cis=False`: without CIs)."""
    cat = Catalogue()
    members: dict[str, list[str]] = defaultdict(list)
    for group, user in session.execute(select(GroupMemberRow.group_name, GroupMemberRow.user_name)):
        members[group].append(user)
    for row in session.execute(select(GroupRow)).scalars():
        cat.of("group")[row.name] = {"name": row.name, "description": row.description or "",
                                     "shift_lead": row.shift_lead or "", "members": sorted(members[row.name])}
    subs: dict[str, list[str]] = defaultdict(list)
    for category, name in session.execute(select(SubcategoryRow.category, SubcategoryRow.name)):
        subs[category].append(name)
    for row in session.execute(select(CategoryRow)).scalars():
        cat.of("category")[row.name] = {"name": row.name, "confidential": bool(row.confidential),
                                        "subcategories": sorted(subs[row.name])}
    for name, description, owner, retired in session.execute(
            select(ServiceRow.name, ServiceRow.description, ServiceRow.owner_group, ServiceRow.retired_at)):
        cat.of("service")[name] = {"name": name, "description": description or "", "owner_group": owner or "",
                                   "retired": retired is not None}
    ci_columns = (ConfigurationItemRow.name, ConfigurationItemRow.service, ConfigurationItemRow.kind,
                  ConfigurationItemRow.owner_group, ConfigurationItemRow.attributes, ConfigurationItemRow.retired_at)
    for name, service, kind, owner, attributes, retired in (session.execute(select(*ci_columns)) if with_cis else ()):
        cat.of("ci")[name] = {"name": name, "service": service, "kind": kind or "", "owner_group": owner or "",
                              "attributes": attributes or {}, "retired": retired is not None}
    for row in session.execute(select(SlaPolicyRow)).scalars():
        cat.of("sla")[sla_key(row.severity)] = {"severity": row.severity, "service": "",
                                                "response": row.response_seconds, "resolution": row.resolution_seconds}
    for row in session.execute(select(ServiceSlaRow)).scalars():
        cat.of("sla")[sla_key(row.severity, row.service)] = {
            "severity": row.severity, "service": row.service, "response": row.response_seconds,
            "resolution": row.resolution_seconds}
    for row in session.execute(select(RoutingRuleRow).order_by(RoutingRuleRow.position)).scalars():
        cat.of("routing")[row.name] = {"name": row.name, "position": row.position, "keywords": list(row.keywords),
                                       "services": list(row.services), "category": row.category,
                                       "subcategory": row.subcategory, "group": row.group_name, "reason": row.reason}
    for row in session.execute(select(EscalationRuleRow).order_by(EscalationRuleRow.position)).scalars():
        cat.of("escalation")[row.name] = {
            "name": row.name, "position": row.position, "when": row.trigger, "severities": list(row.severities),
            "after": row.after_seconds, "notify": list(row.notify), "reach": list(row.reach),
            "mark_escalated": bool(row.mark_escalated), "raise_severity": bool(row.raise_severity),
            "reason": row.reason or ""}
    return cat


def cis(session: Session, name: str | None = None, service: str | None = None, prefix: str = "",
        include_retired: bool = False) -> list[dict[str, Any]]:
    """Configuration items by name, service and/or name prefix (indexed: not the whole table)."""
    query = select(ConfigurationItemRow)
    if name is not None:
        query = query.where(ConfigurationItemRow.name == name)
    if service is not None:
        query = query.where(ConfigurationItemRow.service == service)
    if prefix:
        query = query.where(func.lower(ConfigurationItemRow.name).startswith(prefix.lower(), autoescape=True))
    if not include_retired:
        query = query.where(ConfigurationItemRow.retired_at.is_(None))
    return [{"name": r.name, "service": r.service, "kind": r.kind or "", "owner_group": r.owner_group or "",
             "attributes": r.attributes or {}, "retired": r.retired_at is not None}
            for r in session.execute(query.order_by(ConfigurationItemRow.name)).scalars()]


def user_names(session: Session) -> set[str]:
    return set(session.execute(select(UserRow.name)).scalars())


def reference(session: Session, base: ReferenceData) -> ReferenceData:
    """`base` (the shipped files: matrix, calendars, codes, templates) with everything the store
    owns taken from the store: the rest of eim reads this as `svc.ref`."""
    cat = read(session, with_cis=False)
    items: dict[str, list[str]] = defaultdict(list)
    active_cis = select(ConfigurationItemRow.name, ConfigurationItemRow.service).where(
        ConfigurationItemRow.retired_at.is_(None))
    for name, service in session.execute(active_cis):  # names only: 50,000 of them load in a fraction of a second
        items[service].append(name)
    # The seed's order first (the forms list them so), then what was added since, by name.
    services = tuple(Service(s["name"], s["description"], s["owner_group"], tuple(sorted(items[s["name"]])))
                     for s in _in_base_order(cat.active("service"), [s.name for s in base.services]))
    seed_members = {g.name: list(g.members) for g in base.groups}
    groups = tuple(Group(g["name"], g["description"], g["shift_lead"],
                         tuple(_ordered(g["members"], seed_members.get(g["name"], []))))
                   for g in _in_base_order(cat.of("group"), [g.name for g in base.groups]))
    seed_subs = {c.name: list(c.subcategories) for c in base.categories}
    categories = tuple(Category(c["name"], tuple(_ordered(c["subcategories"], seed_subs.get(c["name"], []))),
                                c["confidential"])
                       for c in _in_base_order(cat.of("category"), [c.name for c in base.categories]))
    member_of: dict[str, list[str]] = defaultdict(list)
    for group in groups:
        for member in group.members:
            member_of[member].append(group.name)
    rows = {row.name: row for row in session.execute(select(UserRow)).scalars()}
    users = tuple(User(row.name, row.full_name or "", row.email or "", _role(row.role), tuple(sorted(member_of[row.name])))
                  for row in (rows[n] for n in _ordered(list(rows), [u.name for u in base.users])))
    policies = dict(base.policies)
    service_policies = {}
    for target in cat.of("sla").values():
        severity = target["severity"]
        if severity not in policies:
            continue
        policy = replace(policies[severity], response=timedelta(seconds=target["response"]),
                         resolution=timedelta(seconds=target["resolution"]))
        if target["service"]:
            service_policies[(target["service"], severity)] = policy
        else:
            policies[severity] = policy
    for (service, severity), policy in list(service_policies.items()):
        # A service's own targets keep the severity's calendar and warning point.
        service_policies[(service, severity)] = replace(policies[severity], response=policy.response,
                                                        resolution=policy.resolution)
    rules = tuple(RoutingRule(r["name"], tuple(r["keywords"]), tuple(r["services"]), r["category"], r["subcategory"],
                              r["group"], r["reason"])
                  for r in sorted(cat.of("routing").values(), key=lambda r: r["position"]))
    escalation = tuple(
        EscalationRule(r["name"], Trigger(r["when"]), frozenset(r["severities"]), timedelta(seconds=r["after"]),
                       tuple(Recipient(n) for n in r["notify"]), r["mark_escalated"], r["raise_severity"], r["reason"],
                       tuple(r["reach"]))
        for r in sorted(cat.of("escalation").values(), key=lambda r: r["position"]))
    return replace(base, categories=categories, groups=groups, users=users, services=services, policies=policies,
                   routing_rules=rules, service_policies=service_policies, escalation_rules=escalation)


def _role(text: str) -> Role:
    try:
        return Role(text)
    except ValueError:
        return Role.RESPONDER


def _ordered(names: list[str], order: list[str]) -> list[str]:
    rank = {name: n for n, name in enumerate(order)}
    return sorted(names, key=lambda name: (rank.get(name, len(rank)), name))


def _in_base_order(categories: dict[str, dict[str, Any]], order: list[str]) -> list[dict[str, Any]]:
    rank = {name: n for n, name in enumerate(order)}
    return sorted(categories.values(), key=lambda c: (rank.get(c["name"], len(rank)), c["name"]))


def marker(session: Session) -> int:
    """The catalogue's change marker: its chain's length (0 before the store was seeded)."""
    return session.execute(select(CatalogueHeadRow.seq).where(CatalogueHeadRow.id == HEAD_ID)).scalar() or 0


def open_incidents(session: Session, service: str | None = None, ci: str | None = None,
                   limit: int = 200) -> list[tuple[int, str, int, str, str, str]]:
    """Open incidents on a service or CI, newest first: (number, title, priority, state, service, CI)."""
    query = select(IncidentRow.id, IncidentRow.title, IncidentRow.priority, IncidentRow.state,
                   IncidentRow.service, IncidentRow.configuration_item).where(IncidentRow.is_open.is_(True))
    if service is not None:
        query = query.where(IncidentRow.service == service)
    if ci is not None:
        query = query.where(IncidentRow.configuration_item == ci)
    return [tuple(r) for r in session.execute(query.order_by(IncidentRow.id.desc()).limit(limit))]


def incident_counts(session: Session, column: str) -> dict[str, int]:
    """How many open incidents each service (column "service") or CI ("configuration_item") has."""
    col = getattr(IncidentRow, column)
    rows = session.execute(select(col, func.count()).where(IncidentRow.is_open.is_(True)).group_by(col))
    return {name: count for name, count in rows if name}


def history(session: Session, entity: str, name: str) -> list[dict[str, Any]]:
    rows = session.execute(select(CatalogueEventRow).where(CatalogueEventRow.entity == entity,
                                                           CatalogueEventRow.name == name)
                           .order_by(CatalogueEventRow.seq)).scalars()
    return [{"seq": r.seq, "at": r.at.isoformat(), "actor": r.actor, "kind": r.kind, "data": r.data} for r in rows]


# --- writing -------------------------------------------------------------------------------------


def write(session: Session, plan: Plan, at: datetime, actor: str) -> None:
    """Carry out every change of `plan` and record each in the catalogue chain, in the caller's
    transaction (so a plan is applied whole or not at all)."""
    by: dict[tuple[str, str], list[Change]] = defaultdict(list)
    for change in plan.changes:
        by[(change.entity, change.kind)].append(change)
    for entity in ENTITIES:
        _WRITERS[entity](session, {kind: by.get((entity, kind), []) for kind in ("added", "changed", "retired", "removed")}, at)
    append(session, [(c.kind, c.entity, c.name, _event_data(c)) for c in plan.changes], at, actor)


def _event_data(change: Change) -> dict[str, Any]:
    if change.kind == "added":
        return {"after": change.after}
    if change.kind == "changed":
        return {"fields": {k: [change.before.get(k), change.after.get(k)] for k in change.fields_changed()}}  # type: ignore[union-attr]
    return {}


def _groups(session: Session, changes: dict[str, list[Change]], _at: datetime) -> None:
    added, changed = changes["added"], changes["changed"]
    if added:
        session.execute(insert(GroupRow.__table__), [{"name": c.name, "description": c.after["description"],
                                            "shift_lead": c.after["shift_lead"]} for c in added])
    if changed:
        table = GroupRow.__table__  # Core: an executemany UPDATE keyed by name
        session.execute(update(table).where(table.c.name == bindparam("k")).values(
            description=bindparam("d"), shift_lead=bindparam("s")),
            [{"k": c.name, "d": c.after["description"], "s": c.after["shift_lead"]} for c in changed])
        session.execute(delete(GroupMemberRow).where(GroupMemberRow.group_name.in_([c.name for c in changed])))
    members = [{"group_name": c.name, "user_name": m} for c in added + changed for m in c.after["members"]]
    if members:
        session.execute(insert(GroupMemberRow.__table__), members)


def _categories(session: Session, changes: dict[str, list[Change]], _at: datetime) -> None:
    added, changed = changes["added"], changes["changed"]
    if added:
        session.execute(insert(CategoryRow.__table__), [{"name": c.name, "confidential": c.after["confidential"]} for c in added])
    for c in changed:
        session.execute(update(CategoryRow).where(CategoryRow.name == c.name).values(confidential=c.after["confidential"]))
        dropped = set(c.before["subcategories"]) - set(c.after["subcategories"])
        if dropped:
            session.execute(delete(SubcategoryRow).where(SubcategoryRow.category == c.name,
                                                         SubcategoryRow.name.in_(dropped)))
    subs = [{"category": c.name, "name": s} for c in added + changed
            for s in c.after["subcategories"] if c.before is None or s not in c.before["subcategories"]]
    if subs:
        session.execute(insert(SubcategoryRow.__table__), subs)


def _services(session: Session, changes: dict[str, list[Change]], at: datetime) -> None:
    if changes["added"]:
        session.execute(insert(ServiceRow.__table__), [{"name": c.name, "description": c.after["description"],
                                              "owner_group": c.after["owner_group"], "retired_at": None}
                                             for c in changes["added"]])
    rows = [{"k": c.name, "d": c.after["description"], "o": c.after["owner_group"],
             "r": at if c.after.get("retired") else None} for c in changes["changed"] + changes["retired"]]
    if rows:
        table = ServiceRow.__table__
        session.execute(update(table).where(table.c.name == bindparam("k")).values(
            description=bindparam("d"), owner_group=bindparam("o"), retired_at=bindparam("r")), rows)


def _cis(session: Session, changes: dict[str, list[Change]], at: datetime) -> None:
    if changes["added"]:
        session.execute(insert(ConfigurationItemRow.__table__), [
            {"name": c.name, "service": c.after["service"], "kind": c.after["kind"],
             "owner_group": c.after["owner_group"], "attributes": c.after["attributes"], "retired_at": None}
            for c in changes["added"]])
    rows = [{"k": c.name, "s": c.after["service"], "kd": c.after["kind"], "o": c.after["owner_group"],
             "a": c.after["attributes"], "r": at if c.after.get("retired") else None}
            for c in changes["changed"] + changes["retired"]]
    if rows:
        table = ConfigurationItemRow.__table__
        session.execute(update(table).where(table.c.name == bindparam("k")).values(
            service=bindparam("s"), kind=bindparam("kd"), owner_group=bindparam("o"), attributes=bindparam("a"),
            retired_at=bindparam("r")), rows)


def _sla(session: Session, changes: dict[str, list[Change]], _at: datetime) -> None:
    for c in changes["added"] + changes["changed"]:
        target = c.after
        if target["service"]:
            table, where = ServiceSlaRow, (ServiceSlaRow.service == target["service"],
                                           ServiceSlaRow.severity == target["severity"])
        else:
            table, where = SlaPolicyRow, (SlaPolicyRow.severity == target["severity"],)
        values = {"response_seconds": target["response"], "resolution_seconds": target["resolution"]}
        if c.kind == "changed":
            session.execute(update(table).where(*where).values(**values))
        elif target["service"]:
            session.execute(insert(ServiceSlaRow).values(service=target["service"], severity=target["severity"], **values))
        else:
            session.execute(insert(SlaPolicyRow).values(
                severity=target["severity"], name=target.get("label", f"Sev{target['severity']}"),
                warning_fraction=target.get("warning", 0.75), **values))
    for c in changes["removed"]:
        session.execute(delete(ServiceSlaRow).where(ServiceSlaRow.service == c.before["service"],
                                                    ServiceSlaRow.severity == c.before["severity"]))


def _routing(session: Session, changes: dict[str, list[Change]], _at: datetime) -> None:
    gone = [c.name for c in changes["removed"] + changes["changed"]]
    if gone:
        session.execute(delete(RoutingRuleRow).where(RoutingRuleRow.name.in_(gone)))
    rows = [{"name": c.name, "position": c.after["position"], "keywords": c.after["keywords"],
             "services": c.after["services"], "category": c.after["category"], "subcategory": c.after["subcategory"],
             "group_name": c.after["group"], "reason": c.after["reason"]} for c in changes["added"] + changes["changed"]]
    if rows:
        session.execute(insert(RoutingRuleRow.__table__), rows)


def _escalation(session: Session, changes: dict[str, list[Change]], _at: datetime) -> None:
    gone = [c.name for c in changes["removed"] + changes["changed"]]
    if gone:
        session.execute(delete(EscalationRuleRow).where(EscalationRuleRow.name.in_(gone)))
    rows = [{"name": c.name, "position": c.after["position"], "trigger": c.after["when"],
             "severities": c.after["severities"], "after_seconds": c.after["after"], "notify": c.after["notify"],
             "reach": c.after["reach"], "mark_escalated": c.after["mark_escalated"],
             "raise_severity": c.after["raise_severity"], "reason": c.after["reason"]}
            for c in changes["added"] + changes["changed"]]
    if rows:
        session.execute(insert(EscalationRuleRow.__table__), rows)


_WRITERS = {"group": _groups, "category": _categories, "service": _services, "ci": _cis, "sla": _sla,
            "routing": _routing, "escalation": _escalation}


def add_users(session: Session, users: list[User]) -> None:
    """Users the seed's groups name, added when the store does not have them yet."""
    have = user_names(session)
    rows = [{"name": u.name, "full_name": u.full_name, "email": u.email, "role": u.role.value}
            for u in users if u.name not in have]
    if rows:
        session.execute(insert(UserRow.__table__), rows)


# --- the chain -----------------------------------------------------------------------------------


def lock_head(session: Session) -> CatalogueHeadRow:
    """The catalogue chain's head, created if need be and locked for this transaction."""
    head = session.execute(select(CatalogueHeadRow).where(CatalogueHeadRow.id == HEAD_ID).with_for_update()).scalar_one_or_none()
    if head is None:
        dialect = session.get_bind().dialect.name
        insert_head = (postgresql.insert if dialect == "postgresql" else sqlite.insert)(CatalogueHeadRow)
        session.execute(insert_head.values(id=HEAD_ID, seq=0, hash=GENESIS).on_conflict_do_nothing(index_elements=["id"]))
        head = session.execute(select(CatalogueHeadRow).where(CatalogueHeadRow.id == HEAD_ID).with_for_update()).scalar_one()
    return head


def event_hash(seq: int, at: datetime, actor: str, kind: str, entity: str, name: str, data: Any, prev: str) -> str:
    body = json.dumps([seq, at.isoformat(), actor, kind, entity, name, data, prev], sort_keys=True,
                      separators=(",", ":"), default=str, ensure_ascii=False)
    return hashlib.sha256(body.encode()).hexdigest()


def append(session: Session, events: list[tuple[str, str, str, dict[str, Any]]], at: datetime, actor: str) -> None:
    """Append (kind, entity, name, data) events at the end of the catalogue chain."""
    if not events:
        return
    head = lock_head(session)
    seq, prev = head.seq, head.hash
    rows = []
    for kind, entity, name, data in events:
        seq += 1
        # `data` holds entities' fields: JSON values already (text, numbers, booleans, lists, dicts).
        digest = event_hash(seq, at, actor, kind, entity, name, data, prev)
        rows.append({"seq": seq, "at": at, "actor": actor, "kind": kind, "entity": entity, "name": name,
                     "data": data, "prev_hash": prev, "hash": digest})
        prev = digest
    for start in range(0, len(rows), 5000):
        session.execute(insert(CatalogueEventRow.__table__), rows[start:start + 5000])
    session.execute(update(CatalogueHeadRow).where(CatalogueHeadRow.id == HEAD_ID).values(seq=seq, hash=prev))


def verify(session: Session, batch: int = 5000) -> tuple[bool, int, str]:
    """(intact, events checked, what is wrong) for the catalogue chain."""
    prev, expected, count = GENESIS, 1, 0
    while True:
        rows = session.execute(select(CatalogueEventRow).where(CatalogueEventRow.seq >= expected)
                               .order_by(CatalogueEventRow.seq).limit(batch)).scalars().all()
        if not rows:
            break
        for row in rows:
            where = f"catalogue event {row.seq} ({row.entity} {row.name}, {row.kind})"
            if row.seq != expected:
                return False, count, f"catalogue event {expected} is missing (next is {row.seq})"
            if row.prev_hash != prev:
                return False, count, f"{where} does not link to the event before it"
            if event_hash(row.seq, row.at, row.actor, row.kind, row.entity, row.name, row.data, row.prev_hash) != row.hash:
                return False, count, f"{where} was altered after it was written"
            prev, expected, count = row.hash, row.seq + 1, count + 1
        session.expunge_all()
    head = session.get(CatalogueHeadRow, HEAD_ID)
    if head is not None and (head.seq != count or head.hash != prev):
        return False, count, f"the catalogue chain head says {head.seq} events but {count} were found"
    return True, count, ""
