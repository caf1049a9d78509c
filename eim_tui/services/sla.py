"""SLA use cases: record each warning, breach and escalation once, as the scheduler finds them due.

`SlaService(services)` finds the incidents with a moment in a window (indexed look-ups, see
`store/sla_queries.py`), reads each under a row lock, asks the domain for its moments, and records
those that have come: `record_sla_event` appends an SLA warning or breach, `escalate` appends an
escalation and applies the rule (marked escalated, severity raised). Both go through
`timeline.append_once` with the moment's key, so however many schedulers race, the unique index
lets one of them write it and the others find it written.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from eim_tui.domain import events
from eim_tui.domain.collab import IncidentRole
from eim_tui.domain.escalation import EscalationRule, Kind, Recipient, SlaMoment, escalated, moments, recipients
from eim_tui.domain.events import show
from eim_tui.domain.model import EventKind, Incident, TimelineEvent
from eim_tui.domain.sla_alerts import AlertEvent
from eim_tui.store import collab as collab_rows
from eim_tui.store import repository, sla_queries, timeline

if TYPE_CHECKING:
    # Only a type: `Services` is built from the services modules (audit.py uses ACTOR from here).
    from eim_tui.services.incidents import Services

ACTOR = "scheduler"  # a system actor (domain.access.SYSTEM_ACTORS)
# Moments older than this when a scheduler first sees them are history, not news: a store opened
# after a long pause does not fill its timelines with breaches nobody could have acted on.
DEFAULT_LOOKBACK = timedelta(hours=24)
# Moments per transaction (a batch ends with the incident that reaches it): each batch holds the
# write lock for about 25 ms, so an alert arriving mid-sweep waits for at most one (300 held it
# for 75 ms; the alert receiver's p99 during a 1,000-escalation storm is the figure), and a quit
# waits for at most one.
BATCH = 100
READ_CHUNK = 500  # incidents per plain read, looking for what is new (a stop is asked after each)


@dataclass(frozen=True, slots=True)
class Processed:
    recorded: list[Recorded]
    next_at: datetime | None  # the earliest later moment of the incidents read
    complete: bool = True  # False: stopped at a batch boundary, with moments left to record


@dataclass(frozen=True, slots=True)
class Recorded:
    """A moment this process wrote into the timeline (another process may have written others)."""

    moment: SlaMoment
    event: TimelineEvent
    recipients: tuple[str, ...] = ()


class SlaService:
    def __init__(self, services: Services) -> None:
        self.svc = services
        self._sources_for: tuple[Any, ...] | None = None
        self._sources: Any = None
        self._named: tuple[tuple[EscalationRule, ...], dict[str, EscalationRule]] = ((), {})

    @property
    def ref(self):
        return self.svc.ref  # the store's catalogue, kept current (services/catalogue.py)

    @property
    def rules(self) -> tuple[EscalationRule, ...]:
        """The escalation rules as the store's catalogue says now (`eim catalog apply` changes them)."""
        return tuple(getattr(self.ref, "escalation_rules", ()))

    @property
    def _rules_by_name(self) -> dict[str, EscalationRule]:
        rules = self.rules  # asked once per moment recorded: built again only when the rules change
        if rules is not self._named[0]:
            self._named = (rules, {r.name: r for r in rules})
        return self._named[1]

    @property
    def sources(self):
        """The look-ups for what falls due, for the earliest warning of each severity (a service's
        own targets included) and every rule's delay: built again when the catalogue's targets or
        rules change, so a rule added or shortened is found without a restart."""
        ref = self.ref
        key = (ref.widest_policies(), self.rules)
        if key != self._sources_for:
            self._sources = sla_queries.build_sources(key[0], key[1])
            self._sources_for = key
        return self._sources

    # --- planning ------------------------------------------------------------------------------

    def candidates(self, lo: datetime, hi: datetime) -> set[int]:
        with self.svc.db.read() as session:
            return sla_queries.candidates(session, self.sources, lo, hi)

    def next_instant(self, after: datetime) -> datetime | None:
        with self.svc.db.read() as session:
            return sla_queries.next_instant(session, self.sources, after)

    def moments_of(self, incident: Incident) -> list[SlaMoment]:
        return moments(incident, self.ref.policy(incident.priority, incident.service), self.rules)

    def alert_events_since(self, seq: int, user: str, upto: int | None = None) -> list[AlertEvent]:
        """SLA and escalation events in (seq, upto], oldest first, with their incident's people."""
        with self.svc.db.read() as session:
            return sla_queries.alert_events_since(session, seq, user, upto=upto)

    # --- recording -----------------------------------------------------------------------------

    def process(self, numbers: Iterable[int], until: datetime, horizon: datetime,
                stop: Callable[[], bool] | None = None) -> Processed:
        """Record every moment in (horizon, until] of these incidents that is not recorded yet.

        The incidents are read in plain reads of `READ_CHUNK`, so those with nothing new never take
        the write lock; what is new is recorded in batches of about `BATCH` moments, each one
        transaction: the rows locked in number order, read again, the recorded keys looked up at
        once, every event appended in one insert and the escalated incidents updated together.
        Should another scheduler slip one in first (the unique index refuses the batch), that
        batch is redone one moment at a time, each through `append_once`.

        `stop` is asked before each read and each batch: when it says so, the work ends there, at
        a batch boundary, with `complete` False — every batch written is whole, and what is left
        is found unrecorded by the next run (the once-keys make a second pass record nothing twice).
        """
        done: list[Recorded] = []
        upcoming: datetime | None = None
        wanted = sorted(set(numbers))
        queued: list[int] = []  # incidents with something new, waiting for a batch
        queued_moments = 0
        for start in range(0, len(wanted), READ_CHUNK):
            if stop is not None and stop():
                return Processed(done, upcoming, complete=False)
            with self.svc.db.read() as session:
                due, later = self._due(sla_queries.read_incidents(session, wanted[start : start + READ_CHUNK]),
                                       until, horizon)
                known = sla_queries.recorded_keys(session, _keys(due))
            if later is not None and (upcoming is None or later < upcoming):
                upcoming = later
            new = Counter(i.number for i, m in due if not _recorded(m, known))
            for number in sorted(new):
                queued.append(number)
                queued_moments += new[number]
                if queued_moments >= BATCH:
                    if stop is not None and stop():
                        return Processed(done, upcoming, complete=False)
                    done.extend(self._record_batch(queued, until, horizon))
                    queued, queued_moments = [], 0
        if queued:
            if stop is not None and stop():
                return Processed(done, upcoming, complete=False)
            done.extend(self._record_batch(queued, until, horizon))
        return Processed(done, upcoming)

    def pending(self, numbers: Iterable[int], until: datetime, horizon: datetime) -> list[SlaMoment]:
        """The moments in (horizon, until] of these incidents that the timeline does not hold:
        what a complete run up to `until` leaves nothing of (a read only; for checks and tests)."""
        missing: list[SlaMoment] = []
        wanted = sorted(set(numbers))
        for start in range(0, len(wanted), READ_CHUNK):
            with self.svc.db.read() as session:
                due, _ = self._due(sla_queries.read_incidents(session, wanted[start : start + READ_CHUNK]),
                                   until, horizon)
                known = sla_queries.recorded_keys(session, _keys(due))
            missing.extend(m for _, m in due if not _recorded(m, known))
        return missing

    def _record_batch(self, numbers: list[int], until: datetime, horizon: datetime) -> list[Recorded]:
        """One transaction: these incidents' new moments, recorded together."""
        with self.svc.db.write() as session:
            due, _ = self._due(sla_queries.lock_incidents(session, numbers), until, horizon)
            known = sla_queries.recorded_keys(session, _keys(due))
            todo = [(i, m) for i, m in due if not _recorded(m, known)]
            if not todo:
                return []
            try:
                with session.begin_nested():
                    return self._record_together(session, todo)
            except IntegrityError:
                return self._record_one_by_one(session, todo)

    def _due(self, incidents: Iterable[Incident], until: datetime, horizon: datetime
             ) -> tuple[list[tuple[Incident, SlaMoment]], datetime | None]:
        """The moments in (horizon, until], and the earliest one after `until`."""
        due: list[tuple[Incident, SlaMoment]] = []
        upcoming: datetime | None = None
        for incident in incidents:
            for moment in self.moments_of(incident):
                if moment.at > until:
                    upcoming = moment.at if upcoming is None else min(upcoming, moment.at)
                    break  # in time order: the rest are later still
                if moment.at > horizon:
                    due.append((incident, moment))
        return due, upcoming

    def _record_together(self, session: Session, todo: list[tuple[Incident, SlaMoment]]) -> list[Recorded]:
        now = self.svc.clock.now()
        drafts: list[timeline.NewEvent] = []
        marks: list[tuple[int, SlaMoment, tuple[str, ...]]] = []
        current: dict[int, Incident] = {}
        first: dict[int, Incident] = {}
        commanders = self._commanders(session, {i.number for i, m in todo if m.kind is Kind.ESCALATION})
        for incident, moment in todo:
            # Every moment comes from the incident as first read, so an escalation that changes it
            # (a raised severity moves the due instants) cannot hide a sibling due at the same instant.
            state = current.get(incident.number, incident)
            if moment.kind is Kind.ESCALATION:
                event, after, people = self._escalation_event(state, moment, commanders.get(incident.number, ""))
                marks.append((len(drafts), moment, people))
                drafts.append(event)
                if after != state:
                    first.setdefault(incident.number, incident)
                    current[incident.number] = after
                    drafts.extend(timeline.NewEvent(incident.number, k, text, d)
                                  for k, text, d in events.change_events(state, after))
            else:
                marks.append((len(drafts), moment, ()))
                drafts.append(self._sla_event(state, moment))
        # Each escalated incident is written once, with its state after every rule of the batch.
        sla_queries.save_incidents(session, [(before, current[n]) for n, before in first.items()],
                                   self.ref.policies, now)
        written = timeline.append(session, drafts, now, ACTOR)
        return [Recorded(moment, written[index], people) for index, moment, people in marks]

    def _record_one_by_one(self, session: Session, todo: list[tuple[Incident, SlaMoment]]) -> list[Recorded]:
        done: list[Recorded] = []
        current: dict[int, Incident] = {}
        for incident, moment in todo:
            state = current.get(incident.number, incident)
            if moment.kind is Kind.ESCALATION:
                recorded, current[incident.number] = self._escalate(session, state, moment)
            else:
                recorded = self._record_sla(session, state, moment)
            if recorded is not None:
                done.append(recorded)
        return done

    def record_sla_event(self, moment: SlaMoment) -> Recorded | None:
        """Record one SLA warning or breach; None when it is already in the timeline."""
        with self.svc.db.write() as session:
            incident = repository.get_incident(session, moment.number, for_update=True)
            return self._record_sla(session, incident, moment)

    def escalate(self, moment: SlaMoment) -> Recorded | None:
        """Record one escalation and apply its rule; None when it was already recorded."""
        with self.svc.db.write() as session:
            incident = repository.get_incident(session, moment.number, for_update=True)
            return self._escalate(session, incident, moment)[0]

    def _record_sla(self, session: Session, incident: Incident, moment: SlaMoment) -> Recorded | None:
        event = timeline.append_once(session, self._sla_event(incident, moment), self.svc.clock.now(), ACTOR)
        return None if event is None else Recorded(moment, event)

    def _escalate(self, session: Session, incident: Incident, moment: SlaMoment) -> tuple[Recorded | None, Incident]:
        commander = self._commanders(session, {incident.number}).get(incident.number, "")
        draft, after, people = self._escalation_event(incident, moment, commander)
        now = self.svc.clock.now()
        event = timeline.append_once(session, draft, now, ACTOR)
        if event is None:
            return None, incident
        if after != incident:
            saved = repository.save_incident(session, incident, after, self.ref.policies_for(after.service), now)
            changes = events.change_events(incident, after)
            timeline.append(session, [timeline.NewEvent(incident.number, k, s, d) for k, s, d in changes], now, ACTOR)
            after = saved
        return Recorded(moment, event, people), after

    # --- what the timeline says -----------------------------------------------------------------

    def _sla_event(self, incident: Incident, moment: SlaMoment) -> timeline.NewEvent:
        assert moment.due is not None
        if moment.kind is Kind.WARNING:
            kind, summary = EventKind.SLA_WARNING, f"SLA warning: {moment.clock} due {show(moment.due)}"
        else:
            kind, summary = EventKind.SLA_BREACH, f"SLA breached: {moment.clock} was due {show(moment.due)}"
        data = {"clock": moment.clock, "kind": moment.kind.value, "due": moment.due, "moment": moment.at,
                "severity": incident.priority}
        return timeline.NewEvent(moment.number, kind, summary, data, once_key=moment.once_key)

    def _commanders(self, session: Session, numbers: set[int]) -> dict[int, str]:
        """Each incident's commander, read only when some rule alerts the commander."""
        if not numbers or not any(Recipient.COMMANDER in r.notify for r in self._rules_by_name.values()):
            return {}
        return {n: user for n, roles in collab_rows.roles_by_incident(session, sorted(numbers)).items()
                for role, user in roles if role is IncidentRole.COMMANDER}

    def _escalation_event(self, incident: Incident, moment: SlaMoment, commander: str = ""
                          ) -> tuple[timeline.NewEvent, Incident, tuple[str, ...]]:
        rule = self._rules_by_name[moment.rule]
        people = recipients(rule, incident, self.ref.group(incident.assignment_group), commander)
        after = escalated(incident, rule, self.ref.matrix, self.ref.policies_for(incident.service))
        actions = []
        if after.escalated and not incident.escalated:
            actions.append("marked escalated")
        if after.priority != incident.priority:
            actions.append(f"Sev{incident.priority} → Sev{after.priority}")
        if people:
            actions.append("alerted " + ", ".join(people))
        summary = f"escalated: {rule.describe()}" + (f" — {'; '.join(actions)}" if actions else "")
        data = {"rule": rule.name, "trigger": rule.trigger.value, "notify": list(people), "moment": moment.at,
                "severity": incident.priority, "raised_to": after.priority if after.priority != incident.priority else None}
        return timeline.NewEvent(moment.number, EventKind.ESCALATION, summary, data, once_key=moment.once_key), after, people


def _keys(due: list[tuple[Incident, SlaMoment]]) -> list[str]:
    """The once-keys to look up: each moment's, and the key an older release wrote it under."""
    keys = [m.once_key for _, m in due]
    keys.extend(legacy for _, m in due if (legacy := m.legacy_key) is not None)
    return keys


def _recorded(moment: SlaMoment, known: set[str]) -> bool:
    return moment.once_key in known or (moment.legacy_key is not None and moment.legacy_key in known)
