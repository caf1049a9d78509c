"""Realistic demo incidents from the templates in data/demo_incidents.toml.

Each incident is carried through its life with the same pure lifecycle functions the services use,
at instants spread back in time, so the timeline, the SLA fields and the derived queue columns are
what real use would have left. Written in bulk (one transaction) so 100,000 take seconds, built a
chunk at a time as they are written (a million never sit in memory together), and the same seed
always gives the same incidents.
"""

from __future__ import annotations

import random
from datetime import datetime, timedelta

from eim_tui.domain import events, lifecycle
from eim_tui.domain.intake import NewIncident, build_incident
from eim_tui.domain.model import EventKind, HoldReason, HypothesisStatus
from eim_tui.reference.data import DemoTemplate, ReferenceData
from eim_tui.store import bulk_load
from eim_tui.store.bulk_load import History, PastNote

# The first incidents of every demo are these situations, so even a small queue shows them all.
SITUATIONS = (
    "unassigned_sev1_breached",
    "sev1_warning",
    "in_progress_breached",
    "on_hold_vendor",
    "major_in_progress",
    "resolved_awaiting_closure",
    "sev2_new_ok",
    "on_hold_user",
    "in_progress_warning",
    "closed",
    "cancelled",
    "resolved_awaiting_closure",
)


def generate(svc, incidents: int = 60, seed: int = 7) -> int:
    """Add `incidents` demo incidents to the store behind `svc`; returns how many were added."""
    rng = random.Random(seed)
    ref: ReferenceData = svc.ref
    now = svc.clock.now()
    built = (_build(ref, rng, now, index) for index in range(incidents))  # built as they are written
    with svc.db.write() as session:
        bulk_load.insert_histories(session, built, svc.ref.policies, fast=FAST_INSERT, count=incidents)
    return incidents


def _situation(rng: random.Random, index: int) -> str:
    if index < len(SITUATIONS):
        return SITUATIONS[index]
    roll = rng.random()
    if roll < 0.40:
        return rng.choice(("new", "in_progress", "in_progress", "in_progress", "on_hold_user", "on_hold_vendor"))
    if roll < 0.50:
        return "resolved_awaiting_closure"
    if roll < 0.55:
        return "cancelled"
    return "closed"


def _template(ref: ReferenceData, rng: random.Random, situation: str) -> DemoTemplate:
    templates = ref.demo_templates
    if situation in ("unassigned_sev1_breached", "sev1_warning", "major_in_progress"):
        sev1 = [t for t in templates if ref.matrix.priority(t.impact, t.urgency) == 1]
        return rng.choice(sev1 or list(templates))
    if situation == "sev2_new_ok":
        sev2 = [t for t in templates if ref.matrix.priority(t.impact, t.urgency) == 2]
        return rng.choice(sev2 or list(templates))
    return rng.choice(templates)


