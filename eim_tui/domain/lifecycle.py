"""The incident lifecycle: which step is allowed from which state, and what each step changes.

    new → in_progress → on_hold(reason) ⇄ in_progress → resolved → closed
    resolved → in_progress (reopen);  any open state → cancelled

Each step is a pure function `(incident, now, …) → incident`; the caller diffs the two versions
to write the timeline. A forbidden step raises `TransitionError` naming the allowed ones.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from eim_tui.domain import sla
from eim_tui.domain.errors import TransitionError, ValidationError
from eim_tui.domain.model import HoldReason, Incident, State
from eim_tui.domain.work_calendar import ALWAYS, WorkCalendar


class Step(StrEnum):
    """A step of the lifecycle (what a role may do is the other question: `access.Action`)."""

    ACKNOWLEDGE = "acknowledge"
    HOLD = "hold"
    RESUME = "resume"
    RESOLVE = "resolve"
    CLOSE = "close"
    REOPEN = "reopen"
    CANCEL = "cancel"


# step → (states it may start from, state it leads to)
TRANSITIONS: dict[Step, tuple[frozenset[State], State]] = {
    Step.ACKNOWLEDGE: (frozenset({State.NEW}), State.IN_PROGRESS),
    Step.HOLD: (frozenset({State.IN_PROGRESS}), State.ON_HOLD),
    Step.RESUME: (frozenset({State.ON_HOLD}), State.IN_PROGRESS),
    Step.RESOLVE: (frozenset({State.IN_PROGRESS}), State.RESOLVED),
    Step.CLOSE: (frozenset({State.RESOLVED}), State.CLOSED),
    Step.REOPEN: (frozenset({State.RESOLVED}), State.IN_PROGRESS),
    Step.CANCEL: (frozenset({State.NEW, State.IN_PROGRESS, State.ON_HOLD}), State.CANCELLED),
}


def allowed_steps(state: State) -> list[Step]:
    return [step for step, (sources, _) in TRANSITIONS.items() if state in sources]


def can(step: Step, state: State) -> bool:
    return state in TRANSITIONS[step][0]


def next_state(step: Step, state: State) -> State:
    sources, target = TRANSITIONS[step]
    if state not in sources:
        raise TransitionError(step.value, state.label, [s.value for s in allowed_steps(state)])
    return target


def _required(name: str, value: str) -> str:
    if not value or not value.strip():
        raise ValidationError(f"{name} is required")
    return value.strip()


def acknowledge(incident: Incident, now: datetime, by: str) -> Incident:
    """First response: the response clock stops; whoever acknowledges takes the incident
    unless someone already holds it."""
    state = next_state(Step.ACKNOWLEDGE, incident.state)
    return incident.replace(
        state=state,
        acknowledged_at=incident.acknowledged_at or now,
        assignee=incident.assignee or by,
    )


def put_on_hold(incident: Incident, now: datetime, reason: HoldReason, note: str = "") -> Incident:
    state = next_state(Step.HOLD, incident.state)
    if not isinstance(reason, HoldReason):
        raise ValidationError(f"hold reason must be one of: {', '.join(r.value for r in HoldReason)}")
    if reason is HoldReason.OTHER and not note.strip():
        raise ValidationError("a hold for another reason needs a note saying why")
    held = incident.replace(state=state, hold_reason=reason, hold_note=note.strip())
    return sla.start_pause(held, now) if reason.pauses_sla else held


def resume(incident: Incident, now: datetime, calendar: WorkCalendar = ALWAYS) -> Incident:
    """`calendar` is the SLA policy's: the pause moves the due instants by its working time."""
    state = next_state(Step.RESUME, incident.state)
    resumed = sla.end_pause(incident, now, calendar)
    return resumed.replace(state=state, hold_reason=None, hold_note="")


def resolve(
    incident: Incident,
    now: datetime,
    code: str,
    notes: str,
    tested: str = "",
    communication: str = "",
    valid_codes: frozenset[str] | None = None,
) -> Incident:
    state = next_state(Step.RESOLVE, incident.state)
    code = _required("a resolution code", code)
    if valid_codes is not None and code not in valid_codes:
        raise ValidationError(f"unknown resolution code {code!r}; use one of: {', '.join(sorted(valid_codes))}")
    notes = _required("resolution notes (what was done)", notes)
    return incident.replace(
        state=state,
        resolved_at=now,
        resolution_code=code,
        resolution_notes=notes,
        resolution_tested=tested.strip(),
        resolution_communication=communication.strip(),
    )


def close(
    incident: Incident,
    now: datetime,
    verified_by: str,
    rating: int | None = None,
    comment: str = "",
    lessons: str = "",
    review: dict[str, Any] | None = None,
) -> Incident:
    state = next_state(Step.CLOSE, incident.state)
    if rating is not None and (isinstance(rating, bool) or rating not in range(1, 6)):
        raise ValidationError(f"feedback rating must be 1 to 5, not {rating!r}")
    review = review if review is not None else incident.post_incident_review
    if incident.major and not _review_complete(review):
        raise ValidationError(
            "a major incident needs a post-incident review before it can close: "
            "summary, what went well, what did not, and actions with owners"
        )
    return incident.replace(
        state=state,
        closed_at=now,
        closure_verified_by=_required("verified by", verified_by),
        feedback_rating=rating,
        feedback_comment=comment.strip(),
        lessons_learned=lessons.strip(),
        post_incident_review=review,
    )


def _review_complete(review: dict[str, Any] | None) -> bool:
    if not review:
        return False
    needed = ("summary", "went_well", "went_badly")
    if any(not str(review.get(k, "")).strip() for k in needed):
        return False
    actions = review.get("actions") or []
    # Each action is a mapping with an owner; plain text (a list of strings, or one string) is not.
    if not isinstance(actions, list | tuple):
        return False
    return bool(actions) and all(
        isinstance(a, dict) and str(a.get("owner", "")).strip() and str(a.get("action", "")).strip()
        for a in actions
    )


def reopen(incident: Incident, now: datetime, reason: str, policy: sla.SlaPolicy) -> Incident:
    """Back to work: the resolution clock restarts with its full target from now, and the incident
    remembers this reopen (`reopened_at`) so a later priority change restarts from it too."""
    state = next_state(Step.REOPEN, incident.state)
    _required("a reason to reopen", reason)
    reopened = incident.replace(
        state=state,
        resolved_at=None,
        resolution_code="",
        resolution_notes="",
        resolution_tested="",
        resolution_communication="",
    )
    return sla.restart_resolution(reopened, policy, now)


def cancel(incident: Incident, now: datetime, reason: str, calendar: WorkCalendar = ALWAYS) -> Incident:
    state = next_state(Step.CANCEL, incident.state)
    reason = _required("a reason to cancel", reason)
    stopped = sla.end_pause(incident, now, calendar)
    return stopped.replace(state=state, closed_at=now, cancel_reason=reason, hold_reason=None, hold_note="")
