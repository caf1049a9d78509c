"""Logging a new incident: the report as typed, checked, and turned into an `Incident`."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, time, timedelta, tzinfo

from eim_tui.domain import sla
from eim_tui.domain.clock import ensure_utc
from eim_tui.domain.errors import ValidationError
from eim_tui.domain.model import Incident, Source, State
from eim_tui.domain.priority import PriorityMatrix, check_level, check_severity, decide_priority

MAX_TITLE = 300


@dataclass(frozen=True, slots=True)
class NewIncident:
    title: str
    impact: int
    urgency: int
    description: str = ""
    source: Source = Source.USER_REPORT
    detected_at: datetime | None = None
    reporter_name: str = ""
    reporter_contact: str = ""
    reporter_department: str = ""
    service: str = ""
    configuration_item: str = ""
    category: str = ""
    subcategory: str = ""
    assignment_group: str = ""
    assignee: str = ""
    initial_severity: int | None = None
    priority_override: int | None = None
    override_reason: str = ""
    major: bool = False
    confidential: bool = False
    parent_number: int | None = None
    # Set when monitoring logs it: the alerts that led to it so far.
    alert_count: int = 0
    last_alert_at: datetime | None = None
    alerts_resolved: bool = False


def build_incident(
    report: NewIncident,
    matrix: PriorityMatrix,
    policies: dict[int, sla.SlaPolicy],
    now: datetime,
    created_by: str,
) -> Incident:
    """Check a report and make the incident it describes (number 0 until the store gives one)."""
    title = " ".join(report.title.split())
    if not title:
        raise ValidationError("a title is required: say in a line what is wrong")
    if len(title) > MAX_TITLE:
        raise ValidationError(f"the title is {len(title)} characters; keep it under {MAX_TITLE}")
    check_level("impact", report.impact)
    check_level("urgency", report.urgency)
    if report.initial_severity is not None:
        check_severity(report.initial_severity)
    priority, reason = decide_priority(
        matrix, report.impact, report.urgency, report.priority_override, report.override_reason
    )
    detected = ensure_utc(report.detected_at) if report.detected_at else None
    if detected is not None and detected > now + timedelta(minutes=5):
        raise ValidationError("detected time is in the future; give when it was first seen")
    response_due, resolution_due = sla.initial_due(policies[priority], now)
    return Incident(
        number=0,
        title=title,
        description=report.description.strip(),
        source=report.source,
        detected_at=detected,
        reported_at=now,
        reporter_name=report.reporter_name.strip(),
        reporter_contact=report.reporter_contact.strip(),
        reporter_department=report.reporter_department.strip(),
        service=report.service.strip(),
        configuration_item=report.configuration_item.strip(),
        category=report.category.strip(),
        subcategory=report.subcategory.strip(),
        impact=report.impact,
        urgency=report.urgency,
        priority=priority,
        priority_override_reason=reason,
        initial_severity=report.initial_severity,
        state=State.NEW,
        assignment_group=report.assignment_group.strip(),
        assignee=report.assignee.strip(),
        major=report.major,
        confidential=report.confidential,
        parent_number=report.parent_number,
        alert_count=report.alert_count,
        last_alert_at=report.last_alert_at,
        alerts_resolved=report.alerts_resolved,
        response_due_at=response_due,
        resolution_due_at=resolution_due,
        created_by=created_by,
        updated_at=now,
    )


_AGO = re.compile(r"^\s*(\d+)\s*([smhd])\w*\s+ago\s*$", re.IGNORECASE)
_CLOCK = re.compile(r"^\s*(\d{1,2}):(\d{2})\s*$")


def parse_when(text: str, now: datetime, local_tz: tzinfo | None = None) -> datetime:
    """`10m ago`, `14:05` (today, local time; yesterday if that is still to come) or ISO 8601.

    A time without an offset is a local wall-clock time, read with the zone's rules for THAT day
    (`local_tz`, a `zoneinfo.ZoneInfo`; else the system's zone), not today's offset: on a day the
    clocks change, 00:30 is still the 00:30 people read on their clocks."""
    units = {"s": "seconds", "m": "minutes", "h": "hours", "d": "days"}
    if m := _AGO.match(text):
        return now - timedelta(**{units[m.group(2).lower()]: int(m.group(1))})
    if m := _CLOCK.match(text):
        hour, minute = int(m.group(1)), int(m.group(2))
        if hour > 23 or minute > 59:
            raise ValidationError(f"{text!r} is not a time of day")
        today = now.astimezone(local_tz).date()
        wall = datetime.combine(today, time(hour, minute))
        candidate = _local(wall, local_tz)
        if candidate > now:
            candidate = _local(wall - timedelta(days=1), local_tz)
        return ensure_utc(candidate)
    try:
        value = datetime.fromisoformat(text.strip().replace("Z", "+00:00"))
    except ValueError:
        raise ValidationError(f"cannot read {text!r} as a time; write 10m ago, 14:05 or 2026-11-26T14:05Z") from None
    if value.tzinfo is None:
        value = _local(value, local_tz)
    return ensure_utc(value)


def _local(wall: datetime, local_tz: tzinfo | None) -> datetime:
    """A naive wall-clock time in `local_tz` (or the system's zone), with that day's offset."""
    if local_tz is None:
        return wall.astimezone()  # a naive datetime is read as system local time, DST rules included
    return wall.replace(tzinfo=local_tz)
