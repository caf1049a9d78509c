"""What the recurring-pattern search reads: the few columns clustering needs, for the incidents
reported in a window that no problem claims yet.

Read with Core straight from the driver (like store/reports.py): at 100,000 incidents an ORM
object per row would cost more than the clustering. The window uses `ix_incident_reported`.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from eim_tui.domain.model import State
from eim_tui.domain.patterns import PatternIncident
from eim_tui.store.reports import epoch
from eim_tui.store.tables import IncidentRow
from eim_tui.store.types import UTCDateTime


def pattern_incidents(session: Session, since: datetime | None, include_confidential: bool) -> list[PatternIncident]:
    """Incidents reported at or after `since` (None: all of them) with no problem reference, as
    PatternIncident.

    Left out: duplicates (a child is its parent's incident again, it would count twice), cancelled
    incidents (logged by mistake), and — unless `include_confidential` — confidential ones, whose
    titles are for the security group only. The symptom and location are the imported source's, when
    there is one."""
    conn = session.connection()
    dialect = conn.dialect.name
    mark = "?" if dialect == "sqlite" else "%(since)s"
    hidden = "" if include_confidential else " AND NOT i.confidential"
    window, params = "", ()
    if since is not None:
        bound = UTCDateTime().process_bind_param(since, conn.dialect)
        column = "i.reported_at"
        if dialect == "sqlite" and _most_of_the_store(conn, bound):
            # The index costs a lookup per row; for most of the table one scan is twice as fast.
            # (SQLite has no statistics to know this itself; PostgreSQL's planner does.)
            column = "+i.reported_at"
        window, params = f"{column} >= {mark} AND ", ((bound,) if dialect == "sqlite" else {"since": bound})
    sql = ("SELECT i.id, i.title, i.service, i.configuration_item, i.category, i.subcategory, "
           f"coalesce(m.symptom, ''), i.priority, {epoch('i.reported_at', dialect)}, coalesce(m.location, '') "
           "FROM incident i LEFT OUTER JOIN incident_import m ON m.incident_id = i.id "
           f"WHERE {window}i.problem_ref = '' AND i.parent_id IS NULL "
           f"AND i.state <> '{State.CANCELLED.value}'{hidden}")
    rows = conn.exec_driver_sql(sql, params).fetchall()
    return [PatternIncident(*row) for row in rows]


def newest_reported(session: Session) -> datetime | None:
    """When the newest incident in the store was reported (from `ix_incident_reported`): where a
    window that holds nothing could have looked."""
    return session.execute(select(func.max(IncidentRow.reported_at))).scalar()


SCAN_SHARE = 0.25  # past this share of the incidents in the window, SQLite reads the table in one scan


def _most_of_the_store(conn, bound) -> bool:
    """Whether the window holds more than SCAN_SHARE of the incidents (both counts come from
    indexes: a few milliseconds at 100,000)."""
    inside = conn.exec_driver_sql("SELECT count(*) FROM incident WHERE reported_at >= ?", (bound,)).scalar() or 0
    total = conn.exec_driver_sql("SELECT max(id) FROM incident").scalar() or 0
    return inside > SCAN_SHARE * total
