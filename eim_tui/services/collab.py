"""Working an incident together, as use cases: roles, tasks and post-incident actions, subscribers,
stakeholder updates — one transaction each, written to the timeline with it — and what `eim
service` does about them: reminders of updates due, missed updates and overdue actions (each
recorded once), the final update on resolution, and the outbox rows that carry them to people.

`CollabCases(svc)` works on the store of a `Services`. The update cadence (`[updates] cadence`)
is read by the callers that have the configuration (the command line, the TUI, the service) and
passed in; the services never read configuration.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from eim_tui.domain import events
from eim_tui.domain.access import Action, can_see
from eim_tui.domain.collab import (
    SINGLE_ROLES,
    SUBSCRIBER_KINDS,
    Collaboration,
    IncidentRole,
    Subscriber,
    Task,
    TaskKind,
    TaskStatus,
    missed_at,
    next_update_due,
    roles_line,
    update_text,
)
from eim_tui.domain.errors import PermissionDenied, ValidationError
from eim_tui.domain.model import EventKind, Incident, State, TimelineEvent, format_key
from eim_tui.services.notifications import (
    DEFAULT,
    DeliveryPolicy,
    Enqueued,
    channel_key,
    channel_kind,
)
from eim_tui.services.sla import ACTOR
from eim_tui.store import channels as stored_channels
from eim_tui.store import collab as store
from eim_tui.store import outbox, repository, sla_queries, timeline
from eim_tui.store.outbox import NotifyEvent, OutboxDraft

if TYPE_CHECKING:
    from eim_tui.services.incidents import Services

CURSOR = "collab"
BATCH = 500
FIRST_LOOKBACK = timedelta(minutes=15)
# What the collab outbox stream reads: updates to send, reminders to deliver, and resolutions
# (a resolved incident with subscribers gets its final update from the service).
KINDS = (EventKind.STAKEHOLDER_UPDATE, EventKind.UPDATE_DUE, EventKind.ACTION_OVERDUE, EventKind.STATE_CHANGED)


@dataclass(frozen=True, slots=True)
class MajorSummary:
    """What the wall shows of a major incident: its roles and when stakeholders hear next."""

    number: int
    roles: str  # "commander bob · scribe — · …"
    commander: str
    next_update_at: datetime | None
    last_update_at: datetime | None


class CollabCases:
    def __init__(self, services: Services) -> None:
        self.svc = services
        self.db = services.db
        self.clock = services.clock

    # --- reading --------------------------------------------------------------------------------

    def collaboration(self, number: int, viewer: str | None = None) -> Collaboration:
        with self.db.read() as session:
            incident = repository.get_incident(session, number)
            self._may_see(viewer, incident)
            return store.collaboration(session, number)

    def known_users(self) -> list[str]:
        with self.db.read() as session:
            return store.user_names(session)

    def tasks(self, number: int, viewer: str | None = None) -> list[Task]:
        with self.db.read() as session:
            self._may_see(viewer, repository.get_incident(session, number))
            return store.tasks_of(session, number)

    def actions(self, viewer: str, open_only: bool = False, mine: bool = False) -> list[Task]:
        """Post-incident actions across incidents (`eim actions`); a viewer outside the security
        group sees those of confidential incidents only when they own them."""
        hide = not self.svc.access.context(viewer).sees_confidential
        with self.db.read() as session:
            return store.actions(session, open_only, viewer if mine else None, hide, also_owner=viewer)

    def next_update(self, number: int, cadence: Mapping[int, timedelta], viewer: str | None = None) -> datetime | None:
        with self.db.read() as session:
            incident = repository.get_incident(session, number)
            self._may_see(viewer, incident)
            return next_update_due(incident, store.collaboration(session, number), cadence)

    def major_summaries(self, numbers: Sequence[int], cadence: Mapping[int, timedelta]) -> dict[int, MajorSummary]:
        """Roles and the next stakeholder update of each incident, for the wall's major incidents
        (one read for all of them)."""
        with self.db.read() as session:
            incidents = sla_queries.read_incidents(session, list(numbers))
            collabs = _summaries(session, list(numbers))
        found = {}
        for incident in incidents:
            collab = collabs[incident.number]
            last = collab.last_update
            found[incident.number] = MajorSummary(incident.number, roles_line(collab), collab.commander,
                                                  next_update_due(incident, collab, cadence),
                                                  last.at if last else None)
        return found

    def _may_see(self, viewer: str | None, incident: Incident) -> None:
        if viewer is not None and not can_see(self.svc.access.context(viewer), incident):
            raise PermissionDenied(f"{incident.key} is confidential: only the security group sees its details")

    # --- roles ----------------------------------------------------------------------------------

    def set_roles(self, number: int, actor: str, holders: Mapping[IncidentRole, Sequence[str]],
                  clear: Iterable[IncidentRole] = ()) -> Collaboration:
        """Clear the `clear` roles, then give each role in `holders` to its people: the commander,
        scribe and comms lead are one person each (replaced); experts are added. Every person must
        be a known user, or nothing is written."""
        self.svc.access.authorize(actor, [Action.ASSIGN])
        clear = set(clear)
        for role, names in holders.items():
            if role in SINGLE_ROLES and len(names) > 1:
                raise ValidationError(f"one {role.label} at a time, not {', '.join(names)}")
            for name in names:
                if not name.strip():
                    raise ValidationError(f"the {role.label} needs a user name; use --clear {role.value} to free the role")
        if not holders and not clear:
            raise ValidationError("nothing to change; give --commander, --scribe, --comms, --expert or --clear ROLE")
        now = self.clock.now()
        with self.db.write() as session:
            incident = repository.get_incident(session, number, for_update=True)
            self._may_see(actor, incident)
            unknown = store.unknown_users(session, [n.strip() for names in holders.values() for n in names])
            if unknown:
                raise ValidationError(
                    f"unknown user {', '.join(repr(u) for u in unknown)}: roles go to people eim knows; "
                    "see `eim users list`, or add them with `eim users add NAME --role responder`"
                )
            before = store.roles_of(session, number)
            after = [(r, u) for r, u in before if r not in clear]
            for role, names in holders.items():
                if role in SINGLE_ROLES:
                    after = [(r, u) for r, u in after if r is not role]
                for name in names:
                    if (role, name.strip()) not in after:
                        after.append((role, name.strip()))
            old, new = Collaboration(tuple(before)), Collaboration(tuple(after))
            if old.role_map() != new.role_map():
                store.replace_roles(session, number, after)
                changes = _role_changes(old, new)
                timeline.append(session, [timeline.NewEvent(number, EventKind.ROLES_CHANGED, "roles: " + "; ".join(changes),
                                                            {"old": old.role_map(), "new": new.role_map()})], now, actor)
            return store.collaboration(session, number)

    # --- tasks ----------------------------------------------------------------------------------

    def add_task(self, number: int, actor: str, what: str, owner: str = "", due_at: datetime | None = None,
                 kind: TaskKind = TaskKind.TASK) -> Task:
        self.svc.access.authorize(actor, [Action.NOTE])
        what, owner = what.strip(), owner.strip()
        if not what:
            raise ValidationError("say what is to be done: the task's text cannot be empty")
        now = self.clock.now()
        if due_at is not None and due_at <= now:
            raise ValidationError(f"the due time {due_at:%Y-%m-%d %H:%M} UTC is in the past; give a time to come")
        if kind is TaskKind.ACTION and not owner:
            raise ValidationError("a post-incident action needs an owner (--who NAME)")
        with self.db.write() as session:
            incident = repository.get_incident(session, number, for_update=True)
            self._may_see(actor, incident)
            if owner and store.unknown_users(session, [owner]):
                raise ValidationError(f"unknown user {owner!r}; see `eim users list`")
            task = store.add_task(session, number, kind, what, owner, due_at, actor, now)
            noun = "post-incident action" if kind is TaskKind.ACTION else "task"
            summary = f"{noun} #{task.number} added: {events.show(what)}"
            if owner:
                summary += f" (who: {owner})"
            if due_at is not None:
                summary += f" due {events.show(due_at)}"
            timeline.append(session, [timeline.NewEvent(number, EventKind.TASK_ADDED, summary, _task_data(task))],
                            now, actor)
            return task

    def finish_task(self, number: int, task_number: int, actor: str) -> Task:
        self.svc.access.authorize(actor, [Action.NOTE])
        now = self.clock.now()
        with self.db.write() as session:
            incident = repository.get_incident(session, number, for_update=True)
            self._may_see(actor, incident)
            task = store.get_task(session, number, task_number)
            if task.status is TaskStatus.DONE:
                raise ValidationError(f"{task.label} is already done (by {task.done_by or '—'})")
            done = store.finish_task(session, task, actor, now)
            noun = "post-incident action" if task.kind is TaskKind.ACTION else "task"
            timeline.append(session, [timeline.NewEvent(number, EventKind.TASK_DONE,
                                                        f"{noun} #{task.number} done: {events.show(task.what)}",
                                                        _task_data(done))], now, actor)
            return done

    # --- subscribers ----------------------------------------------------------------------------

    def subscribe(self, number: int, actor: str, kind: str, target: str, add: bool = True) -> list[Subscriber]:
        """Add (or with `add=False` remove) a subscriber to the incident's stakeholder updates.
        A URL is checked by the caller (the command line, with apprise); it never enters the timeline."""
        self.svc.access.authorize(actor, [Action.NOTE])
        if kind not in SUBSCRIBER_KINDS:
            raise ValidationError(f"subscriber kind {kind!r}: use one of {', '.join(SUBSCRIBER_KINDS)}")
        target = target.strip()
        if not target:
            raise ValidationError(f"the {kind} to {'subscribe' if add else 'unsubscribe'} cannot be empty")
        now = self.clock.now()
        with self.db.write() as session:
            incident = repository.get_incident(session, number, for_update=True)
            self._may_see(actor, incident)
            if add and kind in ("user", "group"):
                stored_channels.check_owner(session, kind, target)
            changed = (store.add_subscriber if add else store.remove_subscriber)(session, number, kind, target)
            if not changed and not add:
                raise ValidationError(f"{_shown(kind, target)} is not subscribed to {incident.key}")
            if changed:
                verb = "subscribed" if add else "unsubscribed"
                timeline.append(session, [timeline.NewEvent(
                    number, EventKind.SUBSCRIBERS_CHANGED, f"{verb} {_shown(kind, target)} to stakeholder updates",
                    {"kind": kind, "target": target if kind != "url" else channel_kind(target), "added": add})],
                    now, actor)
            return store.subscribers_of(session, number)

    # --- stakeholder updates --------------------------------------------------------------------

    def post_update(self, number: int, actor: str, text: str, next_update_at: datetime | None = None,
                    final: bool = False) -> TimelineEvent:
        """Record a stakeholder update; `eim service` sends it to the incident's subscribers."""
        self.svc.access.authorize(actor, [Action.NOTE])
        text = text.strip()
        if not text:
            raise ValidationError("the update is empty; say what is happening, the impact and what happens next")
        now = self.clock.now()
        if next_update_at is not None and next_update_at <= now:
            raise ValidationError(f"the next update time {next_update_at:%H:%M} UTC is in the past; give a time to come")
        with self.db.write() as session:
            incident = repository.get_incident(session, number, for_update=True)
            self._may_see(actor, incident)
            return timeline.append(session, [_update_event(incident, text, next_update_at, final, len(
                store.subscribers_of(session, number)))], now, actor)[0]

    # --- what the service does ------------------------------------------------------------------

    def remind(self, cadence: Mapping[int, timedelta], limit: int = 500) -> list[str]:
        """Record (once each) updates now due, updates missed and overdue post-incident actions;
        returns one log line per record. Safe for any number of services at once (once-keys)."""
        now = self.clock.now()
        lines: list[str] = []
        with self.db.read() as session:
            numbers = store.waited_on(session, sorted(cadence), limit)
            incidents = sla_queries.read_incidents(session, numbers)
            collabs = _summaries(session, numbers)  # a few reads for all of them, not a few each
            overdue = store.overdue_actions(session, now, limit)
        wanted: list[timeline.NewEvent] = []
        for incident in incidents:
            collab = collabs[incident.number]
            due = next_update_due(incident, collab, cadence)
            if due is None or due > now:
                continue
            to = collab.commander or incident.assignee
            stamp = due.isoformat()
            wanted.append(timeline.NewEvent(
                incident.number, EventKind.UPDATE_DUE,
                f"stakeholder update due at {events.show(due)}; reminded {to or 'nobody (no commander, no assignee)'}",
                {"due_at": stamp, "to": to}, once_key=f"update-due:{incident.number}:{stamp}"))
            if now >= missed_at(due, cadence.get(incident.priority)):
                wanted.append(timeline.NewEvent(
                    incident.number, EventKind.UPDATE_MISSED,
                    f"stakeholder update missed: due at {events.show(due)}, none sent",
                    {"due_at": stamp, "to": to}, once_key=f"update-missed:{incident.number}:{stamp}"))
        for task in overdue:
            stamp = task.due_at.isoformat() if task.due_at else ""
            wanted.append(timeline.NewEvent(
                task.incident_number, EventKind.ACTION_OVERDUE,
                f"post-incident action #{task.number} overdue (due {events.show(task.due_at)}): "
                f"{events.show(task.what)}; reminded {task.owner}",
                {"task": task.number, "owner": task.owner, "what": task.what, "due_at": stamp},
                once_key=f"action-overdue:{task.id}:{stamp}"))
        for event in wanted:
            if self._record_once(event, now):
                lines.append(f"{format_key(event.incident_number)} {event.summary}")
        return lines

    def _record_once(self, event: timeline.NewEvent, now: datetime) -> bool:
        with self.db.read() as session:
            if store.once_recorded(session, event.once_key):
                return False
        with self.db.write() as session:
            outbox.lock_incident(session, event.incident_number)
            return timeline.append_once(session, event, now, ACTOR) is not None

    def enqueue_new(self, policy: DeliveryPolicy, limit: int = BATCH) -> Enqueued:
        """Turn stakeholder updates, update reminders and overdue actions since the collab cursor
        into outbox rows (delivered by `eim service` like every notification), and give each newly
        resolved incident with subscribers its final update. One transaction; call again while
        `read` equals `limit`."""
        now = self.clock.now()
        with self.db.read() as session:
            seen = outbox.cursor(session, CURSOR)
            if seen is not None and not outbox.events_since(session, seen, KINDS, 1):
                return Enqueued(0, 0, [])
        lines: list[str] = []
        with self.db.write() as session:
            start = outbox.cursor(session, CURSOR)
            if start is None:
                start = outbox.last_seq_before(session, now - FIRST_LOOKBACK)
            seq = outbox.lock_cursor(session, CURSOR, start)
            found = outbox.events_since(session, seq, KINDS, limit)
            if not found:
                outbox.advance_cursor(session, CURSOR, outbox.head_seq(session))
                return Enqueued(0, 0, [])
            numbers = sorted({e.number for e in found})
            incidents = {i.number: i for i in sla_queries.read_incidents(session, numbers)}
            drafts: list[OutboxDraft] = []
            for event in found:
                incident = incidents.get(event.number)
                if incident is None:
                    continue
                if event.kind is EventKind.STATE_CHANGED:
                    if event.data.get("new") == State.RESOLVED.value and store.subscribers_of(session, event.number):
                        lines += self._final_update(session, event, incident, now)
                    continue
                targets = self._targets(session, event)
                mine = self._drafts(session, event, incident, targets, policy, now)
                drafts += mine
                if mine:
                    who = ", ".join(dict.fromkeys(f"{d.recipient} ({d.channel_kind})" for d in mine))
                    lines.append(f"{format_key(event.number)} {event.kind.value.replace('_', ' ')}: to {who}")
            added = outbox.enqueue(session, drafts, now)
            outbox.advance_cursor(session, CURSOR, found[-1].seq)
        return Enqueued(len(found), added, lines)

    def _final_update(self, session, event: NotifyEvent, incident: Incident, now: datetime) -> list[str]:
        with_ = event.data.get("with") or {}
        code = (with_.get("resolution_code") or {}).get("new") or incident.resolution_code
        notes = (with_.get("resolution_notes") or {}).get("new") or incident.resolution_notes
        told = (with_.get("resolution_communication") or {}).get("new") or incident.resolution_communication
        text = update_text(f"resolved ({code}): {notes}" if notes else f"resolved ({code})", told, "",
                           "none: this is the final update")
        outbox.lock_incident(session, event.number)
        draft = _update_event(incident, text, None, True, len(store.subscribers_of(session, event.number)))
        once = timeline.NewEvent(draft.incident_number, draft.kind, draft.summary, draft.data,
                                 once_key=f"final-update:{event.number}:{event.seq}")
        if timeline.append_once(session, once, now, ACTOR) is None:
            return []
        return [f"{format_key(event.number)} resolved: final stakeholder update recorded"]

    def _targets(self, session, event: NotifyEvent) -> list[tuple[str, str]]:
        if event.kind is EventKind.STAKEHOLDER_UPDATE:
            return [(s.kind, s.target) for s in store.subscribers_of(session, event.number)]
        person = str(event.data.get("owner" if event.kind is EventKind.ACTION_OVERDUE else "to") or "")
        return [("user", person)] if person else []

    def _drafts(self, session, event: NotifyEvent, incident: Incident, targets: list[tuple[str, str]],
                policy: DeliveryPolicy, now: datetime) -> list[OutboxDraft]:
        found = stored_channels.channels_by_owner(session, [t for t in targets if t[0] != "url"])
        title, body = message(event, incident)
        drafts, seen = [], set()
        for kind, name in targets:
            if kind == "url":
                urls, recipient = [name], f"url:{channel_kind(name)}"
            else:
                urls = found.get((kind, name), [])
                recipient = name if kind == "user" else f"group:{name}"
                if not urls and kind == "user":
                    urls, recipient = list(policy.defaults), DEFAULT
            for url in urls:
                key = channel_key(url)
                if (recipient, key) in seen:
                    continue
                seen.add((recipient, key))
                drafts.append(OutboxDraft(event.seq, event.number, recipient, key, channel_kind(url), url,
                                          incident.priority, title, body, policy.not_before(incident.priority, now)))
        return drafts


