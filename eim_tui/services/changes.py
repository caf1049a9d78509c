"""Change management use cases: change records, their life, caused-by links, maintenance windows,
recent changes on an incident, and the change failure rate.

Each use case is one transaction that also writes the change's hash-chained timeline (and, when it
touches an incident, the incident's timeline). `ChangeCases(svc)` wraps a `Services`, so the
command line, the screens and the alert receiver share one set of rules.
"""

from __future__ import annotations

import difflib
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from dataclasses import replace as dc_replace
from datetime import datetime

from sqlalchemy.orm import Session

from eim_tui.domain.access import Action
from eim_tui.domain.alert_plan import Routing
from eim_tui.domain.changes import (
    Change,
    ChangeLink,
    ChangeState,
    ChangeStep,
    Relation,
    ServiceFailureRate,
    advance,
    check_title,
    check_window,
    parse_risk,
)
from eim_tui.domain.clock import ensure_utc
from eim_tui.domain.errors import ConflictError, ValidationError
from eim_tui.domain.events import EventDraft
from eim_tui.domain.intake import NewIncident
from eim_tui.domain.model import EventKind, HoldReason, Incident, State
from eim_tui.domain.sla import start_pause
from eim_tui.services.incidents import Services
from eim_tui.store import changes as stored
from eim_tui.store.alert_links import incident_links
from eim_tui.store.changes import ChangeEvent
from eim_tui.store.timeline import ChainReport

__all__ = ["ChangeCases", "ChangeDetails", "ChangeEvent", "MaintenanceWindow", "maintenance_window"]


@dataclass(frozen=True, slots=True)
class ChangeDetails:
    change: Change
    events: list[ChangeEvent]
    incidents: list[tuple[int, Relation]]


class ChangeCases:
    def __init__(self, svc: Services) -> None:
        self.svc = svc

    # --- reading ---------------------------------------------------------------------------------

    def get(self, number: int) -> Change:
        with self.svc.db.read() as session:
            return stored.get_change(session, number)

    def details(self, number: int) -> ChangeDetails:
        with self.svc.db.read() as session:
            change = stored.get_change(session, number)
            return ChangeDetails(change, stored.events_of(session, number), stored.incidents_of_change(session, number))

    def list(self, states: Sequence[ChangeState] = (), service: str = "", limit: int | None = 200) -> list[Change]:
        with self.svc.db.read() as session:
            return stored.list_changes(session, states, service, limit)

    def recent_on(self, service: str, ci: str) -> list[Change]:
        """Changes on a service or CI that ran in the last 24 hours (in progress ones too)."""
        with self.svc.db.read() as session:
            return stored.recent_on(session, service, ci, self.svc.clock.now())

    def in_progress_on(self, service: str, ci: str) -> list[Change]:
        with self.svc.db.read() as session:
            return stored.in_progress_on(session, service, ci)

    def links_of(self, incident: int) -> list[ChangeLink]:
        with self.svc.db.read() as session:
            return stored.links_of_incident(session, incident)

    def alert_links(self, incident: int) -> dict[str, str]:
        """The dashboard, panel, silence and runbook links the incident's alerts carried."""
        with self.svc.db.read() as session:
            return incident_links(session, incident)

    def report(self) -> list[ServiceFailureRate]:
        with self.svc.db.read() as session:
            return stored.failure_rates(session)

    def verify(self) -> ChainReport:
        with self.svc.db.read() as session:
            return stored.verify(session)

    # --- a change's life ---------------------------------------------------------------------------

    def create(
        self, actor: str, title: str, start: datetime, end: datetime, risk: str, services: Sequence[str] = (),
        cis: Sequence[str] = (), owner: str = "", description: str = "",
    ) -> Change:
        title = check_title(title)
        start, end = ensure_utc(start), ensure_utc(end)
        check_window(start, end)
        level = parse_risk(risk)
        services = _unique(services)
        cis = _unique(cis)
        if not services and not cis:
            raise ValidationError("say what the change affects: --service NAME and/or --ci NAME")
        for name in services:
            self._check_service(name)
        for name in cis:
            self._check_ci(name)
        self.svc.access.authorize(actor, [Action.CHANGE], "a change record")
        now = self.svc.clock.now()
        draft = Change(0, title, start, end, level, ChangeState.PLANNED, description.strip(), owner.strip() or actor,
                       tuple(services), tuple(cis), created_at=now, created_by=actor)
        with self.svc.db.write() as session:
            change = stored.insert_change(session, draft)
            summary = f"planned {change.key}: {title} ({level.value} risk)"
            stored.append_events(session, change.number, [("created", summary, {
                "window": [start, end], "services": list(services), "cis": list(cis), "owner": change.owner,
            })], now, actor)
        return change

    def start(self, actor: str, number: int, note: str = "", expected_version: int | None = None) -> Change:
        return self._step(actor, number, ChangeStep.START, note, expected_version)

    def complete(self, actor: str, number: int, note: str = "", expected_version: int | None = None) -> Change:
        return self._step(actor, number, ChangeStep.COMPLETE, note, expected_version)

    def fail(self, actor: str, number: int, reason: str, expected_version: int | None = None) -> Change:
        return self._step(actor, number, ChangeStep.FAIL, reason, expected_version)

    def cancel(self, actor: str, number: int, reason: str, expected_version: int | None = None) -> Change:
        return self._step(actor, number, ChangeStep.CANCEL, reason, expected_version)

    def _step(self, actor: str, number: int, step: ChangeStep, note: str, expected_version: int | None) -> Change:
        self.svc.access.authorize(actor, [Action.CHANGE], "a change record")
        now = self.svc.clock.now()
        with self.svc.db.write() as session:
            before = stored.get_change(session, number, for_update=True)
            if expected_version is not None and before.version != expected_version:
                raise ConflictError(before.key, expected_version, before.version)
            after = advance(before, step, now, note)
            saved = stored.save_state(session, before, after)
            summary = f"state {before.state.label} → {after.state.label}" + (f" — {note.strip()}" if note.strip() else "")
            stored.append_events(session, number, [("state_changed", summary, {
                "old": before.state.value, "new": after.state.value, "note": note.strip(),
            })], now, actor)
        return saved

    # --- incidents and changes -----------------------------------------------------------------------

    def link_caused_by(
        self, actor: str, incident: int, change_number: int, expected_version: int | None = None
    ) -> Incident:
        """Record that `change_number` caused `incident`: the incident's change reference names it,
        both timelines say so, one transaction. Linking it twice is refused with what is there."""
        change = self.get(change_number)

        def apply(i: Incident, now: datetime) -> Incident:
            return i.replace(change_ref=change.key)

        def also(session: Session, after: Incident) -> None:
            now = self.svc.clock.now()
            if not stored.link_incident(session, change.number, after.number, Relation.CAUSED_BY, now):
                raise ValidationError(f"{after.key} is already linked as caused by {change.key}")
            stored.append_events(session, change.number, [
                ("incident_linked", f"caused {after.key}: {after.title}", {"incident": after.key, "relation": "caused_by"})
            ], now, actor)

        return self.svc.change(incident, actor, apply, expected_version, also=also)

    # --- the catalogue's names ----------------------------------------------------------------------

    def _check_service(self, name: str) -> None:
        if self.svc.ref.service(name) is None:
            known = [s.name for s in self.svc.ref.services]
            raise ValidationError(f"unknown service {name!r}; {_closest(name, known)}see eim services list")

    def _check_ci(self, name: str) -> None:
        known = [ci for s in self.svc.ref.services for ci in s.configuration_items]
        if name not in known:
            raise ValidationError(f"unknown configuration item {name!r}; {_closest(name, known)}see eim cis list")


