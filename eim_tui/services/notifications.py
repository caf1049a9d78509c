"""Outbound notifications as use cases: channels of people and groups, turning timeline events into
outbox rows, and recording each delivery's outcome in the timeline — one transaction each.

`eim service` (notify/service.py) drives these; it never opens a session itself. Who hears of what:

* an **escalation** reaches the people its rule alerted (its `notify` roles, as the timeline records
  them), the assignment group's channels when the rule alerts the group, and the people and groups
  the rule names directly (`reach = ["bob", "group:network-ops"]`). The rules are the store's
  (`eim escalation list`, changed with `eim catalog apply`), seeded from data/escalation.toml;
* an **SLA breach** reaches the assignee and the assignment group's channels;
* an **assignment** reaches the new assignee, unless they took it themselves.

A person without channels of their own is reached through the defaults (`[notify] default`), each
default URL once per event. Breaches and assignments below the configured severities reach nobody
(escalations always go); in quiet hours only the `quiet_severities` go at once, the rest wait for
the quiet hours to end. Delivery URLs are never written to the timeline: only their kind.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, time, timedelta
from typing import TYPE_CHECKING

from eim_tui.domain import sla
from eim_tui.domain.durations import format_countdown, parse_duration
from eim_tui.domain.errors import ValidationError
from eim_tui.domain.escalation import EscalationRule, Recipient
from eim_tui.domain.model import EventKind, Incident, format_key
from eim_tui.services.sla import ACTOR
from eim_tui.store import change_feed, outbox, sla_queries, timeline
from eim_tui.store import channels as stored_channels
from eim_tui.store.outbox import Delivery, Heartbeat, NotifyEvent, OutboxDraft

if TYPE_CHECKING:
    from eim_tui.services.incidents import Services

KINDS = (EventKind.ESCALATION, EventKind.SLA_BREACH, EventKind.ASSIGNED)
CURSOR = "outbound"
FIRST_LOOKBACK = timedelta(minutes=15)  # a first service picks up what happened this recently
BATCH = 100  # events per transaction: 500 held the write lock for about 250 ms, an alert waited behind it
DEFAULT = "default"


@dataclass(frozen=True)
class DeliveryPolicy:
    """What `[notify]` and `[alerts]` say about outbound deliveries."""

    defaults: tuple[str, ...] = ()
    severities: frozenset[int] = frozenset({1, 2, 3})  # breaches and assignments of these reach people
    quiet_hours: tuple[time, time] | None = None  # local time
    quiet_severities: frozenset[int] = frozenset({1})  # these go at once even in quiet hours
    attempts: int = 5
    backoff: timedelta = timedelta(seconds=30)  # the first retry; doubles up to max_backoff
    max_backoff: timedelta = timedelta(minutes=15)

    def retry_at(self, attempt: int, now: datetime) -> datetime | None:
        """When to try again after failed attempt number `attempt`; None: give up."""
        if attempt >= self.attempts:
            return None
        return now + min(self.max_backoff, self.backoff * (2 ** (attempt - 1)))

    def not_before(self, severity: int, now: datetime) -> datetime:
        if self.quiet_hours is None or severity in self.quiet_severities:
            return now
        local = now.astimezone()
        start, end = self.quiet_hours
        here = local.time().replace(tzinfo=None)
        inside = start <= here < end if start <= end else (here >= start or here < end)
        if not inside:
            return now
        ends = local.replace(hour=end.hour, minute=end.minute, second=0, microsecond=0)
        if ends <= local:
            ends += timedelta(days=1)
        return ends


@dataclass(frozen=True, slots=True)
class Outcome:
    ok: bool
    error: str = ""


@dataclass(frozen=True, slots=True)
class Enqueued:
    read: int  # events read from the timeline
    added: int  # outbox rows added (another service may have added the rest)
    lines: list[str]  # one per event that reaches someone: what, and to whom


def channel_key(url: str) -> str:
    return hashlib.sha256(url.encode()).hexdigest()


def channel_kind(url: str) -> str:
    scheme = url.split("://", 1)[0].lower() if "://" in url else "?"
    return re.sub(r"[^a-z0-9+.-]", "", scheme)[:40] or "?"


class NotificationCases:
    """The outbound-notification use cases on one store (`svc.notifications`)."""

    def __init__(self, services: Services, policy: DeliveryPolicy | None = None) -> None:
        self.svc = services
        self.db = services.db
        self.clock = services.clock
        self.policy = policy or DeliveryPolicy()

    # --- channels -------------------------------------------------------------------------------

    def channels(self, kind: str, name: str) -> list[str]:
        with self.db.read() as session:
            stored_channels.check_owner(session, kind, name)
            return stored_channels.channels_of(session, kind, name)

    def set_channels(self, actor: str, kind: str, name: str, urls: Sequence[str]) -> list[str]:
        """Replace an owner's channels: a person may set their own; an admin anyone's."""
        if any(not u.strip() for u in urls):
            raise ValidationError("a channel URL cannot be empty; give one like mailto://user:pass@host?to=addr")
        with self.db.write() as session:
            if not (kind == "user" and name == actor):
                self.svc.access._may_manage(session, actor)
            return stored_channels.set_channels(session, kind, name, [u.strip() for u in urls])

    def every_channel(self) -> list[tuple[str, str, str]]:
        with self.db.read() as session:
            return stored_channels.all_channels(session)

    def known_names(self) -> tuple[set[str], set[str]]:
        with self.db.read() as session:
            return stored_channels.known_names(session)

    # --- events into the outbox -----------------------------------------------------------------

    def enqueue_new(self, limit: int = BATCH) -> Enqueued:
        """Turn the events since the cursor into outbox rows and move the cursor, in one transaction.

        Call again while `read` equals `limit`: there may be more."""
        now = self.clock.now()
        with self.db.read() as session:  # most calls find nothing: no write transaction for those
            seen = outbox.cursor(session, CURSOR)
            if seen is not None and not outbox.events_since(session, seen, KINDS, 1):
                return Enqueued(0, 0, [])
        with self.db.write() as session:
            start = outbox.cursor(session, CURSOR)
            if start is None:
                start = outbox.last_seq_before(session, now - FIRST_LOOKBACK)
            seq = outbox.lock_cursor(session, CURSOR, start)
            events = outbox.events_since(session, seq, KINDS, limit)
            if not events:
                outbox.advance_cursor(session, CURSOR, outbox.head_seq(session))
                return Enqueued(0, 0, [])
            numbers = sorted({e.number for e in events})
            incidents = {i.number: i for i in sla_queries.read_incidents(session, numbers)}
            drafts = self._drafts(session, events, incidents, now)
            added = outbox.enqueue(session, drafts, now)
            outbox.advance_cursor(session, CURSOR, events[-1].seq)
        per_event: dict[int, list[OutboxDraft]] = {}
        for d in drafts:
            per_event.setdefault(d.event_seq, []).append(d)
        lines = []
        for event in events:
            found = per_event.get(event.seq, [])
            if found:
                who = ", ".join(dict.fromkeys(f"{d.recipient} ({d.channel_kind})" for d in found))
                lines.append(f"{format_key(event.number)} {event.kind.value.replace('_', ' ')}: to {who}")
        return Enqueued(len(events), added, lines)

    def _drafts(self, session, events: list[NotifyEvent], incidents: dict[int, Incident], now: datetime) -> list[OutboxDraft]:
        wanted: list[tuple[NotifyEvent, Incident, list[tuple[str, str]]]] = []
        owners: set[tuple[str, str]] = set()
        for event in events:
            incident = incidents.get(event.number)
            if incident is None:
                continue
            targets = self.targets(event, incident)
            wanted.append((event, incident, targets))
            owners.update(targets)
        found = stored_channels.channels_by_owner(session, owners)
        drafts: list[OutboxDraft] = []
        for event, incident, targets in wanted:
            title, body = message(event, incident, self.svc.ref.policy(incident.priority, incident.service), now)
            seen: set[str] = set()
            for kind, name in targets:
                urls = found.get((kind, name), [])
                recipient = name if kind == "user" else f"group:{name}"
                if not urls and kind == "user":
                    urls, recipient = list(self.policy.defaults), DEFAULT
                for url in urls:
                    key = channel_key(url)
                    if (recipient, key) in seen:
                        continue
                    seen.add((recipient, key))
                    drafts.append(OutboxDraft(event.seq, event.number, recipient, key, channel_kind(url), url,
                                              incident.priority, title, body,
                                              self.policy.not_before(incident.priority, now)))
        return drafts

    def targets(self, event: NotifyEvent, incident: Incident) -> list[tuple[str, str]]:
        """Who an event reaches, as (user|group, name), each once, in order."""
        found: list[tuple[str, str]] = []
        if event.kind is EventKind.ESCALATION:
            found += [("user", p) for p in event.data.get("notify") or []]
            name = event.data.get("rule", "")
            rule = next((r for r in getattr(self.svc.ref, "escalation_rules", ()) if r.name == name), None)
            if rule is not None and Recipient.GROUP in rule.notify and incident.assignment_group:
                found.append(("group", incident.assignment_group))
            for target in rule.reach if rule is not None else ():
                found.append(("group", target[6:]) if target.startswith("group:") else ("user", target))
        elif incident.priority not in self.policy.severities:
            return []
        elif event.kind is EventKind.SLA_BREACH:
            if incident.assignee:
                found.append(("user", incident.assignee))
            if incident.assignment_group:
                found.append(("group", incident.assignment_group))
        elif event.kind is EventKind.ASSIGNED:
            new = str(event.data.get("new", ""))
            person = new.split("/", 1)[1] if "/" in new else ""
            if person and person != "—" and person != event.actor:
                found.append(("user", person))
        return list(dict.fromkeys(found))

    # --- delivering -----------------------------------------------------------------------------

    def claim(self, owner: str, lease: timedelta, live: Sequence[str], limit: int = 20) -> list[Delivery]:
        now = self.clock.now()
        with self.db.read() as session:  # idle: a read, not a write transaction every few seconds
            if not outbox.claimable(session, now, lease, live):
                return []
        with self.db.write() as session:
            return outbox.claim(session, owner, self.clock.now(), lease, live, limit)

    def finish(self, delivery: Delivery, owner: str, outcome: Outcome) -> str:
        """Mark a claimed delivery and record it in the timeline, together; returns what happened:
        sent, retry, failed, or lost (another service took the claim over; nothing recorded)."""
        now = self.clock.now()
        retry = None if outcome.ok else self.policy.retry_at(delivery.attempt, now)
        status = outbox.SENT if outcome.ok else outbox.FAILED
        with self.db.write() as session:
            outbox.lock_incident(session, delivery.incident_id)
            if not outbox.mark(session, delivery.id, owner, status, outcome.error, now, retry):
                return "lost"
            event = self._record(delivery, outcome, retry)
            if event is not None:
                timeline.append_once(session, event, now, ACTOR)
        return "sent" if outcome.ok else ("retry" if retry is not None else "failed")

    def _record(self, d: Delivery, outcome: Outcome, retry: datetime | None) -> timeline.NewEvent | None:
        who = "the default channels" if d.recipient == DEFAULT else d.recipient
        data = {"recipient": d.recipient, "channel": d.channel_kind, "ok": outcome.ok, "attempt": d.attempt,
                "delivery": d.id, "event": d.event_seq}
        if outcome.ok:
            return timeline.NewEvent(d.incident_id, EventKind.NOTIFICATION_SENT,
                                     f"notified {who} by {d.channel_kind}", data, once_key=f"notify:{d.id}:sent")
        data["error"] = outcome.error
        if retry is None:
            return timeline.NewEvent(d.incident_id, EventKind.NOTIFICATION_SENT,
                                     f"notification to {who} by {d.channel_kind} failed after {d.attempt} attempts: "
                                     f"{outcome.error}", data, once_key=f"notify:{d.id}:gave-up")
        # Only the first failure is written: the timeline is not a retry log (the outbox is).
        return timeline.NewEvent(d.incident_id, EventKind.NOTIFICATION_SENT,
                                 f"notification to {who} by {d.channel_kind} failed: {outcome.error}; retrying",
                                 data, once_key=f"notify:{d.id}:failed")

    def next_due(self) -> datetime | None:
        with self.db.read() as session:
            return outbox.next_due(session)

    def outbox_counts(self) -> dict[str, int]:
        with self.db.read() as session:
            return outbox.counts(session)

    # --- heartbeats -----------------------------------------------------------------------------

    def beat(self, instance: str, host: str, pid: int, started_at: datetime) -> None:
        with self.db.write() as session:
            outbox.beat(session, instance, host, pid, started_at, self.clock.now())
            change_feed.announce(session, change_feed.SERVICE + host)  # TUIs listening need not read it

    def stop_beating(self, instance: str) -> None:
        with self.db.write() as session:
            outbox.forget(session, instance)

    def running_services(self, fresh: timedelta = timedelta(seconds=15)) -> list[Heartbeat]:
        """The services that beat within `fresh` (newest first)."""
        with self.db.read() as session:
            return outbox.heartbeats(session, self.clock.now() - fresh)


def message(event: NotifyEvent, incident: Incident, policy: sla.SlaPolicy, now: datetime) -> tuple[str, str]:
    """A short message someone can act on from a phone: what, how bad, the SLA left, the command."""
    key = format_key(incident.number)
    what = {EventKind.ESCALATION: "escalated", EventKind.SLA_BREACH: "SLA breached",
            EventKind.ASSIGNED: "assigned to you"}.get(event.kind, event.kind.value)
    name = "confidential incident" if incident.confidential else incident.title
    title = f"Sev{incident.priority} {key} {what}: {name}"[:200]
    lines = [f"{key} · Sev{incident.priority} · {name}", f"What happened: {event.summary}"]
    clocks = []
    for reading in (sla.response_clock(incident, policy, now), sla.resolution_clock(incident, policy, now)):
        if reading.stopped_at is not None:
            continue
        left = format_countdown(reading.remaining)
        clocks.append(f"{reading.name} {'breached ' + left + ' ago' if reading.remaining < 0 else left + ' left'}")
    if clocks:
        lines.append("SLA: " + ", ".join(clocks))
    act = f"eim ack {key}" if incident.acknowledged_at is None else f"eim show {key}"
    lines.append(f"Act: {act}")
    return title, "\n".join(lines)


def check_reach(rules: Iterable[EscalationRule], users: set[str], groups: set[str]) -> list[str]:
    """Problems with the people and groups the store's escalation rules name: one line each."""
    problems = []
    for rule in rules:
        fix = "fix the rule with `eim catalog export` / `eim catalog apply`"
        for name in rule.reach:
            if name.startswith("group:"):
                if name[6:] not in groups:
                    problems.append(f"escalation rule {rule.name!r} reaches unknown group {name[6:]!r}; use one of "
                                    f"{', '.join(sorted(groups))}, or {fix}")
            elif name not in users:
                problems.append(f"escalation rule {rule.name!r} reaches unknown person {name!r}; add them with "
                                f"`eim users add` or {fix}")
    return problems


def parse_positive(text: str, what: str) -> timedelta:
    """A duration that must be more than zero ("30s", "5m")."""
    try:
        value = parse_duration(text)
    except ValueError as exc:
        raise ValidationError(f"{what}: {exc}") from None
    if value <= timedelta(0):
        raise ValidationError(f"{what} must be more than 0, not {text!r}")
    return value

