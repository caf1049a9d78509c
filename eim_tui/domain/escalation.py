"""SLA moments and escalation rules: when an incident's clocks warn and breach, and who is told.

`moments(incident, policy, rules)` lists every instant that matters for an open incident as it
stands — each running clock's warning and breach, and each escalation rule's trigger — past and
future alike. The scheduler records those that have come, each once: `SlaMoment.once_key` is the
key the timeline's unique index holds, so two schedulers racing for one moment record it once.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from enum import StrEnum

from eim_tui.domain import sla
from eim_tui.domain.errors import ValidationError
from eim_tui.domain.model import Group, Incident
from eim_tui.domain.priority import PriorityMatrix, decide_priority


class Trigger(StrEnum):
    UNACKNOWLEDGED = "unacknowledged"  # not acknowledged `after` the report
    UNASSIGNED = "unassigned"  # nobody holds it `after` the report
    RESPONSE_BREACHED = "response_breached"  # `after` the response clock breached
    RESOLUTION_BREACHED = "resolution_breached"  # `after` the resolution clock breached

    @property
    def label(self) -> str:
        return self.value.replace("_", " ")


class Recipient(StrEnum):
    SHIFT_LEAD = "shift_lead"  # the assignment group's shift lead
    ASSIGNEE = "assignee"
    GROUP = "group"  # every member of the assignment group
    COMMANDER = "commander"  # the incident's commander (its roles), when one is named


class Kind(StrEnum):
    WARNING = "warning"
    BREACH = "breach"
    ESCALATION = "escalation"


@dataclass(frozen=True, slots=True)
class EscalationRule:
    name: str
    trigger: Trigger
    severities: frozenset[int]
    after: timedelta = timedelta(0)
    notify: tuple[Recipient, ...] = ()
    mark_escalated: bool = False
    raise_severity: bool = False
    reason: str = ""
    reach: tuple[str, ...] = ()  # people and groups (`group:NAME`) it also alerts, by name

    def __post_init__(self) -> None:
        if self.after < timedelta(0):
            raise ValidationError(f"escalation {self.name}: `after` cannot be negative")
        if not self.severities:
            raise ValidationError(f"escalation {self.name}: give the severities it applies to")

    def describe(self) -> str:
        return self.reason or f"{self.trigger.label} after {_minutes(self.after)}"


@dataclass(frozen=True, slots=True, order=True)
class SlaMoment:
    """One instant that matters: a clock's warning or breach, or an escalation rule's trigger."""

    at: datetime
    number: int
    kind: Kind
    clock: str = ""  # "response" or "resolution"; "" for escalations by report age
    due: datetime | None = None  # the clock's due instant (for escalations: the instant it counts from)
    rule: str = ""
    # The due instant less the pauses the clock has had: what names the moment. A pause moves the
    # due instant, but a warning or breach already passed before it must not come round again.
    key_due: datetime | None = field(default=None, compare=False)

    @property
    def once_key(self) -> str:
        if self.kind is Kind.ESCALATION:
            # Once per incident and rule: an escalation that raises the severity moves the due
            # instants, and must not trigger itself again on the new ones.
            return f"esc:{self.number}:{self.rule}"
        assert self.due is not None
        return f"sla:{self.number}:{self.clock}:{self.kind.value}:{(self.key_due or self.due).isoformat()}"

    @property
    def legacy_key(self) -> str | None:
        """The key a store written before pauses were taken out of it holds, where it differs."""
        if self.kind is Kind.ESCALATION or self.key_due is None or self.key_due == self.due:
            return None
        assert self.due is not None
        return f"sla:{self.number}:{self.clock}:{self.kind.value}:{self.due.isoformat()}"


def clock_due(incident: Incident, policy: sla.SlaPolicy, clock: str) -> datetime:
    """A running clock's due instant (no pause runs while it does)."""
    if clock == "response":
        return incident.response_due_at or policy.calendar.add(incident.reported_at, policy.response)
    return incident.resolution_due_at or policy.calendar.add(incident.reported_at, policy.resolution)


