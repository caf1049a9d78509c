"""Problem records (`PRB-000123`): the cause behind one or more incidents, its life
(open → known_error → resolved → closed), and which known errors an incident matches.

Pure rules, standard library only. The store keeps problems and their hash-chained timeline
(`store/problems.py`); the use cases apply these rules in one transaction each (`services/problems.py`).
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime
from enum import StrEnum
from typing import Protocol

from eim_tui.domain.errors import ValidationError
from eim_tui.domain.model import format_key
from eim_tui.domain.similarity import title_similarity, words

MAX_TITLE = 300
# How alike an incident's title must be to a known error's title (0 … 1, `title_similarity`) to be
# shown its workaround: high enough that "VPN tunnel drops" does not match "VPN client licence".
SIMILAR = 0.5


class ProblemState(StrEnum):
    OPEN = "open"
    KNOWN_ERROR = "known_error"
    RESOLVED = "resolved"
    CLOSED = "closed"

    @property
    def label(self) -> str:
        return self.value.replace("_", " ")


class ProblemStep(StrEnum):
    KNOWN_ERROR = "known-error"
    RESOLVE = "resolve"
    CLOSE = "close"


# A known error may be recorded again (a better workaround); a problem is resolved once its cause is
# removed, and closed only after that, so the record never hides an unfixed cause.
TRANSITIONS: dict[ProblemStep, tuple[frozenset[ProblemState], ProblemState]] = {
    ProblemStep.KNOWN_ERROR: (frozenset({ProblemState.OPEN, ProblemState.KNOWN_ERROR}), ProblemState.KNOWN_ERROR),
    ProblemStep.RESOLVE: (frozenset({ProblemState.OPEN, ProblemState.KNOWN_ERROR}), ProblemState.RESOLVED),
    ProblemStep.CLOSE: (frozenset({ProblemState.RESOLVED}), ProblemState.CLOSED),
}


def format_problem_key(number: int) -> str:
    return f"PRB-{number:06d}"


def parse_problem_key(key: str) -> int:
    """`PRB-000123`, `prb-123` or `123` → 123; ValueError otherwise."""
    text = str(key).strip().upper().removeprefix("PRB-")
    if not text.isdigit() or int(text) < 1 or len(text) > 9:
        raise ValueError(f"{key!r} is not a problem key; use the form PRB-000123")
    return int(text)


@dataclass(frozen=True, slots=True)
class Problem:
    number: int
    title: str
    state: ProblemState = ProblemState.OPEN
    owner_group: str = ""
    service: str = ""
    configuration_item: str = ""
    category: str = ""
    subcategory: str = ""
    description: str = ""
    root_cause: str = ""
    workaround: str = ""
    ref: str = ""  # the record's own reference: its key, or an imported source's problem id
    created_at: datetime | None = None
    created_by: str = ""
    updated_at: datetime | None = None
    resolved_at: datetime | None = None
    closed_at: datetime | None = None
    version: int = 1

    @property
    def key(self) -> str:
        return format_problem_key(self.number)

    @property
    def refs(self) -> tuple[str, ...]:
        """What an incident's problem reference may say to be linked to this problem."""
        return tuple(dict.fromkeys(r for r in (self.key, self.ref) if r))

    @property
    def is_known_error(self) -> bool:
        return self.state is ProblemState.KNOWN_ERROR

    def replace(self, **changes) -> Problem:
        return replace(self, **changes)


@dataclass(frozen=True, slots=True)
class LinkedIncident:
    """An incident as a problem lists it."""

    number: int
    title: str
    state: str
    priority: int
    confidential: bool = False

    @property
    def key(self) -> str:
        return format_key(self.number)


class Reported(Protocol):
    """What matching needs of an incident: an `Incident`, or a `NewIncident` not saved yet."""

    title: str
    service: str
    configuration_item: str
    category: str