def _summaries(session, numbers: Sequence[int]) -> dict[int, Collaboration]:
    """Roles, whether anyone subscribed, and the last update of many incidents (no tasks): what
    the cadence and the wall need, in four reads whatever their number."""
    roles = store.roles_by_incident(session, numbers)
    updates = store.last_updates(session, numbers)
    subscribed = store.subscribed(session, numbers)
    return {n: Collaboration(tuple(roles.get(n, ())), (), (Subscriber("?", "?"),) if n in subscribed else (),
                             updates.get(n)) for n in numbers}


def message(event: NotifyEvent, incident: Incident) -> tuple[str, str]:
    """The short message a stakeholder update, an update reminder or an overdue action becomes."""
    key = format_key(incident.number)
    name = "confidential incident" if incident.confidential else incident.title
    if event.kind is EventKind.STAKEHOLDER_UPDATE:
        final = " (final)" if event.data.get("final") else ""
        title = f"Sev{incident.priority} {key} update{final}: {name}"
        lines = [str(event.data.get("text", ""))]
        if event.data.get("next_update_at"):
            lines.append(f"Next update by {events.show(datetime.fromisoformat(event.data['next_update_at']))}")
        lines.append(f"More: eim show {key}")
    elif event.kind is EventKind.UPDATE_DUE:
        title = f"Sev{incident.priority} {key}: stakeholder update due"
        lines = [f"{key} · Sev{incident.priority} · {name}",
                 f"The next stakeholder update was due at {events.show(datetime.fromisoformat(event.data['due_at']))}.",
                 f"Act: eim update {key} --text '…' (or u on the incident in eim)"]
    else:
        title = f"{key}: post-incident action #{event.data.get('task')} overdue"
        lines = [f"{key} · {name}", f"Action: {event.data.get('what', '')}",
                 f"Was due: {event.data.get('due_at', '')}", f"Act: eim task done {key} {event.data.get('task')}"]
    return title[:200], "\n".join(lines)