def running_clocks(incident: Incident) -> list[str]:
    """The clocks that advance now: none while closed or paused."""
    if not incident.is_open or incident.paused_since is not None:
        return []
    clocks = []
    if incident.acknowledged_at is None:
        clocks.append("response")
    if incident.resolved_at is None:
        clocks.append("resolution")
    return clocks


def moments(
    incident: Incident, policy: sla.SlaPolicy, rules: tuple[EscalationRule, ...] | list[EscalationRule] = ()
) -> list[SlaMoment]:
    """Every instant of the incident's running clocks and applicable rules, in time order."""
    if not incident.is_open:
        return []
    found: list[SlaMoment] = []
    running = running_clocks(incident)
    dues = {clock: clock_due(incident, policy, clock) for clock in running}
    paused = timedelta(seconds=incident.sla_paused_seconds)
    for clock, due in dues.items():
        target = policy.response if clock == "response" else policy.resolution
        warn = sla.warning_at(due, target, policy.warning_fraction, policy.calendar)
        # Each pause moved the due instant later by its working time (sla.end_pause); taking the
        # pauses back out gives the same key before and after a hold, and a new one on a retarget.
        key_due = policy.calendar.before(due, paused) if paused else due
        found.append(SlaMoment(warn, incident.number, Kind.WARNING, clock, due, key_due=key_due))
        found.append(SlaMoment(due, incident.number, Kind.BREACH, clock, due, key_due=key_due))
    for rule in rules:
        if incident.priority not in rule.severities:
            continue
        anchor = _anchor(rule.trigger, incident, dues)
        if anchor is not None:
            found.append(SlaMoment(anchor + rule.after, incident.number, Kind.ESCALATION, _clock_of(rule.trigger),
                                   anchor, rule.name))
    return sorted(found)


def _anchor(trigger: Trigger, incident: Incident, dues: dict[str, datetime]) -> datetime | None:
    if trigger is Trigger.UNACKNOWLEDGED:
        return incident.reported_at if incident.acknowledged_at is None else None
    if trigger is Trigger.UNASSIGNED:
        return incident.reported_at if not incident.assignee else None
    return dues.get(_clock_of(trigger))


def _clock_of(trigger: Trigger) -> str:
    return {Trigger.RESPONSE_BREACHED: "response", Trigger.RESOLUTION_BREACHED: "resolution"}.get(trigger, "")


def recipients(rule: EscalationRule, incident: Incident, group: Group | None, commander: str = "") -> tuple[str, ...]:
    """Who an escalation alerts, in rule order, each once (`commander`: the incident's, if any)."""
    people: list[str] = []
    for who in rule.notify:
        if who is Recipient.COMMANDER and commander:
            people.append(commander)
        if who is Recipient.SHIFT_LEAD and group is not None and group.shift_lead:
            people.append(group.shift_lead)
        elif who is Recipient.ASSIGNEE and incident.assignee:
            people.append(incident.assignee)
        elif who is Recipient.GROUP and group is not None:
            people.extend(group.members)
    return tuple(dict.fromkeys(people))


def escalated(
    incident: Incident, rule: EscalationRule, matrix: PriorityMatrix, policies: dict[int, sla.SlaPolicy]
) -> Incident:
    """The incident after the rule's changes: marked escalated, and one severity higher where the
    rule says so (recorded as an override with its reason; the clocks retarget to the new policy)."""
    after = incident.replace(escalated=True) if rule.mark_escalated else incident
    if rule.raise_severity and incident.priority > 1:
        reason = f"escalated by rule {rule.name}: {rule.describe()}"
        priority, why = decide_priority(matrix, incident.impact, incident.urgency, incident.priority - 1, reason)
        after = sla.retarget(after.replace(priority=priority, priority_override_reason=why), policies[priority])
    return after


def _minutes(value: timedelta) -> str:
    seconds = int(value.total_seconds())
    if seconds % 3600 == 0 and seconds:
        return f"{seconds // 3600}h"
    return f"{seconds // 60}m" if seconds % 60 == 0 else f"{seconds}s"
