"""Storm triage: one action over many incidents — acknowledge, assign, resolve, or merge them as
duplicates of one parent. No Textual here: the queue's screens show `plan` and run `apply_one`.

Each incident is its own transaction, guarded by the version the user saw, so a refusal for one
(wrong state, changed underneath) is reported and does not stop the others.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from eim_tui.domain import lifecycle
from eim_tui.domain.errors import DomainError, TransitionError
from eim_tui.domain.lifecycle import Step
from eim_tui.domain.model import Incident, QueueRow, State, format_key

DUPLICATE_CODE = "duplicate"


class BulkKind(StrEnum):
    ACKNOWLEDGE = "acknowledge"
    ASSIGN = "assign"
    RESOLVE = "resolve"
    MERGE = "merge"

    @property
    def label(self) -> str:
        return {"merge": "merge as duplicates"}.get(self.value, self.value)


@dataclass(frozen=True, slots=True)
class BulkRequest:
    kind: BulkKind
    group: str | None = None
    assignee: str | None = None
    code: str = ""
    notes: str = ""
    parent: int | None = None


@dataclass(frozen=True, slots=True)
class PlanItem:
    number: int
    version: int
    title: str
    change: str  # what will change, in words
    warning: str = ""  # why the state machine will likely refuse it, as the rows stand now

    @property
    def key(self) -> str:
        return format_key(self.number)


@dataclass(frozen=True, slots=True)
class BulkOutcome:
    """What a bulk change did to one incident: done, or the reason it was refused."""

    number: int
    ok: bool
    text: str

    @property
    def key(self) -> str:
        return format_key(self.number)


def plan(request: BulkRequest, rows: Sequence[QueueRow], actor: str, codes: Sequence[str]) -> list[PlanItem]:
    """What each marked incident would go through, from the rows as they stand (the parent of a
    merge is left as it is and not listed)."""
    items = []
    for row in rows:
        if request.kind is BulkKind.MERGE and row.number == request.parent:
            continue
        change, warning = _describe(request, row, actor, codes)
        items.append(PlanItem(row.number, row.version, row.title, change, warning))
    return items


def _describe(request: BulkRequest, row: QueueRow, actor: str, codes: Sequence[str]) -> tuple[str, str]:
    state = row.state.value.replace("_", " ")
    if request.kind is BulkKind.ACKNOWLEDGE:
        taker = row.assignee or actor
        return (f"{state} → in progress; assignee {row.assignee or '—'} → {taker}",
                "" if lifecycle.can(Step.ACKNOWLEDGE, row.state) else f"already {state}")
    if request.kind is BulkKind.ASSIGN:
        parts = []
        if request.group is not None:
            parts.append(f"group {row.assignment_group or '—'} → {request.group or '—'}")
        if request.assignee is not None:
            parts.append(f"assignee {row.assignee or '—'} → {request.assignee or '—'}")
        return "; ".join(parts) or "nothing", "" if row.state.is_open else f"{state}: only open incidents"
    if request.kind is BulkKind.RESOLVE:
        return (f"{state} → resolved ({request.code})",
                "" if lifecycle.can(Step.RESOLVE, row.state) else f"cannot resolve from {state}")
    parent = format_key(request.parent) if request.parent else "?"
    if DUPLICATE_CODE in codes:
        step = f"{state} → resolved ({DUPLICATE_CODE})"
    else:
        step = f"{state} → cancelled (duplicate of {parent})"
    return f"duplicate of {parent}; {step}", "" if row.state.is_open else f"{state}: only open incidents"


def merge_step(parent: int, actor: str, ref) -> Callable[[Incident, datetime], Incident]:
    """The pure change that makes an incident a duplicate of `parent`, ending it in one step:
    resolved with the duplicate code (acknowledging or resuming it first, as the state machine
    needs), or — without that code in data/ — cancelled saying whose duplicate it is."""
    reason = f"duplicate of {format_key(parent)}"
    codes = list(ref.resolution_codes)

    def apply(incident: Incident, now: datetime) -> Incident:
        if not incident.is_open:
            raise TransitionError("merge", incident.state.label, ["acknowledge", "hold", "resolve"])
        linked = incident.replace(parent_number=parent)
        calendar = ref.policy(incident.priority, incident.service).calendar
        if DUPLICATE_CODE not in codes:
            return lifecycle.cancel(linked, now, reason, calendar)
        if linked.state is State.NEW:
            linked = lifecycle.acknowledge(linked, now, actor)
        elif linked.state is State.ON_HOLD:
            linked = lifecycle.resume(linked, now, calendar)
        return lifecycle.resolve(linked, now, DUPLICATE_CODE, f"Duplicate of {format_key(parent)}; "
                                 "work continues there.", valid_codes=frozenset(codes))

    return apply


def apply_one(svc, request: BulkRequest, item: PlanItem, actor: str) -> BulkOutcome:
    """Run the request on one incident in its own transaction; a refusal becomes a BulkOutcome."""
    try:
        if request.kind is BulkKind.ACKNOWLEDGE:
            done = svc.acknowledge(item.number, actor, expected_version=item.version)
        elif request.kind is BulkKind.ASSIGN:
            done = svc.assign(item.number, actor, request.group, request.assignee, expected_version=item.version)
        elif request.kind is BulkKind.RESOLVE:
            done = svc.resolve(item.number, actor, request.code, request.notes, expected_version=item.version)
        else:
            assert request.parent is not None
            step = merge_step(request.parent, actor, svc.ref)
            done = svc.change(item.number, actor, step, expected_version=item.version)
    except DomainError as exc:
        return BulkOutcome(item.number, False, str(exc))
    except Exception as exc:  # the store failed for this one; the others still run
        reason = str(exc).strip().splitlines()[0] if str(exc) else repr(exc)
        return BulkOutcome(item.number, False, f"could not save: {reason}")
    return BulkOutcome(item.number, True, f"{done.state.value.replace('_', ' ')}, v{done.version}")
