"""Change records (`CHG-000123`): planned work on services and configuration items, its life
(planned → in_progress → completed | failed | cancelled), and the rules that tie it to incidents.

Pure rules, standard library only. The store keeps changes and their hash-chained timeline
(`store/changes.py`); the use cases apply these rules in one transaction each (`services/changes.py`).
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from enum import StrEnum

from eim_tui.domain.errors import ValidationError
from eim_tui.domain.model import LARGEST_NUMBER

MAX_TITLE = 300
RECENT = timedelta(hours=24)  # "recent changes" on an incident: the first question in any outage


class ChangeState(StrEnum):
    PLANNED = "planned"
    IN_PROGRESS = "in_progress"
    COMPLETED = "completed"
    FAILED = "failed"
    CANCELLED = "cancelled"

    @property
    def label(self) -> str:
        return self.value.replace("_", " ")


class Risk(StrEnum):
    LOW = "low"
    MEDIUM = "medium"
    HIGH = "high"


class Relation(StrEnum):
    """How an incident is tied to a change."""

    CAUSED_BY = "caused_by"  # someone found the change caused the incident
    DURING = "during"  # an alert opened the incident while the change was in progress


class ChangeStep(StrEnum):
    START = "start"
    COMPLETE = "complete"
    FAIL = "fail"
    CANCEL = "cancel"


# A change in progress ends as completed or failed (a rolled-back change failed); only one that has
# not started can be cancelled, so the record never hides work that was done.
TRANSITIONS: dict[ChangeStep, tuple[frozenset[ChangeState], ChangeState]] = {
    ChangeStep.START: (frozenset({ChangeState.PLANNED}), ChangeState.IN_PROGRESS),
    ChangeStep.COMPLETE: (frozenset({ChangeState.IN_PROGRESS}), ChangeState.COMPLETED),
    ChangeStep.FAIL: (frozenset({ChangeState.IN_PROGRESS}), ChangeState.FAILED),
    ChangeStep.CANCEL: (frozenset({ChangeState.PLANNED}), ChangeState.CANCELLED),
}


def format_change_key(number: int) -> str:
    return f"CHG-{number:06d}"


def parse_change_key(key: str) -> int:
    """`CHG-000123`, `chg-123` or `123` → 123; ValueError otherwise."""
    text = str(key).strip().upper()
    text = text.removeprefix("CHG-")
    if not text.isdigit() or int(text) < 1:
        raise ValueError(f"{key!r} is not a change key; use the form CHG-000123")
    if int(text) > LARGEST_NUMBER:
        raise ValueError(f"{key!r} is too large for a change key (at most {LARGEST_NUMBER})")
    return int(text)


@dataclass(frozen=True, slots=True)
class Change:
    number: int
    title: str
    planned_start: datetime
    planned_end: datetime
    risk: Risk
    state: ChangeState = ChangeState.PLANNED
    description: str = ""
    owner: str = ""
    services: tuple[str, ...] = ()
    cis: tuple[str, ...] = ()
    started_at: datetime | None = None
    finished_at: datetime | None = None
    outcome: str = ""  # what the person ending it said
    created_at: datetime | None = None
    created_by: str = ""
    version: int = 1

    @property
    def key(self) -> str:
        return format_change_key(self.number)

    @property
    def window(self) -> tuple[datetime, datetime]:
        """When the change ran (or runs): actual times where known, else the planned ones."""
        return self.started_at or self.planned_start, self.finished_at or self.planned_end

    def touches(self, service: str, ci: str) -> bool:
        return bool(service and service in self.services) or bool(ci and ci in self.cis)

    def replace(self, **changes) -> Change:
        return replace(self, **changes)


@dataclass(frozen=True, slots=True)
class ChangeLink:
    """A change as an incident sees it."""

    change: Change
    relation: Relation


@dataclass(frozen=True, slots=True)
class ServiceFailureRate:
    """One service's change failure rate: completed changes that caused an incident ÷ completed changes."""

    service: str
    completed: int
    caused_incidents: int  # completed changes with at least one caused-by incident
    failed: int  # changes that ended as failed (not in the rate: they were rolled back)
    changes: list[str] = field(default_factory=list)  # the keys of the completed changes that caused one

    @property
    def rate(self) -> float | None:
        return None if self.completed == 0 else self.caused_incidents / self.completed


def check_title(title: str) -> str:
    text = " ".join(title.split())
    if not text:
        raise ValidationError("a change needs a title: say in a line what will be done")
    if len(text) > MAX_TITLE:
        raise ValidationError(f"the title is {len(text)} characters; keep it under {MAX_TITLE}")
    return text


def check_window(start: datetime, end: datetime) -> None:
    if end <= start:
        raise ValidationError(
            f"the window ends ({end.isoformat()}) before it starts ({start.isoformat()}); "
            "give an end after the start"
        )


def parse_risk(value: Risk | str) -> Risk:
    if isinstance(value, Risk):
        return value
    try:
        return Risk(str(value).strip().lower())
    except ValueError:
        raise ValidationError(f"unknown risk {value!r}; use one of: low, medium, high") from None


def advance(change: Change, step: ChangeStep, now: datetime, note: str = "") -> Change:
    """The change after `step`; a ValidationError naming what is allowed from its state."""
    sources, target = TRANSITIONS[step]
    if change.state not in sources:
        allowed = [s.value for s, (src, _) in TRANSITIONS.items() if change.state in src]
        hint = ", ".join(allowed) if allowed else "nothing (the change is over)"
        raise ValidationError(f"cannot {step.value} {change.key}: it is {change.state.label}; allowed: {hint}")
    if step in (ChangeStep.FAIL, ChangeStep.CANCEL) and not note.strip():
        raise ValidationError(f"say why the change is {'failed' if step is ChangeStep.FAIL else 'cancelled'} (--reason)")
    if step is ChangeStep.START:
        return change.replace(state=target, started_at=now)
    return change.replace(state=target, finished_at=now, outcome=note.strip())


def is_recent(change: Change, now: datetime, span: timedelta = RECENT) -> bool:
    """Whether a change ran during the `span` before `now` (in progress counts; cancelled never ran)."""
    if change.state is ChangeState.CANCELLED:
        return False
    start, end = change.window
    if start > now:
        return False
    return change.state is ChangeState.IN_PROGRESS or end >= now - span


__all__ = [
    "RECENT",
    "Change",
    "ChangeLink",
    "ChangeState",
    "ChangeStep",
    "Relation",
    "Risk",
    "ServiceFailureRate",
    "advance",
    "check_title",
    "check_window",
    "format_change_key",
    "is_recent",
    "parse_change_key",
    "parse_risk",
]