def _build(ref: ReferenceData, rng: random.Random, now: datetime, index: int) -> History:
    situation = _situation(rng, index)
    t = _template(ref, rng, situation)
    priority = ref.matrix.priority(t.impact, t.urgency)
    policy = ref.policy(priority)
    group = ref.group(t.group)
    members = list(group.members) if group and group.members else ["alice"]
    assignee = rng.choice(members)

    # How far back it was reported, chosen so its clock lands where the situation wants it.
    if situation in ("unassigned_sev1_breached",):
        age = policy.response * rng.uniform(1.3, 3.0)
    elif situation == "sev1_warning":
        age = policy.response * rng.uniform(0.80, 0.92)
    elif situation == "sev2_new_ok" or situation == "new":
        age = policy.response * rng.uniform(0.05, 1.5)
    elif situation == "in_progress_breached":
        age = policy.resolution * rng.uniform(1.05, 1.5)
    elif situation == "in_progress_warning":
        age = policy.resolution * rng.uniform(0.80, 0.95)
    elif situation in ("in_progress", "major_in_progress", "on_hold_user", "on_hold_vendor"):
        age = policy.resolution * rng.uniform(0.05, 1.3)
    else:
        age = timedelta(hours=rng.uniform(2, 24 * 60))
    reported = now - age
    log: list[tuple[datetime, str, events.EventDraft]] = []
    report = NewIncident(
        title=t.title,
        impact=t.impact,
        urgency=t.urgency,
        description=t.description,
        source=t.source,
        detected_at=reported - timedelta(minutes=rng.randint(0, 20)),
        reporter_name=t.reporter,
        reporter_contact=t.contact,
        reporter_department=t.department,
        service=t.service,
        configuration_item=t.ci,
        category=t.category,
        subcategory=t.subcategory,
        assignment_group="" if situation == "unassigned_sev1_breached" else t.group,
        initial_severity=max(1, min(5, priority + rng.choice((-1, 0, 0, 1)))),
    )
    logger = "monitoring" if t.source.value == "monitoring" else t.reporter.split()[0].lower() or "servicedesk"
    inc = build_incident(report, ref.matrix, ref.policies, reported, logger)
    inc = inc.replace(confidential=ref.is_confidential(t.category))
    log.append((reported, logger, (EventKind.CREATED, f"logged: Sev{priority} (impact {t.impact} × urgency {t.urgency})",
                                   {"source": t.source.value, "title": t.title})))
    notes: list[PastNote] = []
    clock = [reported]

    def step(after_delta: timedelta, actor: str, change) -> None:
        nonlocal inc
        at = min(clock[0] + after_delta, now - timedelta(seconds=1))
        clock[0] = max(at, clock[0])
        after = change(inc, clock[0])
        log.extend((clock[0], actor, d) for d in events.change_events(inc, after))
        inc = after

    if situation in ("unassigned_sev1_breached", "sev1_warning", "sev2_new_ok", "new"):
        return History(inc, log, notes)
    ack_after = policy.response * rng.uniform(0.2, 0.9)
    if situation == "major_in_progress":
        step(timedelta(minutes=1), "lead", lambda i, at: i.replace(major=True))
    step(ack_after, assignee, lambda i, at: lifecycle.acknowledge(i, at, assignee))
    for n, note in enumerate(t.diagnosis):
        when = min(clock[0] + timedelta(minutes=5 * (n + 1)), now - timedelta(seconds=1))
        status = note.status or (HypothesisStatus.OPEN.value if note.kind == "hypothesis" else None)
        notes.append(PastNote(n + 1, note.kind, note.text, status, assignee, when))
        log.append((when, assignee, (EventKind.NOTE_ADDED, f"{note.kind.replace('_', ' ')} #{n + 1}: {events.show(note.text)}",
                                      {"kind": note.kind, "text": note.text})))
    if notes:
        clock[0] = max(n.created_at for n in notes)
    if situation in ("on_hold_user", "on_hold_vendor"):
        reason = HoldReason.AWAITING_USER if situation == "on_hold_user" else HoldReason.AWAITING_VENDOR
        step(timedelta(minutes=rng.randint(5, 60)), assignee,
             lambda i, at: lifecycle.put_on_hold(i, at, reason, "waiting for an answer"))
        return History(inc, log, notes)
    if situation in ("in_progress", "in_progress_breached", "in_progress_warning", "major_in_progress"):
        return History(inc, log, notes)
    if situation == "cancelled":
        step(timedelta(minutes=rng.randint(5, 120)), assignee,
             lambda i, at: lifecycle.cancel(i, at, "duplicate report of a known outage"))
        return History(inc, log, notes)
    resolution = t.resolution
    code = resolution.code if resolution else rng.choice(list(ref.resolution_codes))
    fix = resolution.notes if resolution else "Applied the documented fix and confirmed service is back to normal."
    work = policy.resolution * rng.uniform(0.1, 1.2)
    step(work, assignee, lambda i, at: lifecycle.resolve(
        i, at, code, fix, resolution.tested if resolution else "checked by the reporter",
        resolution.communication if resolution else "status page updated"))
    if situation == "closed":
        step(timedelta(hours=rng.uniform(1, 48)), assignee,
             lambda i, at: lifecycle.close(i, at, t.reporter or assignee, rng.randint(3, 5), "thanks", ""))
    return History(inc, log, notes)


# Tests turn the driver path off to prove it stores exactly what Core stores.
FAST_INSERT = True


__all__ = ["generate"]
