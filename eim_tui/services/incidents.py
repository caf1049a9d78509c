"""Use cases. Each is one transaction that changes the store and writes the timeline with it.

Callers (the TUI's workers, the command line, the ingest receiver, the scheduler) pass who acts and,
for an update, the version they read: a stale version is refused with `ConflictError`.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from eim_tui.domain import events, lifecycle, sla
from eim_tui.domain.access import Action, can_see, required_actions, visible_rows
from eim_tui.domain.clock import Clock, SystemClock
from eim_tui.domain.collab import Collaboration
from eim_tui.domain.errors import (
    NotFoundError,
    PermissionDenied,
    TransitionError,
    ValidationError,
)
from eim_tui.domain.filters import Filter
from eim_tui.domain.intake import NewIncident, build_incident
from eim_tui.domain.model import (
    DiagnosisNote,
    EventKind,
    HoldReason,
    Incident,
    QueueRow,
    TimelineEvent,
    format_key,
    parse_enum,
)
from eim_tui.domain.priority import check_level, decide_priority
from eim_tui.domain.queue import Sort, View
from eim_tui.reference.data import ReferenceData
from eim_tui.services.access import AccessControl
from eim_tui.services.audit import AuditCases
from eim_tui.services.catalogue import CatalogueCases
from eim_tui.services.drafts import Drafts
from eim_tui.services.notes import NoteCases
from eim_tui.services.permissions import visible_incidents
from eim_tui.services.similar import (
    ResolvedIncident,
    SimilarIncident,
    similar_open,
    similar_resolved,
)
from eim_tui.store import collab as stored_collab
from eim_tui.store import inbound, placeholders, queries, repository, timeline, users
from eim_tui.store import notes as stored_notes
from eim_tui.store.engine import Database
from eim_tui.store.reference_sync import seed_catalogue
from eim_tui.store.schema import current_revision, upgrade


@dataclass(frozen=True, slots=True)
class IncidentDetails:
    incident: Incident
    notes: list[DiagnosisNote]
    timeline: list[TimelineEvent]
    response: sla.ClockReading
    resolution: sla.ClockReading
    collab: Collaboration = Collaboration()  # roles, tasks, subscribers, last stakeholder update


def created_event(incident: Incident) -> events.EventDraft:
    """The timeline's first line of a logged incident."""
    summary = f"logged {incident.key}: Sev{incident.priority} (impact {incident.impact} × urgency {incident.urgency})"
    if incident.priority_override_reason:
        summary += f", override: {incident.priority_override_reason}"
    return (EventKind.CREATED, summary, {"source": incident.source.value, "title": incident.title})


