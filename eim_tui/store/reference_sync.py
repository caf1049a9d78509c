"""Seeding a store's catalogue from the shipped reference data (data/*.toml, *.csv), once.

The files seed a **new** store; after that the store is the truth, changed only with eim's
catalogue commands. Seeding happens once per store — when its catalogue chain (`catalogue_head`)
has not begun — and only adds what the store lacks, so a store upgraded from before the catalogue
keeps every row it had (and gains the routing rules that used to live only in data/routing.toml;
the escalation rules of data/escalation.toml came with migration 0009 to stores seeded before it).
What an administrator later removes or changes is never put back by `eim db upgrade` or by opening.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.orm import Session

from eim_tui.reference.catalogue import ENTITIES, Plan, diff, sla_key
from eim_tui.reference.data import ReferenceData
from eim_tui.store import catalogue


def seed_catalogue(session: Session, ref: ReferenceData, at: datetime, actor: str = "system") -> bool:
    """Add the seed's catalogue to a store whose catalogue was never seeded; True if it was now."""
    head = catalogue.lock_head(session)
    if head.seq > 0:
        return False
    catalogue.add_users(session, list(ref.users))
    current = catalogue.read(session)
    wanted = seed_entities(ref)
    # Only additions: a store upgraded from before the catalogue keeps its rows as they are.
    plan = Plan(tuple(c for c in diff(current, wanted, owned=()).changes if c.kind == "added"))
    catalogue.write(session, plan, at, actor)
    counts = {kind: sum(1 for c in plan.changes if c.entity == kind) for kind in ENTITIES}
    catalogue.append(session, [("seeded", "catalogue", "data/", {"added": counts})], at, actor)
    return True


def seed_entities(ref: ReferenceData) -> dict[str, dict[str, dict]]:
    """The reference files' catalogue as entities."""
    members = {g.name: set(g.members) for g in ref.groups}
    for user in ref.users:
        for group in user.groups:
            members.setdefault(group, set()).add(user.name)
    wanted: dict[str, dict[str, dict]] = {kind: {} for kind in ENTITIES}
    for g in ref.groups:
        wanted["group"][g.name] = {"name": g.name, "description": g.description, "shift_lead": g.shift_lead,
                                   "members": sorted(members[g.name])}
    for c in ref.categories:
        wanted["category"][c.name] = {"name": c.name, "confidential": c.confidential,
                                      "subcategories": sorted(c.subcategories)}
    for s in ref.services:
        wanted["service"][s.name] = {"name": s.name, "description": s.description, "owner_group": s.owner_group,
                                     "retired": False}
        for ci in s.configuration_items:
            wanted["ci"].setdefault(ci, {"name": ci, "service": s.name, "kind": "", "owner_group": "",
                                         "attributes": {}, "retired": False})
    for p in ref.policies.values():
        wanted["sla"][sla_key(p.severity)] = {"severity": p.severity, "service": "",
                                              "response": int(p.response.total_seconds()),
                                              "resolution": int(p.resolution.total_seconds()),
                                              "label": p.name, "warning": p.warning_fraction}
    for n, r in enumerate(ref.routing_rules, 1):
        wanted["routing"][r.name] = {"name": r.name, "position": n, "keywords": list(r.keywords),
                                     "services": list(r.services), "category": r.category,
                                     "subcategory": r.subcategory, "group": r.group, "reason": r.reason}
    for n, e in enumerate(ref.escalation_rules, 1):
        wanted["escalation"][e.name] = {
            "name": e.name, "position": n, "when": e.trigger.value, "severities": sorted(e.severities),
            "after": int(e.after.total_seconds()), "notify": [r.value for r in e.notify], "reach": list(e.reach),
            "mark_escalated": e.mark_escalated, "raise_severity": e.raise_severity, "reason": e.reason}
    return wanted