def _update_event(incident: Incident, text: str, next_at: datetime | None, final: bool,
                  subscribers: int) -> timeline.NewEvent:
    first = text.splitlines()[0] if text else ""
    kind = "final stakeholder update" if final else "stakeholder update"
    summary = f"{kind} to {subscribers} subscriber{'s' if subscribers != 1 else ''}: {events.show(first)}"
    data = {"text": text, "final": final, "subscribers": subscribers,
            "next_update_at": next_at.isoformat() if next_at else None}
    return timeline.NewEvent(incident.number, EventKind.STAKEHOLDER_UPDATE, summary, data)


def _task_data(task: Task) -> dict[str, object]:
    return {"task": task.number, "kind": task.kind.value, "what": task.what, "owner": task.owner,
            "due_at": task.due_at.isoformat() if task.due_at else None, "status": task.status.value}


def _shown(kind: str, target: str) -> str:
    if kind == "url":
        return f"a {channel_kind(target)} URL"  # never the URL: it may hold a secret
    return target if kind == "user" else f"group {target}"


def _role_changes(old: Collaboration, new: Collaboration) -> list[str]:
    out = []
    for role in SINGLE_ROLES:
        a, b = old.holder(role), new.holder(role)
        if a != b:
            out.append(f"{role.label} {a or '—'} → {b or '—'}")
    added = [e for e in new.experts if e not in old.experts]
    gone = [e for e in old.experts if e not in new.experts]
    if added:
        out.append("experts + " + ", ".join(added))
    if gone:
        out.append("experts − " + ", ".join(gone))
    return out


