"""A batch of stored payloads applied with a handful of statements: the receiver's hot path.

`AlertIntake.process_batch` runs a group commit's payloads in one transaction. Applied one by one
(`AlertIntake.process`), each payload costs a read of its alerts and incidents and, per unit, an
incident insert or update, a number, timeline rows, alert rows and the payload's mark — some
fifteen statements a payload. `BatchApplier` plans the whole batch in memory instead, in the order
received, against what one read of the batch's alerts and incidents found, moving that picture on
as each unit is planned (so a repeat of an alert first seen earlier in the batch counts on the
incident the batch opens for it). Then it writes it all at once: one number allocation for every
new incident, one insert of incidents, timeline (the chain appended once), state visits, alert
rows, one guarded update per alert row and per changed incident, one update marking the payloads.

Only the common outcomes are planned so: a new incident (outside a maintenance window), an alert
counting, joining or noting on an open incident, an alert tracked or skipped. A payload that needs
anything else (resolving — which reads the incident's other alerts —, reopening, a linked incident,
a maintenance window, a reference that does not check) is applied by the one-by-one path, at its
place in the order: what was planned before it is written first, and the picture read again after.
The planning is the same pure code (`AlertPlanner.next_unit`) and the incident changes the same
domain functions as the one-by-one path; if the writes find the store changed by someone else (a
version, an alert row), the caller undoes the batch and applies it one by one, which retries.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy.orm import Session

from eim_tui.domain import alerts as rules
from eim_tui.domain import events
from eim_tui.domain.access import required_actions
from eim_tui.domain.alert_plan import (
    PayloadStatus,
    Snapshot,
    Step,
    Unit,
    incident_report,
)
from eim_tui.domain.alerts import Alert, AlertStatus, Outcome, StoredAlert
from eim_tui.domain.model import Incident
from eim_tui.services.changes import maintenance_window
from eim_tui.services.incidents import created_event
from eim_tui.store import inbound, repository, timeline

log = logging.getLogger("eim.ingest")

ACTOR = "ingest"  # a system actor: the timeline says which monitoring system sent what


@dataclass(slots=True)
class Processed:
    payload_id: int
    status: str
    incidents: list[int] = field(default_factory=list)
    outcomes: list[str] = field(default_factory=list)
    error: str = ""


def count(step: Step) -> int:
    """How many times the alert was received, this time included."""
    return max(1, (step.stored.count if step.stored else 0) + (1 if step.alert.status is AlertStatus.FIRING else 0))


def received(step: Step, payload_id: int) -> events.EventDraft:
    return rules.received_event(step.alert, payload_id, count(step), step.decision.reason)


def one_line(exc: BaseException) -> str:
    """One line for a log: eim's own errors already speak to the reader; others get their type."""
    from eim_tui.domain.errors import DomainError

    text = str(exc).strip().splitlines()
    if text and isinstance(exc, DomainError):
        return text[0]
    return f"{type(exc).__name__}: {text[0]}" if text else type(exc).__name__

# A new incident's number until the flush allocates the real ones: above every real number, so a
# group's incidents sort as they will (the oldest first), and in the order they were opened.
PROVISIONAL = 1 << 62

# Outcomes planned in memory; any other sends its payload down the one-by-one path.
IN_MEMORY = frozenset({Outcome.OPEN, Outcome.UPDATE, Outcome.JOIN, Outcome.NOTE, Outcome.TRACK, Outcome.SKIP})


class OneByOne(Exception):
    """This payload needs the one-by-one path."""


