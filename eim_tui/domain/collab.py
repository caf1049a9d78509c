"""Working an incident together: who holds which role, the tasks and post-incident actions, the
people waiting for news (subscribers) and the stakeholder updates they get — the words and the
rules, without the store.

The update cadence (config `[updates] cadence`, per severity) says how often stakeholders hear
from an incident someone is waiting on: a major one, one with subscribers or one with a commander.
The next update is due a cadence after the last (or after the incident was reported), unless the
last update named its own time ("next update at 10:30"). An update still not sent a quarter of a
cadence after it was due is *missed*.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, time, timedelta, tzinfo
from enum import StrEnum

from eim_tui.domain.clock import ensure_utc
from eim_tui.domain.errors import ValidationError
from eim_tui.domain.model import Incident, format_key


class IncidentRole(StrEnum):
    COMMANDER = "commander"
    SCRIBE = "scribe"
    COMMS = "comms"
    EXPERT = "expert"

    @property
    def label(self) -> str:
        return _ROLE_LABELS[self]


_ROLE_LABELS = {
    IncidentRole.COMMANDER: "commander",
    IncidentRole.SCRIBE: "scribe",
    IncidentRole.COMMS: "communications lead",
    IncidentRole.EXPERT: "subject expert",
}
SINGLE_ROLES = (IncidentRole.COMMANDER, IncidentRole.SCRIBE, IncidentRole.COMMS)  # one person each


def parse_role(text: str) -> IncidentRole:
    aliases = {"communications": "comms", "communication": "comms", "comms-lead": "comms", "experts": "expert",
               "ic": "commander"}
    word = aliases.get(text.strip().lower(), text.strip().lower())
    try:
        return IncidentRole(word)
    except ValueError:
        raise ValidationError(
            f"unknown role {text!r}; use one of: {', '.join(r.value for r in IncidentRole)}"
        ) from None


class TaskKind(StrEnum):
    TASK = "task"  # during the incident
    ACTION = "action"  # after it: a post-incident action from the review


class TaskStatus(StrEnum):
    OPEN = "open"
    DONE = "done"


@dataclass(frozen=True, slots=True)
class Task:
    id: int
    incident_number: int
    number: int  # N in `eim task done KEY N`, per incident
    kind: TaskKind
    what: str
    owner: str
    due_at: datetime | None
    status: TaskStatus
    created_by: str
    created_at: datetime
    done_by: str = ""
    done_at: datetime | None = None

    @property
    def label(self) -> str:
        return f"{format_key(self.incident_number)} #{self.number}"

    def overdue(self, now: datetime) -> bool:
        return self.status is TaskStatus.OPEN and self.due_at is not None and self.due_at < now


@dataclass(frozen=True, slots=True)
class Subscriber:
    kind: str  # user | group | url
    target: str


SUBSCRIBER_KINDS = ("user", "group", "url")


@dataclass(frozen=True, slots=True)
class StakeholderUpdate:
    seq: int
    at: datetime
    author: str
    text: str
    next_update_at: datetime | None
    final: bool = False


@dataclass(frozen=True, slots=True)
class Collaboration:
    """Everything about working one incident together, as shown on its detail screen and report."""

    roles: tuple[tuple[IncidentRole, str], ...] = ()
    tasks: tuple[Task, ...] = ()
    subscribers: tuple[Subscriber, ...] = ()
    last_update: StakeholderUpdate | None = None
    updates: int = 0

    def holder(self, role: IncidentRole) -> str:
        return next((user for r, user in self.roles if r is role), "")

    @property
    def commander(self) -> str:
        return self.holder(IncidentRole.COMMANDER)

    @property
    def experts(self) -> tuple[str, ...]:
        return tuple(user for r, user in self.roles if r is IncidentRole.EXPERT)

    def role_map(self) -> dict[str, object]:
        """{"commander": …, "scribe": …, "comms": …, "experts": [...]} ("" where nobody holds it)."""
        found: dict[str, object] = {r.value: self.holder(r) for r in SINGLE_ROLES}
        found["experts"] = list(self.experts)
        return found

    def waited_on(self, incident: Incident) -> bool:
        """Whether stakeholders are waiting for news of it (the cadence applies)."""
        return incident.is_open and (incident.major or bool(self.subscribers) or bool(self.commander))


def roles_line(collab: Collaboration) -> str:
    """`commander bob · scribe ana · comms — · experts dmitri, esther`."""
    parts = [f"{r.value} {collab.holder(r) or '—'}" for r in SINGLE_ROLES]
    parts.append(f"experts {', '.join(collab.experts) or '—'}")
    return " · ".join(parts)


# --- stakeholder updates --------------------------------------------------------------------------


def update_text(happening: str, impact: str = "", next_steps: str = "", next_at: str = "") -> str:
    """The update template: what is happening, impact, what we do next, next update at …"""
    if not happening.strip():
        raise ValidationError("say what is happening: the update's first line cannot be empty")
    lines = [f"What is happening: {happening.strip()}"]
    if impact.strip():
        lines.append(f"Impact: {impact.strip()}")
    if next_steps.strip():
        lines.append(f"What we do next: {next_steps.strip()}")
    if next_at.strip():
        lines.append(f"Next update: {next_at.strip()}")
    return "\n".join(lines)


def next_update_due(incident: Incident, collab: Collaboration, cadence: Mapping[int, timedelta]) -> datetime | None:
    """When stakeholders should hear next, or None (resolved, nobody waiting, or no cadence)."""
    if not collab.waited_on(incident):
        return None
    last = collab.last_update
    if last is not None and last.next_update_at is not None:
        return last.next_update_at
    every = cadence.get(incident.priority)
    if every is None:
        return None
    return (last.at if last is not None else incident.reported_at) + every


def missed_at(due: datetime, every: timedelta | None) -> datetime:
    """When an update due at `due` counts as missed: a quarter of the cadence later (5 min without one)."""
    return due + (every / 4 if every is not None else timedelta(minutes=5))


# --- due dates ------------------------------------------------------------------------------------

_IN = re.compile(r"^\s*(?:in\s+)?(\d+)\s*([mhdw])\w*\s*$", re.IGNORECASE)
_CLOCK = re.compile(r"^\s*(\d{1,2}):(\d{2})\s*$")


def parse_due(text: str, now: datetime, local_tz: tzinfo | None = None) -> datetime:
    """A due time to come: `2h` / `in 3d`, `14:05` (its next occurrence, local time) or ISO 8601
    (local time without an offset). A time already past is refused: nothing can be due then."""
    units = {"m": "minutes", "h": "hours", "d": "days", "w": "weeks"}
    if m := _IN.match(text):
        return now + timedelta(**{units[m.group(2).lower()]: int(m.group(1))})
    if m := _CLOCK.match(text):
        hour, minute = int(m.group(1)), int(m.group(2))
        if hour > 23 or minute > 59:
            raise ValidationError(f"{text!r} is not a time of day")
        local_now = now.astimezone(local_tz)
        wall = datetime.combine(local_now.date(), time(hour, minute))
        when = ensure_utc(_local(wall, local_tz))
        return when if when > now else ensure_utc(_local(wall + timedelta(days=1), local_tz))
    try:
        value = datetime.fromisoformat(text.strip().replace("Z", "+00:00"))
    except ValueError:
        raise ValidationError(
            f"cannot read {text!r} as a due time; write 2h, in 3d, 14:05 or 2026-12-06T10:00"
        ) from None
    value = ensure_utc(_local(value, local_tz) if value.tzinfo is None else value)
    if value <= now:
        raise ValidationError(
            f"the due time {value:%Y-%m-%d %H:%M} UTC is in the past; give a time to come, like 2h, 14:05 "
            "or a later date"
        )
    return value


def _local(wall: datetime, local_tz: tzinfo | None) -> datetime:
    return wall.astimezone() if local_tz is None else wall.replace(tzinfo=local_tz)