@dataclass(frozen=True, slots=True)
class MaintenanceWindow:
    """The changes in progress an alert's new incident falls into, and what that does to it:
    its description and timeline say "during CHG-…"; where its routing rule says
    `during_change = "hold"`, it opens on hold awaiting change, so its SLA does not run and
    nobody is paged for planned work."""

    changes: tuple[Change, ...]
    hold: bool

    @property
    def keys(self) -> str:
        return ", ".join(c.key for c in self.changes)

    def report(self, report: NewIncident) -> NewIncident:
        lines = "\n".join(f"During {c.key} (in progress): {c.title}" for c in self.changes)
        return dc_replace(report, description=f"{report.description}\n\n{lines}".strip())

    def events(self) -> list[EventDraft]:
        what = "put on hold awaiting change" if self.hold else "not held (its routing rule does not say during_change = \"hold\")"
        titles = "; ".join(f"{c.key} {c.title}" for c in self.changes)
        return [(EventKind.LINKED, f"during {self.keys} (in progress): {what} — {titles}",
                 {"during": [c.key for c in self.changes], "held": self.hold})]

    def shape(self, incident: Incident, now: datetime) -> Incident:
        if not self.hold:
            return incident
        return start_pause(incident.replace(state=State.ON_HOLD, hold_reason=HoldReason.AWAITING_CHANGE,
                                            hold_note=f"during {self.keys}"), now)

    def also(self, record: Callable[[Session, Incident], None], actor: str) -> Callable[[Session, Incident], None]:
        """`record`, then the links from the changes to the new incident, in its transaction."""

        def both(session: Session, incident: Incident) -> None:
            record(session, incident)
            at = incident.reported_at
            for change in self.changes:
                if stored.link_incident(session, change.number, incident.number, Relation.DURING, at):
                    stored.append_events(session, change.number, [
                        ("incident_linked", f"{incident.key} opened during the change: {incident.title}",
                         {"incident": incident.key, "relation": "during", "held": self.hold})
                    ], at, actor)

        return both


def maintenance_window(svc: Services, routing: Routing) -> MaintenanceWindow | None:
    """The window an alert routed so falls into now, or None when no change is in progress on
    its service or configuration item."""
    if not routing.service and not routing.configuration_item:
        return None
    with svc.db.read() as session:
        changes = stored.in_progress_on(session, routing.service, routing.configuration_item)
    if not changes:
        return None
    return MaintenanceWindow(tuple(changes), routing.during_change == "hold")


def _unique(names: Sequence[str]) -> list[str]:
    out: list[str] = []
    for name in names:
        text = name.strip()
        if text and text not in out:
            out.append(text)
    return out


def _closest(name: str, known: Sequence[str]) -> str:
    near = difflib.get_close_matches(name, known, n=2)
    return f"did you mean {' or '.join(repr(n) for n in near)}? " if near else ""
