"""The organisation's catalogue as use cases: `svc.catalogue`.

Reading (anyone): `service(name)`, `services()`, `ci(name)`, `cis(service=…)`, `group(name)`,
`groups()`, `categories()`, `sla()`, `routing()`, `route(text, service)`, `open_incidents(…)`,
`history(entity, name)`, `export()`. Each entity is a plain dict (see `reference.catalogue`).

Changing (admins; while the store has no admin, anyone): every change is one transaction that
checks the whole resulting catalogue (a CI needs an active service, an owner a group, …) and
records each change in the catalogue's hash-chained history. `apply_file` takes a catalog.toml
whole or not at all; `import_cis` does the same for a CMDB export.

`reference()` is what the rest of eim reads as `svc.ref`: the shipped files with the store's
catalogue laid over them, cached per process. It never waits for the store once loaded (the TUI
reads it on its event loop): when `REFRESH_S` has passed it hands back what it has and a
background thread checks the catalogue's marker and, if it moved, reads the catalogue again. A
change made by this process is read back at once, in the thread that made it.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING, Any

from eim_tui.domain.access import is_system_actor
from eim_tui.domain.errors import NotFoundError, PermissionDenied, ValidationError
from eim_tui.domain.model import Role
from eim_tui.reference.catalogue import (
    Catalogue,
    Entity,
    Plan,
    check_references,
    diff,
    sla_key,
    unknown,
)
from eim_tui.reference.catalogue_file import read_catalogue_file, write_catalogue_file
from eim_tui.reference.data import ReferenceData, RoutingRule
from eim_tui.store import catalogue as stored
from eim_tui.store import users as store_users

if TYPE_CHECKING:
    from eim_tui.domain.clock import Clock
    from eim_tui.store.engine import Database

REFRESH_S = 1.0  # how stale another process's catalogue change may be here (the TUI's own poll is 1 s)
HOW_TO_ADD = {"service": "eim services add NAME --owner-group GROUP", "ci": "eim cis add NAME --service SERVICE",
              "group": "eim groups add NAME", "category": "eim categories add NAME", "routing": "eim routing add NAME …"}


class CatalogueCases:
    def __init__(self, db: Database, files: ReferenceData, clock: Clock) -> None:
        self.db = db
        self.files = files  # the shipped data/: the seed, and what the store does not hold (matrix, calendars…)
        self.clock = clock
        self._lock = threading.Lock()
        self._cached: ReferenceData | None = None
        self._marker = -1
        self._checked = 0.0
        self._refreshing = False

    # --- what the rest of eim reads ------------------------------------------------------------

    def reference(self) -> ReferenceData:
        cached = self._cached
        if cached is None:
            return self._load()
        if time.monotonic() - self._checked >= REFRESH_S and not self._refreshing:
            self._refreshing = True
            self._checked = time.monotonic()
            threading.Thread(target=self._refresh, name="eim-catalogue-refresh", daemon=True).start()
        return cached

    def _load(self, force: bool = False) -> ReferenceData:
        with self._lock:
            with self.db.read() as session:
                marker = stored.marker(session)
                if marker == 0:  # never seeded (a store opened without bootstrap): the files are all there is
                    self._cached = self.files
                elif force or marker != self._marker or self._cached is None:
                    self._cached = stored.reference(session, self.files)
            self._marker, self._checked = marker, time.monotonic()
            return self._cached

    def _refresh(self) -> None:
        try:
            self._load()
        except Exception:  # the store is away: keep what we have; the next look tries again
            pass
        finally:
            self._refreshing = False

    def forget(self) -> None:
        """Read the catalogue again now (after a change this process made)."""
        self._load(force=True)

    def marker(self) -> int:
        with self.db.read() as session:
            return stored.marker(session)

    # --- reading -------------------------------------------------------------------------------

    def snapshot(self, with_cis: bool = True) -> Catalogue:
        with self.db.read() as session:
            return stored.read(session, with_cis)

    def service(self, name: str) -> Entity | None:
        return self.snapshot(with_cis=False).of("service").get(name)

    def services(self, include_retired: bool = False) -> list[Entity]:
        cat = self.snapshot(with_cis=False)
        found = cat.of("service") if include_retired else cat.active("service")
        return sorted(found.values(), key=lambda e: e["name"])

    def ci(self, name: str) -> Entity | None:
        with self.db.read() as session:
            found = stored.cis(session, name=name, include_retired=True)
        return found[0] if found else None

    def cis(self, service: str | None = None, include_retired: bool = False, prefix: str = "") -> list[Entity]:
        with self.db.read() as session:
            return stored.cis(session, service=service, prefix=prefix, include_retired=include_retired)

    def group(self, name: str) -> Entity | None:
        return self.snapshot(with_cis=False).of("group").get(name)

    def groups(self) -> list[Entity]:
        return sorted(self.snapshot(with_cis=False).of("group").values(), key=lambda e: e["name"])

    def categories(self) -> list[Entity]:
        return sorted(self.snapshot(with_cis=False).of("category").values(), key=lambda e: e["name"])

    def sla(self, service: str | None = None) -> list[Entity]:
        targets = self.snapshot(with_cis=False).of("sla").values()
        return sorted((t for t in targets if service is None or t["service"] in ("", service)),
                      key=lambda t: (t["service"], t["severity"]))

    def routing(self) -> list[Entity]:
        return sorted(self.snapshot(with_cis=False).of("routing").values(), key=lambda r: r["position"])

    def escalation(self) -> list[Entity]:
        return sorted(self.snapshot(with_cis=False).of("escalation").values(), key=lambda r: r["position"])

    def route(self, text: str, service: str = "") -> tuple[RoutingRule | None, str]:
        """The rule that would route `text` (an alert's or incident's words) on `service`, and why."""
        for rule in self.reference().routing_rules:
            if service and service in rule.services:
                return rule, f"the service is {service!r}, one of the rule's services"
            lowered = text.lower()
            hit = next((k for k in rule.keywords if k.lower() in lowered), None)
            if hit is not None:
                return rule, f"the text contains {hit!r}"
        return None, "no rule's keywords occur in the text and no rule names the service"

    def open_incidents(self, service: str | None = None, ci: str | None = None, limit: int = 200) -> list[tuple]:
        with self.db.read() as session:
            return stored.open_incidents(session, service, ci, limit)

    def open_counts(self) -> tuple[dict[str, int], dict[str, int]]:
        """Open incidents per service and per CI."""
        with self.db.read() as session:
            return stored.incident_counts(session, "service"), stored.incident_counts(session, "configuration_item")

    def history(self, entity: str, name: str) -> list[dict[str, Any]]:
        with self.db.read() as session:
            return stored.history(session, entity, name)

    def verify(self) -> tuple[bool, int, str]:
        with self.db.read() as session:
            return stored.verify(session)

    def export(self) -> str:
        return write_catalogue_file(self.snapshot())

    def check_new_service(self, name: str) -> None:
        """Refuse a service a new incident may not name: unknown or retired, with the closest names."""
        ref = self.reference()
        if ref.service(name) is None:
            found = self.service(name)
            if found is not None and found["retired"]:
                raise ValidationError(f"service {name!r} is retired: new incidents cannot name it "
                                      f"(an admin can bring it back with eim services set {name} --restore)")
            raise unknown("service", name, [s.name for s in ref.services], HOW_TO_ADD["service"])

    # --- changing ------------------------------------------------------------------------------

    def commit(self, actor: str, build: Callable[[Catalogue], Plan], lines: dict[tuple[str, str], int] | None = None,
               filename: str = "", dry_run: bool = False, before_writing: Callable[[Plan], None] | None = None) -> Plan:
        """Build a plan against the catalogue as it is inside one write transaction, check the
        catalogue it leads to, hand it to `before_writing` (the command line prints the diff), and
        (unless `dry_run`) carry it out with its history."""
        with self.db.write() as session:
            if not dry_run:
                self._may_change(session, actor)
            current = stored.read(session)
            plan = build(current)
            problems = check_references(current.after(plan), stored.user_names(session))
            if problems:
                entity, name, problem = _first_in_file(problems, lines or {})
                line = (lines or {}).get((entity, name))
                where = f"{filename}:{line}: " if filename and line else f"{filename}: " if filename else ""
                raise ValidationError(f"{where}{entity} {name}: {problem}")
            if before_writing is not None:
                before_writing(plan)
            if not dry_run and plan.changes:
                stored.write(session, plan, self.clock.now(), actor)
        if not dry_run and plan.changes:
            self.forget()
        return plan

    def edit(self, actor: str, kind: str, name: str, change: Callable[[Entity | None], Entity | None],
             also: Callable[[Catalogue, Entity | None], dict[str, dict[str, Entity | None]]] | None = None) -> Plan:
        """One entity changed by `change(before) -> after` (None removes it), and whatever `also`
        adds (e.g. a retired service's CIs), as one transaction."""
        def build(current: Catalogue) -> Plan:
            after = change(current.of(kind).get(name))
            wanted: dict[str, dict[str, Entity | None]] = {kind: {name: after}}
            for more_kind, more in (also(current, after) if also else {}).items():
                wanted.setdefault(more_kind, {}).update(more)
            return Plan(diff(current, wanted, owned=()).changes)
        return self.commit(actor, build)

    def retire(self, actor: str, kind: str, name: str) -> Plan:
        """Retire a service (with its active CIs) or a CI: kept for history, offered to no new incident."""
        def retired(before: Entity | None) -> Entity:
            known = ([n for n, e in self.snapshot(with_cis=kind == "ci").of(kind).items() if not e.get("retired")]
                     if before is None else [])
            found = require(before, kind, name, known)
            if found.get("retired"):
                raise ValidationError(f"{kind} {name!r} is retired already")
            return {**found, "retired": True}

        def its_cis(current: Catalogue, _after: Entity | None) -> dict[str, dict[str, Entity | None]]:
            if kind != "service":
                return {}
            return {"ci": {n: {**c, "retired": True} for n, c in current.active("ci").items() if c["service"] == name}}
        return self.edit(actor, kind, name, retired, also=its_cis)

    def apply_file(self, actor: str, text: str, filename: str = "catalog.toml", dry_run: bool = False,
                   before_writing: Callable[[Plan], None] | None = None) -> Plan:
        """Make the store's catalogue what the file says (see `reference.catalogue_file`)."""
        wanted, lines = read_catalogue_file(text, filename)
        return self.commit(actor, lambda current: diff(current, wanted, lines), lines, filename, dry_run,
                           before_writing)

    def import_cis(self, actor: str, rows: list[tuple[int, Entity]], filename: str) -> Plan:
        """Add or update configuration items (never retire): `rows` are (line, entity)."""
        wanted: dict[str, Entity | None] = {}
        lines: dict[tuple[str, str], int] = {}
        for line, entity in rows:
            if entity["name"] in wanted:
                raise ValidationError(f"{filename}:{line}: CI {entity['name']!r} is listed twice "
                                      f"(first at line {lines[('ci', entity['name'])]}); keep one")
            wanted[entity["name"]] = entity
            lines[("ci", entity["name"])] = line
        return self.commit(actor, lambda current: Plan(diff(current, {"ci": wanted}, lines, owned=()).changes),
                           lines, filename)

    def _may_change(self, session, actor: str) -> None:
        if is_system_actor(actor) or store_users.admin_count(session) == 0:
            return
        user = store_users.get_user(session, actor)
        if user is None or user.role is not Role.ADMIN:
            role = "unknown to the store" if user is None else f"a {user.role.value.replace('_', ' ')}"
            raise PermissionDenied(f"changing the catalogue is for admins; {actor} is {role} "
                                   "(an admin can run: eim users set NAME --role admin)")


def _first_in_file(problems: list[tuple[str, str, str]], lines: dict[tuple[str, str], int]) -> tuple[str, str, str]:
    """The problem earliest in the file (those without a line come after)."""
    return min(problems, key=lambda p: lines.get((p[0], p[1]), 10**9))


def require(entity: Entity | None, kind: str, name: str, known: Iterable[str]) -> Entity:
    if entity is None:
        raise NotFoundError(str(unknown(kind, name, known, HOW_TO_ADD.get(kind, "eim catalog apply"))))
    return entity


__all__ = ["HOW_TO_ADD", "CatalogueCases", "require", "sla_key"]