def review_actions_as_tasks(session, incident: Incident, actor: str, now: datetime) -> None:
    """At closure, in the closing transaction: each action of the post-incident review becomes a
    post-incident action (owner from the review; `due` when the review gives an ISO time to come),
    unless one with the same words and owner is there already — so `eim actions` lists them and
    the service reminds their owners."""
    review = incident.post_incident_review or {}
    wanted = [a for a in review.get("actions") or [] if isinstance(a, dict) and str(a.get("action", "")).strip()]
    if not wanted:
        return
    have = {(t.what, t.owner) for t in store.tasks_of(session, incident.number) if t.kind is TaskKind.ACTION}
    for entry in wanted:
        what, owner = str(entry.get("action", "")).strip(), str(entry.get("owner", "")).strip()
        if (what, owner) in have:
            continue
        have.add((what, owner))
        due = _review_due(entry.get("due"), now)
        task = store.add_task(session, incident.number, TaskKind.ACTION, what, owner, due, actor, now)
        summary = f"post-incident action #{task.number} from the review: {events.show(what)} (who: {owner or '—'})"
        if due is not None:
            summary += f" due {events.show(due)}"
        timeline.append(session, [timeline.NewEvent(incident.number, EventKind.TASK_ADDED, summary,
                                                    _task_data(task))], now, actor)


def _review_due(value: object, now: datetime) -> datetime | None:
    if not isinstance(value, str) or not value.strip():
        return None
    try:
        due = datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
    except ValueError:
        return None
    return due if due.tzinfo is not None and due > now else None
