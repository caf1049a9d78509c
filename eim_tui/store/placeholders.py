"""Confidential placeholders on PostgreSQL (issue 13).

Row-level security hides a confidential incident entirely from a login outside the security group,
but the queue, the wall, `eim status` and the exports still owe that login its placeholder: key,
severity, category, state and SLA clock, nothing more (`domain.access.redact_row`, what SQLite
shows). `access_install` therefore installs a view, `eim_incident_placeholder`, owned by the
store's owner (so it reads past row-level security) that shows only the columns in `SHOWN` of the
confidential incidents the login running the query cannot read (`eim_reads_confidential()`), and
nothing at all to a login that can read them (no duplicates for the security group).

Reads that owe placeholders run their statements against `incident` UNION ALL the view (the view's
rows with every other column blank), through `merged(session, hide)`: inside that block every
statement the session runs that names the incident table is rewritten to read the union instead.
On SQLite, or for a login that reads confidential incidents, nothing changes.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy import (
    Boolean,
    Float,
    Integer,
    String,
    Text,
    cast,
    column,
    event,
    literal,
    null,
    select,
    text,
    union_all,
)
from sqlalchemy import table as lightweight_table
from sqlalchemy.orm import Session, aliased
from sqlalchemy.sql import FromClause
from sqlalchemy.sql.util import ClauseAdapter

from eim_tui.domain.model import Source
from eim_tui.store.tables import IncidentRow

VIEW = "eim_incident_placeholder"
# What a placeholder shows, and what sorting, filtering and the SLA clock need; never the title,
# description, reporter, service or notes. The assignee is '' when nobody holds it, the login's own
# name when the login holds it (for "mine"), '-' otherwise: who works on it stays hidden.
SHOWN = (
    "id", "impact", "urgency", "priority", "state", "is_open", "major", "confidential", "category",
    "reported_at", "acknowledged_at", "resolved_at", "closed_at", "updated_at", "version",
    "response_due_at", "resolution_due_at", "paused_since", "sla_paused_seconds", "sla_clock",
    "sla_due_at", "sla_warn_at", "alerts_resolved", "assignment_group", "assignee",
)
SOMEONE = "-"
# Blanks that must still be valid values (read back as enums): what `redact_incident` would say.
_BLANKS = {"source": Source.USER_REPORT.value}


def view_sql() -> str:
    """The view's definition (installed by `access_install`)."""
    columns = ", ".join(c for c in SHOWN if c != "assignee")
    return (
        f"CREATE VIEW {VIEW} AS SELECT {columns}, CASE WHEN assignee = '' THEN '' "
        f"WHEN assignee = session_user THEN assignee ELSE '{SOMEONE}' END AS assignee "
        "FROM incident WHERE confidential AND NOT (SELECT eim_reads_confidential())"
    )


def _blank(col):
    """The value a placeholder row holds in a column the view does not show."""
    if col.name in _BLANKS:
        return cast(literal(_BLANKS[col.name]), col.type)
    if col.nullable:
        return cast(null(), col.type)
    default = col.default.arg if col.default is not None and not callable(col.default.arg) else None
    if default is None:
        kind = col.type
        default = ("" if isinstance(kind, (String, Text)) else False if isinstance(kind, Boolean)
                   else 0.0 if isinstance(kind, Float) else 0 if isinstance(kind, Integer) else None)
    if default is None:
        raise TypeError(f"incident.{col.name} has no blank for a placeholder")
    return cast(literal(default), col.type)


def _source() -> FromClause:
    incident = IncidentRow.__table__
    view = lightweight_table(VIEW, *(column(name, incident.c[name].type) for name in SHOWN))
    shown = [
        (view.c[col.name] if col.name in SHOWN else _blank(col)).label(col.name) for col in incident.columns
    ]
    return union_all(select(*incident.columns), select(*shown).select_from(view)).subquery("incident_seen")


_SOURCE: list[FromClause] = []


def source() -> FromClause:
    """`incident` UNION ALL the placeholders: one subquery, built once."""
    if not _SOURCE:
        _SOURCE.append(_source())
    return _SOURCE[0]


def owed(session: Session) -> bool:
    """Does this session's login get placeholders (PostgreSQL, the view installed, and a login that
    cannot read confidential incidents)? Asked once per pooled connection (a connection's login never
    changes; should its membership change meanwhile, the view itself still shows nothing to a login
    that reads confidential incidents, so there are never duplicates)."""
    conn = session.connection()
    if conn.dialect.name != "postgresql":
        return False
    info = conn.info
    if "eim_placeholders" not in info:
        installed = conn.execute(text(
            f"SELECT to_regclass('{VIEW}') IS NOT NULL AND to_regprocedure('eim_reads_confidential()') IS NOT NULL"
        )).scalar()
        info["eim_placeholders"] = bool(installed) and not conn.execute(text("SELECT eim_reads_confidential()")).scalar()
    return info["eim_placeholders"]


def adapt(statement):
    """`statement` reading the union instead of the incident table."""
    return ClauseAdapter(source()).traverse(statement)


@contextmanager
def merged(session: Session, hide_confidential: bool = True) -> Iterator[None]:
    """Inside the block, every statement `session` runs reads the incidents with their placeholders
    (when `hide_confidential` says the reader may not see confidential ones and they are owed)."""
    if not hide_confidential or not owed(session):
        yield
        return

    def rewrite(state) -> None:
        if state.is_select:
            state.statement = adapt(state.statement)

    event.listen(session, "do_orm_execute", rewrite)
    try:
        yield
    finally:
        event.remove(session, "do_orm_execute", rewrite)


def incident_entity(session: Session, hide_confidential: bool = True):
    """The entity to load whole incidents from: `IncidentRow`, or the same class over the union."""
    if hide_confidential and owed(session):
        return aliased(IncidentRow, source(), name="incident_seen")
    return IncidentRow


def placeholder_numbers(session: Session, numbers: list[int]) -> set[int]:
    """Which of `numbers` are placeholders this session's login may not open (empty where none are owed)."""
    if not numbers or not owed(session):
        return set()
    view = lightweight_table(VIEW, column("id", Integer))
    return set(session.execute(select(view.c.id).where(view.c.id.in_(numbers))).scalars())


__all__ = ["SHOWN", "VIEW", "adapt", "incident_entity", "merged", "owed", "placeholder_numbers", "source", "view_sql"]