class BatchApplier:
    def __init__(self, intake: Any, session: Session) -> None:
        """`intake`: the `AlertIntake` whose batch this is (its planner, services and one-unit rules)."""
        self.intake, self.svc, self.session = intake, intake.svc, session
        self.now = self.svc.clock.now()
        self._windows: dict[tuple[str, str, str], bool] = {}
        self._reset()

    def _reset(self) -> None:
        self.stored: dict[tuple[str, str], StoredAlert] = {}  # (source, dedup key) → the row as planned so far
        self.read: dict[int, Incident] = {}  # incidents as read (the guard of their update)
        self.incidents: dict[int, Incident] = {}  # as planned so far; new ones under provisional numbers
        self.changes: dict[int, int] = {}  # stored incident → changes planned on it
        self.new: list[int] = []  # provisional numbers, in the order opened
        self.lines: list[tuple[int, events.EventDraft | None]] = []  # timeline, in order (None: a "logged" line)
        self.inserts: dict[tuple[str, str], dict[str, Any]] = {}  # new alert rows
        self.updates: dict[tuple[str, str], tuple[StoredAlert, dict[str, Any]]] = {}  # row read → values
        self.finished: list[Processed] = []  # planned, marked processed at the flush

    # --- the batch ------------------------------------------------------------------------------

    def run(
        self, work: list[tuple[int, list[Alert] | None]], one: Callable[[int, list[Alert] | None], Processed],
    ) -> list[Processed | Exception]:
        outcomes: list[Processed | Exception] = []
        self._load(work)
        for index, (payload_id, alerts) in enumerate(work):
            planned = self._try(payload_id, alerts)
            if planned is not None:
                outcomes.append(planned)
                continue
            self.flush()
            try:
                with self.svc.db.write():  # a savepoint: a payload that raises is undone alone
                    outcomes.append(one(payload_id, alerts))
            except Exception as exc:  # noqa: BLE001 - left pending; the others go on
                log.warning("payload %s left pending: %s", payload_id, one_line(exc))
                outcomes.append(exc)
            self._load(work[index + 1:])
        self.flush()
        return outcomes

    def _load(self, work: list[tuple[int, list[Alert] | None]]) -> None:
        """Read the batch's alerts and their incidents (after a flush: nothing is left planned)."""
        self._reset()
        keys: dict[str, set[str]] = {}
        for _, alerts in work:
            for alert in alerts or ():
                keys.setdefault(alert.source, set()).add(alert.dedup_key)
        if not keys:
            return
        with self.svc.db.read() as session:
            for source, wanted in keys.items():
                for key, row in inbound.find_alerts(session, source, list(wanted)).items():
                    self.stored[(source, key)] = row
            numbers = {row.incident_number for row in self.stored.values() if row.incident_number is not None}
            self.read = repository.get_incidents(session, numbers) if numbers else {}
        self.incidents = dict(self.read)

    def _try(self, payload_id: int, alerts: list[Alert] | None) -> Processed | None:
        """The payload planned in memory, or None (nothing of it kept) when it needs the one-by-one path."""
        if not alerts:
            return None
        mark = (dict(self.stored), dict(self.incidents), dict(self.changes), len(self.new), len(self.lines),
                dict(self.inserts), dict(self.updates))
        try:
            return self._plan(payload_id, alerts)
        except Exception as exc:  # noqa: BLE001 - the one-by-one path decides (failed, rejected, retried)
            if not isinstance(exc, OneByOne):
                log.debug("payload %s goes one by one: %r", payload_id, exc)
            stored, incidents, changes, new, lines, inserts, updates = mark
            self.stored, self.incidents, self.changes, self.inserts, self.updates = stored, incidents, changes, inserts, updates
            del self.new[new:], self.lines[lines:]
            return None

    def _plan(self, payload_id: int, alerts: list[Alert]) -> Processed:
        source = alerts[0].source
        if any(a.source != source for a in alerts):
            raise OneByOne("alerts of several sources")
        keys = [a.dedup_key for a in alerts]
        result = Processed(payload_id, PayloadStatus.PROCESSED)
        remaining = list(alerts)
        while remaining:
            stored = {k: row for k in keys if (row := self.stored.get((source, k))) is not None}
            numbers = {row.incident_number for row in stored.values() if row.incident_number is not None}
            snapshot = Snapshot(stored, {n: self.incidents[n] for n in numbers if n in self.incidents})
            unit = self.intake.planner.next_unit(remaining, keys, snapshot, payload_id)
            number = self._unit(unit, payload_id)
            result.outcomes.extend(s.decision.outcome.value for s in unit.steps)
            if number is not None and number not in result.incidents:
                result.incidents.append(number)
            remaining = remaining[len(unit.steps):]
        self.finished.append(result)
        return result

    def _unit(self, unit: Unit, payload_id: int) -> int | None:
        """Plan one unit as `AlertIntake._execute` would apply it; the incident it concerned."""
        first = unit.steps[0]
        out = unit.outcome
        if any(s.decision.outcome not in IN_MEMORY for s in unit.steps):
            raise OneByOne(out.value)
        if out is Outcome.SKIP:
            return first.decision.incident
        if out is Outcome.TRACK:
            self._record(unit, payload_id, first.decision.incident)
            return first.decision.incident
        if out is Outcome.OPEN:
            routing = self.intake.planner.route(first.routing_alert)
            if first.alert.status is AlertStatus.FIRING and self._in_window(routing):
                raise OneByOne("a maintenance window")
            line = (received(first, payload_id) if first.alert.status is not AlertStatus.RESOLVED
                    else rules.resolved_event(first.alert, payload_id, 1, None))
            incident = self.svc.prepare_incident(incident_report(first.alert, routing, self.now, None), ACTOR, self.now)
            number = PROVISIONAL + len(self.new)
            self.new.append(number)
            self.incidents[number] = incident.replace(number=number, version=1)
            self.lines += [(number, None), (number, line)]
            self._record(unit, payload_id, number)
            return number
        before = self.incidents[first.decision.incident]
        apply, extra = self.intake._batch(unit, payload_id)  # no step resolves: it reads nothing
        after = apply(before, self.now)
        drafts = events.change_events(before, after) + list(extra)
        if drafts:
            matrix = self.svc.ref.matrix.priority(after.impact, after.urgency)
            self.svc.access.authorize(ACTOR, required_actions(before, after, matrix), before.key)
            self.incidents[before.number] = after.replace(version=before.version + 1, updated_at=self.now)
            if before.number < PROVISIONAL:  # a new one is inserted as it ends up
                self.changes[before.number] = self.changes.get(before.number, 0) + 1
            self.lines += [(before.number, draft) for draft in drafts]
        self._record(unit, payload_id, before.number)
        return before.number

    def _in_window(self, routing) -> bool:
        key = (routing.service, routing.configuration_item, routing.during_change)
        if key not in self._windows:
            self._windows[key] = maintenance_window(self.svc, routing) is not None
        return self._windows[key]

    def _record(self, unit: Unit, payload_id: int, number: int | None) -> None:
        """The alert rows of a unit, as `AlertIntake._execute`'s `record` writes them."""
        for step in unit.steps:
            key = (step.alert.source, step.alert.dedup_key)
            if step.stored is None:
                values = inbound.alert_row(step.alert, number, payload_id, self.now)
                self.inserts[key] = values
            else:
                values = inbound.alert_changes(step.stored, step.alert, number, payload_id, self.now)
                if key in self.inserts:
                    self.inserts[key] = {**self.inserts[key], **values}
                else:
                    read, before = self.updates.get(key, (step.stored, {}))
                    self.updates[key] = (read, {**before, **values})
            self.stored[key] = inbound.stored_after(step.stored, step.alert, values)

    # --- writing what was planned ---------------------------------------------------------------

    def flush(self) -> None:
        """Write everything planned so far, in the caller's transaction; raises (ConflictError,
        IntegrityError) when the store changed under the plan: the caller undoes the batch."""
        if not self.finished:
            return
        session, now = self.session, self.now
        numbers: dict[int, int] = {}
        if self.new:
            first = repository.allocate_numbers(session, len(self.new))
            numbers = {provisional: first + i for i, provisional in enumerate(self.new)}

        def real(number: int | None) -> int | None:
            return numbers.get(number, number) if number is not None else None

        opened = [self.incidents[p].replace(number=numbers[p]) for p in self.new]
        repository.insert_numbered(session, opened, self.svc.ref.policies_for)
        alerts_only = []
        for number, count in self.changes.items():
            before, after = self.read[number], self.incidents[number]
            if repository.only_alerts_changed(before, after):
                alerts_only.append((before, after, count))
            else:
                repository.save_incident(session, before, after, self.svc.ref.policies_for(after.service), now,
                                         changes=count)
        repository.save_alert_changes(session, alerts_only, self.svc.ref.policies_for, now)
        by_number = {i.number: i for i in opened}
        lines = []
        for number, draft in self.lines:
            kind, summary, data = draft if draft is not None else created_event(by_number[numbers[number]])
            lines.append(timeline.NewEvent(real(number), kind, summary, data))
        timeline.append(session, lines, now, ACTOR)
        inbound.insert_alerts(session, [{**row, "incident_id": real(row["incident_id"])} for row in self.inserts.values()])
        inbound.update_alerts(session, [(read, inbound.what_changed(read, {**values, "incident_id": real(values["incident_id"])}))
                                        for read, values in self.updates.values()])
        inbound.finish_payloads(session, [p.payload_id for p in self.finished], PayloadStatus.PROCESSED, now)
        for processed in self.finished:
            processed.incidents = list(dict.fromkeys(real(n) for n in processed.incidents))
        self._reset()