class Services(NoteCases, AuditCases):
    """Every use case on one store; the diagnosis notes' are in `NoteCases`, the timeline audit's in
    `AuditCases`."""

    def __init__(self, db: Database, ref: ReferenceData, clock: Clock | None = None) -> None:
        self.db = db
        self.clock = clock or SystemClock()
        self.catalogue = CatalogueCases(db, ref, self.clock)  # the store's catalogue: services, CIs, groups…
        self.access = AccessControl(db, clock=self.clock)  # roles and groups of actors: every change is checked against them
        self.drafts = Drafts(db, self.clock)  # what the forms save as they are typed

    @property
    def ref(self) -> ReferenceData:
        """The reference data as the store's catalogue says now (cached; see services/catalogue.py)."""
        return self.catalogue.reference()

    # --- the store -----------------------------------------------------------------------------

    @property
    def store_url(self) -> str:
        return self.db.url

    def close_store(self) -> None:
        """Let go of the store's connections (the process is done with it); `close` closes an incident."""
        self.db.dispose()

    def upgrade_store(self) -> str | None:
        """Bring the schema to the newest revision and the reference tables in step with data/;
        returns the revision the store is at."""
        upgrade(self.db)
        with self.db.write() as session:
            seed_catalogue(session, self.catalogue.files, self.clock.now())  # once per store: never over an admin's changes
        self.catalogue.forget()
        from eim_tui.store.access_install import install

        install(self.db, owner_admin=True)  # PostgreSQL: roles, grants, row-level security; the owner is admin
        return current_revision(self.db)

    # --- reading -------------------------------------------------------------------------------

    def get(self, number: int) -> Incident:
        with self.db.read() as session:
            return repository.get_incident(session, number)

    def details(self, number: int, viewer: str | None = None) -> IncidentDetails:
        """Everything about one incident; a `viewer` outside the security group is refused a confidential one."""
        now = self.clock.now()
        looker = None if viewer is None else self.access.context(viewer)
        with self.db.read() as session:
            try:
                incident = repository.get_incident(session, number)
            except NotFoundError:
                # PostgreSQL: row-level security hides it; its placeholder says it exists.
                if looker is not None and not looker.sees_confidential and placeholders.placeholder_numbers(session, [number]):
                    raise PermissionDenied(f"{format_key(number)} is confidential: only the security group sees its details") from None
                raise
            if looker is not None and not can_see(looker, incident):
                raise PermissionDenied(f"{incident.key} is confidential: only the security group sees its details")
            notes = stored_notes.notes_for(session, number)
            history = timeline.events_of(session, number)
            collab = stored_collab.collaboration(session, number)
        policy = self.ref.policy(incident.priority, incident.service)  # the service's own SLA where it has one
        return IncidentDetails(
            incident, notes, history, sla.response_clock(incident, policy, now), sla.resolution_clock(incident, policy, now),
            collab,
        )

    def user_groups(self, user: str) -> list[str]:
        with self.db.read() as session:
            stored = users.groups_of(session, user)
        if stored:
            return stored
        return [g.name for g in self.ref.groups if user in g.members]

    def queue(
        self, view: View, f: Filter, user: str, groups: Sequence[str], limit: int | None = None,
        sort: Sort = Sort.SLA,
    ) -> list[int]:
        hide = not self.access.context(user).sees_confidential  # filters must not find what they may not see
        with self.db.read() as session, placeholders.merged(session, hide):  # PostgreSQL: RLS hid them
            return queries.queue_numbers(
                session, view, f.with_user(user), user, groups, self.clock.now(), limit, sort, hide_confidential=hide
            )

    def rows(self, numbers: Sequence[int], viewer: str | None = None) -> list[QueueRow]:
        """Queue rows; for a `viewer`, confidential ones they may not see become placeholders."""
        looker = None if viewer is None else self.access.context(viewer)
        with self.db.read() as session, placeholders.merged(session, looker is not None and not looker.sees_confidential):
            rows = queries.queue_rows(session, numbers)
        return rows if looker is None else visible_rows(looker, rows)

    @contextmanager
    def all_incidents(self, viewer: str) -> Iterator[Iterator[Incident]]:
        """Every incident in key order, read in batches while the block runs; to a `viewer` outside
        the security group, confidential ones are placeholders."""
        looker = self.access.context(viewer)
        with self.db.read() as session:
            entity = placeholders.incident_entity(session, not looker.sees_confidential)
            yield visible_incidents(looker, repository.iter_incidents(session, entity=entity))

    def payloads(self, status: str | None = None, limit: int = 100) -> list[inbound.StoredPayload]:
        """The webhook bodies received, newest first (`eim payloads`)."""
        with self.db.read() as session:
            return inbound.list_payloads(session, status, limit)

    def change_marker(self) -> int:
        """The timeline's last sequence number: every change moves it (polled every second)."""
        return self.db.peek(queries.CHAIN_SEQ) or 0

    def watch_changes(
        self, on_change: Callable[[int], None], on_live: Callable[[bool], None] | None = None,
        on_topic: Callable[[str], None] | None = None,
    ) -> Callable[[], None] | None:
        """Be told of changes as they are committed, instead of polling the change marker.

        On PostgreSQL: `on_change(marker)` for each committed change, `on_live(True)` once
        listening (read what changed once: anything committed before was not told) and
        `on_live(False)` when listening stopped (poll until it is True again); `on_topic(word)`
        for the other notices ("access": someone's role or groups changed; "service:<host>": a
        heartbeat of `eim service`). While live, the listener itself checks the change marker every
        two minutes in case a notice was lost: subscribers need no poll of their own. All are called on
        the listener's thread: hand over and return. Returns the function that ends the
        subscription — or None on SQLite, where nothing is pushed: poll."""
        listener = self.db.change_listener()
        return None if listener is None else listener.subscribe(on_change, on_live, on_topic)

    def changes_since(self, seq: int) -> tuple[int, set[int]]:
        with self.db.read() as session:
            return queries.changed_since(session, seq)

    def board(self, scope, viewer: str | None = None):
        """The wall board's figures (`domain.board.BoardSnapshot`) for `scope`; for a `viewer`,
        confidential incidents they may not see are placeholders and filters cannot find them."""
        from eim_tui.domain.board import local_day_start
        from eim_tui.store.board import load_board

        now = self.clock.now()
        looker = None if viewer is None else self.access.context(viewer)
        hide = looker is not None and not looker.sees_confidential
        with self.db.read() as session, placeholders.merged(session, hide):
            ref = self.ref
            snapshot = load_board(session, scope, now, local_day_start(now), ref.policies, hide_confidential=hide,
                                  service_policies=ref.service_policies)
        return snapshot if looker is None else snapshot.redacted(lambda rows: visible_rows(looker, rows))

    # --- logging -------------------------------------------------------------------------------

    def log_incident(
        self, report: NewIncident, actor: str, extra: list[events.EventDraft] | None = None,
        also: Callable[[Session, Incident], None] | None = None,
        shape: Callable[[Incident, datetime], Incident] | None = None,
    ) -> Incident:
        """Log a report. `also` runs in the same transaction (the ingest receiver records the alert
        that caused it there), so both commit or neither does. `shape` adjusts the incident before
        it is stored (an alert during a change in progress opens it on hold awaiting change)."""
        now = self.clock.now()
        incident = self.prepare_incident(report, actor, now, shape)
        with self.db.write() as session:
            if report.parent_number is not None:
                repository.get_incident(session, report.parent_number)
            incident = repository.insert_incident(session, incident, self.ref.policies_for(incident.service))
            drafts: list[events.EventDraft] = [created_event(incident)]
            drafts.extend(extra or [])
            self._append(session, incident.number, drafts, now, actor)
            if also is not None:
                also(session, incident)
        return incident

    def prepare_incident(
        self, report: NewIncident, actor: str, now: datetime,
        shape: Callable[[Incident, datetime], Incident] | None = None,
    ) -> Incident:
        """The incident a report logs, checked and authorized but not stored nor numbered yet
        (`log_incident`; the ingest receiver's batches store many at once)."""
        self._check_reference(report.category, report.subcategory, report.service, report.assignment_group)
        confidential = report.confidential or self.ref.is_confidential(report.category)
        incident = build_incident(report, self.ref.matrix, self.ref.policies_for(report.service), now, actor).replace(confidential=confidential)
        if shape is not None:
            incident = shape(incident, now)
        matrix = self.ref.matrix.priority(incident.impact, incident.urgency)
        self.access.authorize(actor, [Action.LOG, *([Action.OVERRIDE_PRIORITY] if incident.priority != matrix else [])])
        return incident

    def _check_reference(self, category: str, subcategory: str, service: str, group: str) -> None:
        if category:
            known = self.ref.category(category)
            if known is None:
                names = ", ".join(c.name for c in self.ref.categories)
                raise ValidationError(f"unknown category {category!r}; use one of: {names}")
            if subcategory and subcategory not in known.subcategories:
                raise ValidationError(
                    f"unknown subcategory {subcategory!r} of {category}; use one of: {', '.join(known.subcategories)}"
                )
        elif subcategory:
            raise ValidationError("a subcategory needs its category")
        if service and self.ref.service(service) is None:
            self.catalogue.check_new_service(service)  # names the closest active ones, and how to add one
        if group and self.ref.group(group) is None:
            raise ValidationError(f"unknown group {group!r}; use one of: {', '.join(g.name for g in self.ref.groups)}")

    # --- changing an incident ------------------------------------------------------------------

    def change(
        self,
        number: int,
        actor: str,
        apply: Callable[[Incident, datetime], Incident],
        expected_version: int | None = None,
        note: str = "",
        extra: list[events.EventDraft] | None = None,
        also: Callable[[Session, Incident], None] | None = None,
    ) -> Incident:
        """Read, apply a pure change, write it guarded by version, and record it — one transaction.

        `also(session, incident_after)` runs in that transaction too (see `log_incident`)."""
        now = self.clock.now()
        looker = self.access.context(actor)  # the role is looked up (and cached) before the write transaction opens
        with self.db.write() as session:
            before = repository.get_incident(session, number, for_update=True)
            repository.check_version(before, expected_version, session)
            try:
                after = apply(before, now)
            except TransitionError as exc:
                raise _as_seen_by(exc, looker) from None
            if after.parent_number is not None and after.parent_number != before.parent_number:
                self._refuse_duplicate_cycle(session, after)
            drafts = events.change_events(before, after, note) + list(extra or [])
            if not drafts:
                if also is not None:
                    also(session, before)
                return before
            # What the change amounts to (cancelling, overriding the matrix…) is judged on its result.
            matrix = self.ref.matrix.priority(after.impact, after.urgency)
            self.access.authorize(actor, required_actions(before, after, matrix), before.key)
            saved = repository.save_incident(session, before, after, self.ref.policies_for(after.service), now)
            self._append(session, number, drafts, now, actor)
            if also is not None:
                also(session, saved)
            return saved

    @staticmethod
    def _refuse_duplicate_cycle(session: Session, incident: Incident) -> None:
        """Duplicate-of links form trees: refuse a parent whose own chain of parents leads back
        here (checked in the writing transaction, for the CLI, the TUI and bulk merge alike)."""
        chain = [incident.number]
        parent = incident.parent_number
        while parent is not None and len(chain) <= 10_000:
            chain.append(parent)
            if parent == incident.number:
                path = " → ".join(format_key(n) for n in chain)
                raise ValidationError(
                    f"{incident.key} cannot be a duplicate of {format_key(incident.parent_number)}: the links would "
                    f"go round in a circle ({path}); link it to an incident that is not its own duplicate"
                )
            parent = repository.get_incident(session, parent).parent_number

    def _append(self, session: Session, number: int, drafts: list[events.EventDraft], at: datetime, actor: str) -> None:
        timeline.append(session, [timeline.NewEvent(number, k, s, d) for k, s, d in drafts], at, actor)

    def acknowledge(self, number: int, actor: str, expected_version: int | None = None) -> Incident:
        return self.change(number, actor, lambda i, now: lifecycle.acknowledge(i, now, actor), expected_version)

    def assign(
        self, number: int, actor: str, group: str | None = None, assignee: str | None = None,
        expected_version: int | None = None,
    ) -> Incident:
        if group:
            self._check_reference("", "", "", group)

        def apply(i: Incident, now: datetime) -> Incident:
            if not i.is_open:
                raise ValidationError(f"{i.key} is {i.state.label}; only open incidents can be assigned")
            return i.replace(
                assignment_group=i.assignment_group if group is None else group,
                assignee=i.assignee if assignee is None else assignee,
            )

        return self.change(number, actor, apply, expected_version)

    def prioritize(
        self, number: int, actor: str, impact: int, urgency: int, override: int | None = None, reason: str = "",
        expected_version: int | None = None,
    ) -> Incident:
        check_level("impact", impact)
        check_level("urgency", urgency)

        def apply(i: Incident, now: datetime) -> Incident:
            if not i.is_open:
                raise ValidationError(f"{i.key} is {i.state.label}; only open incidents can be reprioritized")
            priority, why = decide_priority(self.ref.matrix, impact, urgency, override, reason)
            changed = i.replace(impact=impact, urgency=urgency, priority=priority, priority_override_reason=why)
            return sla.retarget(changed, self.ref.policy(priority, i.service)) if priority != i.priority else changed

        return self.change(number, actor, apply, expected_version)

    def categorize(
        self, number: int, actor: str, category: str, subcategory: str = "", expected_version: int | None = None
    ) -> Incident:
        self._check_reference(category, subcategory, "", "")
        confidential = self.ref.is_confidential(category)
        return self.change(
            number,
            actor,
            lambda i, now: i.replace(category=category, subcategory=subcategory, confidential=i.confidential or confidential),
            expected_version,
        )

    def put_on_hold(
        self, number: int, actor: str, reason: HoldReason | str, note: str = "", expected_version: int | None = None
    ) -> Incident:
        hold = _hold_reason(reason)
        return self.change(number, actor, lambda i, now: lifecycle.put_on_hold(i, now, hold, note), expected_version)

    def resume(self, number: int, actor: str, expected_version: int | None = None) -> Incident:
        return self.change(
            number, actor, lambda i, now: lifecycle.resume(i, now, self.ref.policy(i.priority, i.service).calendar),
            expected_version,
        )

    def resolve(
        self, number: int, actor: str, code: str, notes: str, tested: str = "", communication: str = "",
        expected_version: int | None = None,
    ) -> Incident:
        codes = frozenset(self.ref.resolution_codes)
        return self.change(
            number,
            actor,
            lambda i, now: lifecycle.resolve(i, now, code, notes, tested, communication, codes),
            expected_version,
        )

    def close(
        self, number: int, actor: str, verified_by: str = "", rating: int | None = None, comment: str = "",
        lessons: str = "", review: dict[str, Any] | None = None, expected_version: int | None = None,
    ) -> Incident:
        from eim_tui.services.collab import (
            review_actions_as_tasks,  # the review's actions become tasks
        )

        return self.change(
            number,
            actor,
            lambda i, now: lifecycle.close(i, now, verified_by or actor, rating, comment, lessons, review),
            expected_version,
            also=lambda session, i: review_actions_as_tasks(session, i, actor, self.clock.now()),
        )

    def reopen(self, number: int, actor: str, reason: str, expected_version: int | None = None) -> Incident:
        return self.change(
            number,
            actor,
            lambda i, now: lifecycle.reopen(i, now, reason, self.ref.policy(i.priority, i.service)),
            expected_version,
            note=reason.strip(),
        )

    def cancel(self, number: int, actor: str, reason: str, expected_version: int | None = None) -> Incident:
        return self.change(
            number, actor, lambda i, now: lifecycle.cancel(i, now, reason, self.ref.policy(i.priority, i.service).calendar),
            expected_version,
        )

    def set_major(self, number: int, actor: str, major: bool, expected_version: int | None = None) -> Incident:
        return self.change(number, actor, lambda i, now: i.replace(major=major), expected_version)

    def link(
        self, number: int, actor: str, parent: int | None = None, problem_ref: str | None = None,
        change_ref: str | None = None, expected_version: int | None = None,
    ) -> Incident:
        if parent is not None:
            if parent == number:
                raise ValidationError("an incident cannot be a duplicate of itself")
            self.get(parent)  # must exist

        def apply(i: Incident, now: datetime) -> Incident:
            return i.replace(
                parent_number=i.parent_number if parent is None else parent,
                problem_ref=i.problem_ref if problem_ref is None else problem_ref.strip(),
                change_ref=i.change_ref if change_ref is None else change_ref.strip(),
            )

        return self.change(number, actor, apply, expected_version)

    def similar_open(
        self, service: str, ci: str, title: str, limit: int = 5, viewer: str | None = None
    ) -> list[SimilarIncident]:
        """Open incidents like a report being logged, best first (`eim_tui.services.similar`); for a `viewer`
        outside the security group, never a confidential one (it would show its title)."""
        include = viewer is None or self.access.context(viewer).sees_confidential
        return similar_open(self.db, service, ci, title, limit, include_confidential=include)

    def similar_resolved(self, number: int, viewer: str | None = None, limit: int = 5) -> list[ResolvedIncident]:
        """Resolved and closed incidents like this one, with how each was resolved (full text,
        `eim_tui.services.similar`). A `viewer` outside the security group is refused a confidential
        incident and is never shown one among the similar."""
        looker = None if viewer is None else self.access.context(viewer)
        incident = self.get(number)
        if looker is not None and not can_see(looker, incident):
            raise PermissionDenied(f"{incident.key} is confidential: only the security group sees its details")
        include = looker is None or looker.sees_confidential
        return similar_resolved(self.db, incident, limit, include_confidential=include)


def _hold_reason(value: HoldReason | str) -> HoldReason:
    aliases = {"user": "awaiting_user", "vendor": "awaiting_vendor", "change": "awaiting_change"}
    if isinstance(value, str):
        value = aliases.get(value.lower(), value)
    return parse_enum(HoldReason, value, "hold reason")


def _as_seen_by(refused: TransitionError, looker) -> TransitionError:
    """The refusal listing only the steps this actor's role may take (a responder is not told to cancel)."""
    names = {a.value for a in Action}
    mine = [s for s in refused.allowed if s not in names or looker.allows(Action(s))]
    if mine == refused.allowed:
        return refused
    return TransitionError(refused.action, refused.state, mine, nothing=f"{looker.name} may not change it now")
