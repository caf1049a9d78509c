"""Problem management use cases: problem records, their life (open → known error → resolved →
closed), linking incidents to them, and the known errors an incident matches.

Each use case is one transaction that also writes the problem's hash-chained timeline (and, when it
touches an incident, the incident's timeline). Making and changing a problem needs a shift lead or
an admin (`Action.MANAGE_PROBLEMS`); linking an incident is a link like any other (responders may).
`ProblemCases(svc)` wraps a `Services`, so the command line and the screens share one set of rules.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.orm import Session

from eim_tui.domain.access import CONFIDENTIAL_TITLE, Action
from eim_tui.domain.errors import ConflictError, ValidationError
from eim_tui.domain.model import Incident
from eim_tui.domain.problems import (
    KnownErrorMatch,
    LinkedIncident,
    Problem,
    ProblemState,
    ProblemStep,
    Reported,
    advance,
    check_title,
    match_known_errors,
    parse_problem_key,
)
from eim_tui.services.incidents import Services
from eim_tui.store import problems as stored
from eim_tui.store.problems import ProblemEvent
from eim_tui.store.timeline import ChainReport

__all__ = ["ProblemCases", "ProblemDetails", "ProblemEvent", "ProblemSummary"]


@dataclass(frozen=True, slots=True)
class ProblemDetails:
    problem: Problem
    events: list[ProblemEvent]
    incidents: list[LinkedIncident]


@dataclass(frozen=True, slots=True)
class ProblemSummary:
    """A problem as the list shows it: with how many incidents are linked to it."""

    problem: Problem
    incidents: int


class ProblemCases:
    def __init__(self, svc: Services) -> None:
        self.svc = svc

    # --- reading ---------------------------------------------------------------------------------

    def get(self, number: int) -> Problem:
        with self.svc.db.read() as session:
            return stored.get_problem(session, number)

    def list(self, states: Sequence[ProblemState] = (), limit: int | None = 200) -> list[ProblemSummary]:
        return self.list_marked(states, limit)[0]

    def list_marked(self, states: Sequence[ProblemState] = (),
                    limit: int | None = 200) -> tuple[list[ProblemSummary], tuple[int, int]]:
        """The list and the marker read with it (in one read: what changes later moves the marker)."""
        with self.svc.db.read() as session:
            marker = stored.problem_marker(session)
            found = stored.list_problems(session, states, limit)
            counts = stored.linked_counts(session, found)
        return [ProblemSummary(p, counts.get(p.number, 0)) for p in found], marker

    def marker(self) -> tuple[int, int]:
        """What the problems screen compares to know the list is stale (store.problems.problem_marker)."""
        with self.svc.db.read() as session:
            return stored.problem_marker(session)

    def changed_since(self, since: tuple[int, int]) -> tuple[tuple[int, int], bool]:
        with self.svc.db.read() as session:
            return stored.problems_changed(session, since)

    def details(self, number: int, viewer: str | None = None) -> ProblemDetails:
        """One problem with its timeline and incidents; for a `viewer` outside the security group a
        confidential incident shows as the placeholder title (its key and state only)."""
        sees = viewer is None or self.svc.access.context(viewer).sees_confidential
        with self.svc.db.read() as session:
            problem = stored.get_problem(session, number)
            incidents = stored.linked_incidents(session, problem)
            events = stored.events_of(session, number)
        if not sees:
            incidents = [i if not i.confidential else LinkedIncident(i.number, CONFIDENTIAL_TITLE, i.state, i.priority, True)
                         for i in incidents]
        return ProblemDetails(problem, events, incidents)

    def known_errors_for(self, incident: Reported) -> list[KnownErrorMatch]:
        """The known errors an incident (or a report not saved yet) matches, best first."""
        if not incident.service and not incident.configuration_item:
            return []
        with self.svc.db.read() as session:
            candidates = stored.known_errors_on(session, incident.service, incident.configuration_item)
        return match_known_errors(incident, candidates)

    def known_error_of(self, incident: Incident) -> KnownErrorMatch | None:
        """The known error to show on an open incident (`eim show`, the detail screen): the best match."""
        if not incident.is_open:
            return None
        found = self.known_errors_for(incident)
        return found[0] if found else None

    def verify(self) -> ChainReport:
        with self.svc.db.read() as session:
            return stored.verify(session)

    # --- a problem's life ------------------------------------------------------------------------

    def create(
        self, actor: str, title: str, service: str = "", configuration_item: str = "", category: str = "",
        subcategory: str = "", owner_group: str = "", description: str = "",
    ) -> Problem:
        title = check_title(title)
        service, ci = service.strip(), configuration_item.strip()
        category, subcategory, owner_group = category.strip(), subcategory.strip(), owner_group.strip()
        self.svc._check_reference(category, subcategory, service, owner_group)  # the incidents' own checks
        if ci and ci not in self.svc.ref.item_services:
            raise ValidationError(f"unknown configuration item {ci!r}; see eim cis list")
        self.svc.access.authorize(actor, [Action.MANAGE_PROBLEMS])
        now = self.svc.clock.now()
        draft = Problem(0, title, ProblemState.OPEN, owner_group, service, ci, category, subcategory,
                        description.strip(), created_at=now, created_by=actor, updated_at=now)
        with self.svc.db.write() as session:
            problem = stored.insert_problem(session, draft)
            about = ", ".join(x for x in (service, ci, "/".join(x for x in (category, subcategory) if x)) if x)
            stored.append_events(session, problem.number, [("created", f"opened {problem.key}: {title}" + (
                f" ({about})" if about else ""), {
                "service": service, "ci": ci, "category": category, "subcategory": subcategory, "owner_group": owner_group,
            })], now, actor)
        return problem

    def mark_known_error(
        self, actor: str, number: int, workaround: str, root_cause: str = "", expected_version: int | None = None
    ) -> Problem:
        return self._step(actor, number, ProblemStep.KNOWN_ERROR, expected_version, root_cause, workaround)

    def resolve(self, actor: str, number: int, root_cause: str = "", expected_version: int | None = None) -> Problem:
        return self._step(actor, number, ProblemStep.RESOLVE, expected_version, root_cause)

    def close(self, actor: str, number: int, expected_version: int | None = None) -> Problem:
        return self._step(actor, number, ProblemStep.CLOSE, expected_version)

    def _step(
        self, actor: str, number: int, step: ProblemStep, expected_version: int | None, root_cause: str = "",
        workaround: str = "",
    ) -> Problem:
        self.svc.access.authorize(actor, [Action.MANAGE_PROBLEMS])
        now = self.svc.clock.now()
        with self.svc.db.write() as session:
            before = stored.get_problem(session, number, for_update=True)
            if expected_version is not None and before.version != expected_version:
                raise ConflictError(before.key, expected_version, before.version)
            after = advance(before, step, now, root_cause, workaround)
            saved = stored.save_problem(session, before, after)
            summary = f"state {before.state.label} → {after.state.label}"
            data: dict[str, str] = {"old": before.state.value, "new": after.state.value}
            for name in ("root_cause", "workaround"):
                if getattr(after, name) != getattr(before, name):
                    data[name] = getattr(after, name)
                    summary += f"; {name.replace('_', ' ')}: {getattr(after, name)}"
            stored.append_events(session, number, [("state_changed", summary, data)], now, actor)
        return saved

    # --- incidents and problems --------------------------------------------------------------------

    def link(self, actor: str, incident: int, problem_number: int, expected_version: int | None = None) -> Incident:
        """Link `incident` to the problem: its problem reference names the problem's key, and both
        timelines say so, in one transaction. A closed problem takes no more incidents."""
        problem = self.get(problem_number)
        if problem.state is ProblemState.CLOSED:
            raise ValidationError(f"{problem.key} is closed; open a new problem for this incident")

        def apply(i: Incident, now: datetime) -> Incident:
            return i.replace(problem_ref=problem.key)

        before = self.svc.get(incident)
        if before.problem_ref == problem.key:
            raise ValidationError(f"{before.key} is already linked to {problem.key}")
        previous = _problem_number(before.problem_ref)

        def also(session: Session, after: Incident) -> None:
            now = self.svc.clock.now()
            if previous is not None and previous != problem.number and stored.exists(session, previous):
                # The problem it was linked to says so too: its list of incidents just lost one.
                stored.append_events(session, previous, [
                    ("incident_unlinked", f"unlinked {after.key}: now linked to {problem.key}",
                     {"incident": after.key, "to": problem.key})], now, actor)
            stored.append_events(session, problem.number, [
                ("incident_linked", f"linked {after.key}", {"incident": after.key})
            ], now, actor)

        return self.svc.change(incident, actor, apply, expected_version, also=also)


def _problem_number(ref: str) -> int | None:
    """The number of a problem reference that is one of eim's keys (`PRB-000012`); None for an
    imported source's id or none at all."""
    if not ref.upper().startswith("PRB-"):
        return None
    try:
        return parse_problem_key(ref)
    except ValueError:
        return None
