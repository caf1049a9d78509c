"""What the reports read: one plain tuple per incident, and the state changes of the timeline.

The figures themselves are computed in services/reports.py from these rows, in Python, so medians
and percentiles follow one rule on SQLite and PostgreSQL alike. Rows are read with Core, not the
ORM: at 100,000 incidents the ORM's per-object cost would be most of the report's time.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from eim_tui.domain.model import EventKind
from eim_tui.store import placeholders
from eim_tui.store.tables import IncidentImportRow, IncidentRow, TimelineRow
from eim_tui.store.types import UTCDateTime

# One report row per incident, a plain tuple in this order (instants as float seconds since the
# epoch, None when unset). Tuples straight from the driver: building an object per incident would
# cost more than the whole query at 100,000 incidents.
REPORT_FIELDS = (
    "number", "severity", "category", "service", "group", "assignee", "state", "reported_at", "acknowledged_at",
    "resolved_at", "closed_at", "response_due_at", "resolution_due_at", "reopens", "rating", "made_sla",
    "reassignments", "on_hold_seconds",
)
ReportRow = tuple


def epoch(column: str, dialect: str) -> str:
    """SQL for a datetime column as float seconds since the epoch, the same instant on both backends
    (the database converts: parsing 175,000 datetimes in Python would be most of a report's time)."""
    if dialect == "sqlite":
        return f"(julianday({column}) - 2440587.5) * 86400.0"
    return f"extract(epoch from {column})::float8"


def report_rows(session: Session, before: datetime) -> list[ReportRow]:
    """Every incident reported before `before`, as REPORT_FIELDS tuples.

    Imported incidents carry the source's own counts (reopens, reassignments, time on hold, its
    SLA label); incidents made in eim have theirs from the store: reopened or not, the moves of
    the timeline from one group to another, and the time their SLA clocks were paused by a hold."""
    conn = session.connection()
    dialect = conn.dialect.name
    times = ", ".join(epoch(f"i.{c}", dialect) for c in (
        "reported_at", "acknowledged_at", "resolved_at", "closed_at", "response_due_at", "resolution_due_at"))
    sql = ("SELECT i.id, i.priority, i.category, i.service, i.assignment_group, i.assignee, i.state, "
           f"{times}, "
           "CASE WHEN m.incident_id IS NOT NULL THEN m.reopen_count WHEN i.reopened_at IS NOT NULL THEN 1 ELSE 0 END, "
           "i.feedback_rating, m.made_sla, coalesce(m.reassignment_count, 0), "
           "coalesce(m.on_hold_seconds, i.sla_paused_seconds, 0) "
           f"FROM {_incidents(session)} i LEFT OUTER JOIN incident_import m ON m.incident_id = i.id "
           f"WHERE i.reported_at < {'?' if dialect == 'sqlite' else '%(before)s'}")
    bound = UTCDateTime().process_bind_param(before, conn.dialect)
    rows = conn.exec_driver_sql(sql, (bound,) if dialect == "sqlite" else {"before": bound}).fetchall()
    moves = _native_reassignments(session)
    if not moves:
        return rows
    at = REPORT_FIELDS.index("reassignments")
    return [r if r[0] not in moves else (*r[:at], moves[r[0]], *r[at + 1:]) for r in rows]


_REPORT_COLUMNS = ("id", "priority", "category", "service", "assignment_group", "assignee", "state", "reported_at",
                   "acknowledged_at", "resolved_at", "closed_at", "response_due_at", "resolution_due_at",
                   "reopened_at", "feedback_rating", "sla_paused_seconds")


def _incidents(session: Session) -> str:
    """The incident table, or on PostgreSQL for a login outside the security group the table with the
    placeholders of the confidential incidents row-level security hides (store/placeholders.py): they
    are counted, under no service, never reopened or rated, as nothing more of them may be read."""
    if not placeholders.owed(session):
        return "incident"
    shown = ", ".join(c if c in placeholders.SHOWN else
                      ("''" if c == "service" else "NULL::timestamptz" if c == "reopened_at" else "NULL::integer")
                      for c in _REPORT_COLUMNS)
    return (f"(SELECT {', '.join(_REPORT_COLUMNS)} FROM incident UNION ALL "
            f"SELECT {shown} FROM {placeholders.VIEW})")


def median_resolution_by_month(session: Session, since: datetime | None, before: datetime) -> list[tuple[str, float, float]]:
    """Per month of resolution in [since, before) (UTC), the one or two middle resolution times in
    hours — (month, low, high), equal when the month has an odd count — of the incidents resolved
    then and reported before `before`. The database sorts and picks them (window functions on
    both backends), reading the resolution index alone: nothing but two rows a month comes back,
    and the sorting runs while the interpreter is free for the screen."""
    conn = session.connection()
    dialect = conn.dialect.name
    # SQLite's planner would take the reported_at index and then read every row; its unary `+`
    # keeps the period test off the index, so the resolution index alone answers.
    reported = "+reported_at" if dialect == "sqlite" else "reported_at"
    month = "strftime('%Y-%m', resolved_at)" if dialect == "sqlite" else "to_char(resolved_at AT TIME ZONE 'UTC', 'YYYY-MM')"
    hours = f"(({epoch('resolved_at', dialect)}) - ({epoch('reported_at', dialect)})) / 3600.0"
    mark = (lambda name: "?") if dialect == "sqlite" else (lambda name: f"%({name})s")
    where = f"resolved_at IS NOT NULL AND {reported} < {mark('before')} AND resolved_at < {mark('before')}"
    params: list = []
    bind = UTCDateTime().process_bind_param
    params += [bind(before, conn.dialect), bind(before, conn.dialect)]
    if since is not None:
        where += f" AND resolved_at >= {mark('since')}"
        params.append(bind(since, conn.dialect))
    sql = (f"SELECT m, h FROM (SELECT m, h, row_number() OVER (PARTITION BY m ORDER BY h) AS rn, "
           f"count(*) OVER (PARTITION BY m) AS n FROM (SELECT {month} AS m, {hours} AS h FROM incident "
           f"WHERE {where}) AS resolved) AS ranked WHERE rn = (n + 1) / 2 OR rn = n / 2 + 1 ORDER BY m, h")
    if dialect != "sqlite":
        params = {"before": params[0], **({"since": params[2]} if since is not None else {})}  # type: ignore[assignment]
    middles: dict[str, list[float]] = {}
    for key, value in conn.exec_driver_sql(sql, tuple(params) if dialect == "sqlite" else params):
        middles.setdefault(key, []).append(value)
    return [(key, values[0], values[-1]) for key, values in middles.items()]


def _native_reassignments(session: Session) -> dict[int, int]:
    """Per incident made in eim, how often its timeline moved it from one group to another (a first
    assignment, from no group, and a change of assignee within the group are not reassignments)."""
    t = TimelineRow
    stmt = select(t.incident_id, t.summary).where(
        t.kind == EventKind.ASSIGNED.value, t.incident_id.not_in(select(IncidentImportRow.incident_id)))
    out: dict[int, int] = {}
    for number, summary in session.execute(stmt):
        old, _, new = summary.removeprefix("assigned ").partition(" → ")
        old_group, new_group = old.split("/", 1)[0], new.split("/", 1)[0]
        if old_group not in ("", "—") and new_group != old_group:
            out[number] = out.get(number, 0) + 1
    return out


@dataclass(frozen=True, slots=True)
class Visits:
    """What the process report reads from `state_visit`, for the incidents reported in a period."""

    incidents: dict[str, int]  # state → incidents that entered it
    hours: dict[str, list[float]]  # state → hours of each finished stay, sorted
    moves: list[tuple[str, str, int]]  # (from, to, count)


def state_visits(session: Session, start: datetime | None, before: datetime) -> Visits:
    """The stays in each state of the incidents reported in [start, before), aggregated by the
    database (see store/visits.py); only the finished stays' hours come back, sorted, for exact
    percentiles computed the same way on both backends."""
    conn = session.connection()
    dialect = conn.dialect.name
    mark = (lambda name: "?") if dialect == "sqlite" else (lambda name: f"%({name})s")
    bind = UTCDateTime().process_bind_param
    values = {"before": bind(before, conn.dialect)}
    if start is not None:
        values["start"] = bind(start, conn.dialect)
    params = tuple(values.values()) if dialect == "sqlite" else values
    first, last = session.execute(select(func.min(IncidentRow.reported_at), func.max(IncidentRow.reported_at))).one()
    if last is not None and not ((start is None or start <= first) and last < before):
        # A part of the incidents: their stays read once, in one pass, and counted here.
        window = f"reported_at < {mark('before')}" + (f" AND reported_at >= {mark('start')}" if start else "")
        rows = conn.exec_driver_sql(
            "SELECT v.state, v.incident_id, v.hours, v.next_state FROM state_visit v "
            f"WHERE v.incident_id IN (SELECT id FROM incident WHERE {window}) ORDER BY v.state, v.hours", params)
        entered: dict[str, set[int]] = {}
        hours: dict[str, list[float]] = {}
        counted: dict[tuple[str, str], int] = {}
        for state, number, spent, following in rows:
            entered.setdefault(state, set()).add(number)
            if spent is not None:
                hours.setdefault(state, []).append(spent)
            if following is not None:
                counted[(state, following)] = counted.get((state, following), 0) + 1
        return Visits({s: len(n) for s, n in entered.items()}, hours, [(a, b, n) for (a, b), n in counted.items()])

    # Every incident: each question read from an index alone.
    def run(sql: str) -> list[tuple]:
        return conn.exec_driver_sql(sql).fetchall()

    incidents = dict(run("SELECT state, count(DISTINCT incident_id) FROM state_visit GROUP BY state"))
    hours = {}
    for state, spent in run("SELECT state, hours FROM state_visit WHERE hours IS NOT NULL ORDER BY state, hours"):
        hours.setdefault(state, []).append(spent)
    moves = run("SELECT state, next_state, count(*) FROM state_visit WHERE next_state IS NOT NULL "
                "GROUP BY state, next_state")
    return Visits(incidents, hours, [(a, b, n) for a, b, n in moves])