@dataclass(frozen=True, slots=True)
class KnownErrorMatch:
    problem: Problem
    score: float
    reason: str

    def line(self) -> str:
        """`Known error PRB-000012 — workaround: …` (one line; the workaround's first line)."""
        workaround = " ".join(self.problem.workaround.split())
        return f"Known error {self.problem.key} — workaround: {workaround}"


def check_title(title: str) -> str:
    text = " ".join(title.split())
    if not text:
        raise ValidationError("a problem needs a title: say in a line what keeps going wrong")
    if len(text) > MAX_TITLE:
        raise ValidationError(f"the title is {len(text)} characters; keep it under {MAX_TITLE}")
    return text


def parse_state(value: ProblemState | str) -> ProblemState:
    if isinstance(value, ProblemState):
        return value
    text = str(value).strip().lower().replace("-", "_").replace(" ", "_")
    try:
        return ProblemState(text)
    except ValueError:
        raise ValidationError(
            f"unknown problem state {value!r}; use one of: {', '.join(s.value for s in ProblemState)}") from None


def advance(problem: Problem, step: ProblemStep, now: datetime, root_cause: str = "", workaround: str = "") -> Problem:
    """The problem after `step`; a ValidationError naming what is allowed from its state or what is missing.

    A known error needs its workaround (that is what makes it one); resolving needs the root cause
    (given now or recorded before), since a problem is resolved by removing its cause."""
    sources, target = TRANSITIONS[step]
    if problem.state not in sources:
        allowed = [s.value for s, (src, _) in TRANSITIONS.items() if problem.state in src]
        hint = ", ".join(allowed) if allowed else "nothing (the problem is closed)"
        raise ValidationError(f"cannot {step.value} {problem.key}: it is {problem.state.label}; allowed: {hint}")
    cause = root_cause.strip() or problem.root_cause
    fix = workaround.strip() or problem.workaround
    if step is ProblemStep.KNOWN_ERROR:
        if not workaround.strip():
            raise ValidationError("a known error needs its workaround: say what gets users going again (--workaround)")
        return problem.replace(state=target, workaround=fix, root_cause=cause, updated_at=now)
    if step is ProblemStep.RESOLVE:
        if not cause:
            raise ValidationError(f"say what the root cause of {problem.key} was (--root-cause)")
        return problem.replace(state=target, root_cause=cause, workaround=fix, resolved_at=now, updated_at=now)
    return problem.replace(state=target, closed_at=now, updated_at=now)


def match_known_errors(incident: Reported, known_errors: list[Problem], limit: int = 3) -> list[KnownErrorMatch]:
    """The known errors an incident matches, best first: same service or CI, the same category (where
    the known error names one), and a similar title (`title_similarity` ≥ SIMILAR). Each with its reason."""
    title = " ".join(incident.title.split())
    if not title:
        return []
    found: list[KnownErrorMatch] = []
    for problem in known_errors:
        if not problem.is_known_error:
            continue
        where = _same_place(incident, problem)
        if not where:
            continue
        if problem.category and problem.category != incident.category:
            continue
        score = title_similarity(title, problem.title)
        if score < SIMILAR:
            continue
        shared = sorted(words(title) & words(problem.title))
        reason = f"same {where}" + (f", category {problem.category}" if problem.category else "")
        reason += f", {score:.0%} alike" + (f" ({' '.join(shared)})" if shared else "")
        found.append(KnownErrorMatch(problem, score, reason))
    found.sort(key=lambda m: (-m.score, -m.problem.number))
    return found[:limit]


def _same_place(incident: Reported, problem: Problem) -> str:
    if problem.service and problem.service == incident.service:
        return f"service {problem.service}"
    if problem.configuration_item and problem.configuration_item == incident.configuration_item:
        return f"CI {problem.configuration_item}"
    return ""


__all__ = [
    "SIMILAR",
    "KnownErrorMatch",
    "LinkedIncident",
    "Problem",
    "ProblemState",
    "ProblemStep",
    "advance",
    "check_title",
    "format_problem_key",
    "match_known_errors",
    "parse_problem_key",
    "parse_state",
]
