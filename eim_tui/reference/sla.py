"""The SLA part of `data/`: policies with their working calendars, and the escalation rules.

`sla_policies.toml` gives one `[severity.N]` table per severity; `hours` is `"24x7"` or the name of
a `[calendar.NAME]` table (business hours in a timezone, weekdays, holidays). `escalation.toml`
gives `[[rule]]` tables. Mistakes raise `ReferenceError` naming the file and line, like the rest
of the reference data (this module reads them with `files.py`, as `data.py` does).
"""

from __future__ import annotations

import re
from datetime import timedelta
from pathlib import Path
from typing import Any

from eim_tui.domain.durations import parse_duration
from eim_tui.domain.errors import ValidationError
from eim_tui.domain.escalation import EscalationRule, Recipient, Trigger
from eim_tui.domain.model import SEVERITY_NAMES
from eim_tui.domain.priority import SEVERITIES
from eim_tui.domain.sla import DEFAULT_WARNING_FRACTION, SlaPolicy
from eim_tui.domain.work_calendar import ALWAYS, WorkCalendar, business_calendar
from eim_tui.reference.files import DataFile, Entry, severity_tables

AROUND_THE_CLOCK = "24x7"
_DAYS = re.compile(r"(\d+)\s*d")


def load_policies(data_dir: Path) -> dict[int, SlaPolicy]:
    file = DataFile(data_dir, "sla_policies.toml")
    data = file.toml()
    calendars = _calendars(file, data)
    entries = severity_tables(file, data)
    policies = {}
    for severity in SEVERITIES:
        if severity not in entries:
            raise file.error(f"no policy for severity {severity}; add a [severity.{severity}] table")
        entry = entries[severity]
        hours = entry.pick("hours", [AROUND_THE_CLOCK, *calendars], "hours (24x7 or a [calendar.NAME])",
                           AROUND_THE_CLOCK)
        calendar = calendars.get(hours, ALWAYS)
        targets = []
        for key in ("response", "resolution"):
            try:
                targets.append(working_target(entry.get(key), calendar))
            except ValueError as exc:
                raise entry.error(f"{key}: {exc}") from exc
        fraction = entry.get("warning_at", (int, float), DEFAULT_WARNING_FRACTION)
        name = entry.get("name", str, SEVERITY_NAMES[severity].capitalize())
        try:
            policies[severity] = SlaPolicy(severity, targets[0], targets[1], float(fraction), name, calendar)
        except ValidationError as exc:
            raise entry.error(str(exc)) from exc
    return policies


def working_target(text: str, calendar: WorkCalendar) -> timedelta:
    """A target as written. On business hours a day (`d`) is one working day of the calendar,
    so `3d` on 09:00–17:00 is 24 working hours — three business days, as people mean it."""
    total = parse_duration(text)
    if calendar.always:
        return total
    days = sum(int(n) for n in _DAYS.findall(text.strip().lower().replace(" ", "")))
    return total - timedelta(days=days) + days * calendar.day_length


def _calendars(file: DataFile, data: dict[str, Any]) -> dict[str, WorkCalendar]:
    tables = data.get("calendar", {})
    if not isinstance(tables, dict):
        raise file.error("`calendar` must be tables like [calendar.business]")
    found = {}
    for name, table in tables.items():
        entry = Entry(file, {}, f"[calendar.{name}]", file.table_line(f"calendar.{name}")).nested(table)
        if name == AROUND_THE_CLOCK:
            raise entry.error(f"{AROUND_THE_CLOCK!r} is the built-in round-the-clock schedule; name yours otherwise")
        try:
            found[name] = business_calendar(
                name,
                entry.get("timezone"),
                entry.get("weekdays", tuple, ["mon", "tue", "wed", "thu", "fri"]),
                entry.get("start"),
                entry.get("end"),
                _holidays(entry),
            )
        except ValidationError as exc:
            raise entry.error(str(exc)) from exc
    return found


def _holidays(entry: Entry) -> tuple[str, ...]:
    # TOML has a date type: accept `2026-12-25` bare as well as quoted.
    values = entry.get("holidays", list, [])
    return tuple(str(v) for v in values)


def load_escalation(data_dir: Path) -> tuple[EscalationRule, ...]:
    file = DataFile(data_dir, "escalation.toml")
    rules = []
    for e in file.entries("rule"):
        trigger = Trigger(e.pick("when", [t.value for t in Trigger], "trigger (`when`)"))
        severities = e.get("severities", list)
        for severity in severities:
            e.choice(severity, SEVERITIES, "severity")
        notify = tuple(Recipient(e.choice(who, [r.value for r in Recipient], "recipient"))
                       for who in e.get("notify", tuple, []))
        try:
            after = parse_duration(e.get("after", str, "0s"))
        except ValueError as exc:
            raise e.error(f"after: {exc}") from exc
        try:
            rules.append(EscalationRule(
                e.get("name"), trigger, frozenset(severities), after, notify,
                e.get("mark_escalated", bool, False), e.get("raise_severity", bool, False), e.get("reason", str, ""),
                tuple(e.get("reach", tuple, [])),
            ))
        except ValidationError as exc:
            raise e.error(str(exc)) from exc
    return tuple(rules)
