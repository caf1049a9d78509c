"""Who hears of an SLA event, and how often: relevance, de-duplication, rate limit, quiet hours.

Plain Python (domain objects in, no database, no Textual), so the scheduler's thread can decide
and tests can drive it with a fixed clock. `relevant_alerts` turns timeline events into
`SlaNotice`s for one person; `AlertGate` lets a few through one by one and folds a flood into one
summary: 200 breaches at once are one notification "200 incidents breached", not 200.
"""

from __future__ import annotations

from collections import Counter, deque
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, time, timedelta

from eim_tui.domain.model import EventKind, Role, format_key
from eim_tui.domain.sla_alerts import AlertEvent


@dataclass(frozen=True, slots=True)
class SlaNotice:
    """One thing to tell the person at this terminal."""

    key: str  # de-duplication key: incident, clock and kind (an escalation: incident and rule)
    number: int
    kind: EventKind
    severity: int
    title: str  # e.g. "INC-000042 Sev1 SLA breached"
    body: str
    at: datetime

    @property
    def urgent(self) -> bool:
        return self.kind is not EventKind.SLA_WARNING


@dataclass(frozen=True, slots=True)
class Delivery:
    """What one notification says: a single alert, or a summary of several."""

    title: str
    body: str
    alerts: tuple[SlaNotice, ...]
    urgent: bool

    @property
    def numbers(self) -> list[int]:
        return sorted({a.number for a in self.alerts})


@dataclass(frozen=True, slots=True)
class Audience:
    """The person running this TUI, as alerts need them."""

    user: str
    role: Role
    groups: frozenset[str]
    severities: frozenset[int] = frozenset({1, 2, 3, 4, 5})
    sees_confidential: bool = False


def relevant_alerts(events: Iterable[AlertEvent], audience: Audience) -> list[SlaNotice]:
    """The events this person should hear of: escalations addressed to them; warnings and breaches
    of incidents they hold, their groups hold or they watch, and every Sev1 for a shift lead."""
    found = []
    for e in events:
        if e.confidential and not audience.sees_confidential:
            continue  # a confidential incident is not even named to those who may not see it
        if e.kind is EventKind.ESCALATION:
            wanted = audience.user in (e.data.get("notify") or []) or e.watched
        else:
            mine = e.assignee == audience.user or e.group in audience.groups or e.watched
            lead = audience.role in (Role.SHIFT_LEAD, Role.ADMIN) and e.priority == 1
            wanted = (mine or lead) and e.priority in audience.severities
        if wanted:
            found.append(_notice(e))
    return found


def _notice(e: AlertEvent) -> SlaNotice:
    key_text = format_key(e.number)
    if e.kind is EventKind.ESCALATION:
        what, dedupe = "escalated", f"{e.number}:esc:{e.data.get('rule', '')}"
    else:
        clock = e.data.get("clock", "")
        what = f"{clock} SLA {'warning' if e.kind is EventKind.SLA_WARNING else 'breached'}"
        dedupe = f"{e.number}:{clock}:{e.kind.value}"
    return SlaNotice(dedupe, e.number, e.kind, e.priority, f"{key_text} Sev{e.priority} {what}",
                     f"{e.title} — {e.summary}", e.at)


@dataclass
class AlertGate:
    """De-duplicates and rate-limits. At most `burst` deliveries per `window`; a batch larger than
    `summary_after`, or one that would exceed the limit, becomes one summary delivery."""

    burst: int = 3
    window: timedelta = timedelta(seconds=30)
    summary_after: int = 3
    repeat_after: timedelta = timedelta(hours=1)  # the same alert again only after this
    _seen: dict[str, datetime] = field(default_factory=dict)
    _sent: deque[datetime] = field(default_factory=deque)
    _held: list[SlaNotice] = field(default_factory=list)

    def offer(self, alerts: Sequence[SlaNotice], now: datetime) -> list[Delivery]:
        fresh = []
        for alert in alerts:
            last = self._seen.get(alert.key)
            if last is not None and now - last < self.repeat_after:
                continue
            self._seen[alert.key] = now
            fresh.append(alert)
        self._forget(now)
        self._held.extend(fresh)
        return self.flush(now)

    def flush(self, now: datetime) -> list[Delivery]:
        """Deliver what is held, if the rate allows; call it again later for the rest."""
        while self._sent and now - self._sent[0] >= self.window:
            self._sent.popleft()
        if not self._held or len(self._sent) >= self.burst:
            return []
        held, self._held = self._held, []
        room = self.burst - len(self._sent)
        if len(held) <= min(self.summary_after, room):
            out = [single(a) for a in held]
        else:
            out = [summary(held)]
        self._sent.extend(now for _ in out)
        return out

    @property
    def waiting(self) -> int:
        return len(self._held)

    def _forget(self, now: datetime) -> None:
        if len(self._seen) > 10_000:
            self._seen = {k: t for k, t in self._seen.items() if now - t < self.repeat_after}


def single(alert: SlaNotice) -> Delivery:
    return Delivery(alert.title, alert.body, (alert,), alert.urgent)


def summary(alerts: Sequence[SlaNotice]) -> Delivery:
    """One delivery for many alerts: "200 incidents breached", counted by kind, worst first."""
    incidents = {a.number for a in alerts}
    kinds = Counter(a.kind for a in alerts)
    words = {EventKind.SLA_BREACH: "breached", EventKind.ESCALATION: "escalated", EventKind.SLA_WARNING: "near breach"}
    parts = []
    for kind in (EventKind.SLA_BREACH, EventKind.ESCALATION, EventKind.SLA_WARNING):
        if kinds[kind]:
            count = len({a.number for a in alerts if a.kind is kind})
            parts.append(f"{count} incident{'s' if count != 1 else ''} {words[kind]}")
    severity = {n: min(a.severity for a in alerts if a.number == n) for n in incidents}
    ranked = sorted(incidents, key=lambda n: (severity[n], n))
    keys = ", ".join(f"{format_key(n)} S{severity[n]}" for n in ranked[:5]) + (" …" if len(ranked) > 5 else "")
    title = ", ".join(parts) if parts else f"{len(incidents)} incidents need attention"
    return Delivery(title, f"most severe first: {keys}", tuple(alerts), any(a.urgent for a in alerts))


def compact(delivery: Delivery, width: int) -> tuple[str, str]:
    """Title and one line of at most `width` characters, for a terminal with little room (80x24):
    a summary names its most severe incident and how many more; a single alert keeps its
    incident's title, cut with an ellipsis. The whole list is one key away (the queue's views)."""
    if len(delivery.alerts) > 1:
        severity: dict[int, int] = {}
        for alert in delivery.alerts:
            severity[alert.number] = min(alert.severity, severity.get(alert.number, alert.severity))
        ranked = sorted(severity, key=lambda n: (severity[n], n))
        more = f" +{len(ranked) - 1} more" if len(ranked) > 1 else ""
        body = f"{format_key(ranked[0])} S{severity[ranked[0]]}{more}"
    else:
        body = delivery.body
    return delivery.title, body if len(body) <= width else body[: max(width - 1, 0)] + "…"


def in_quiet_hours(quiet: tuple[time, time] | None, local_now: time) -> bool:
    """`quiet` is (start, end) local; it may run over midnight (22:00–07:00)."""
    if quiet is None:
        return False
    start, end = quiet
    if start <= end:
        return start <= local_now < end
    return local_now >= start or local_now < end
