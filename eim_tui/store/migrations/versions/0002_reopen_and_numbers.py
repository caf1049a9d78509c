"""reopen instant for SLA retargets; gapless incident numbers

Revision ID: 0002
Revises: 0001
Create Date: 2026-12-05

- `incident.reopened_at` and `incident.reopen_paused_seconds`: when the incident was last reopened
  and the SLA pauses it had counted by then, so a priority change after a reopen restarts the
  resolution target from the reopen (as the reopen did), not from the report. Filled here for the
  incidents already reopened, from their timeline.
- `incident_number`: one row holding the last incident number handed out. A writer takes it under
  its row lock in the transaction that inserts the incident, so a transaction that rolls back gives
  its number back instead of leaving a gap (PostgreSQL's serial sequence never gives numbers back).
  Seeded from the highest number in the store.

Written by hand: this migration runs on stores people keep, so it must not depend on the ORM
classes of later releases (it names its own lightweight tables).
"""

from __future__ import annotations

import json
from collections import defaultdict
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa
from alembic import op

import eim_tui.store.types

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

# The hold reasons that paused the SLA clocks when this migration was written (HoldReason.pauses_sla).
_PAUSING_HOLDS = {"awaiting_user", "awaiting_vendor", "awaiting_change"}

_incident = sa.table(
    "incident",
    sa.column("id", sa.Integer),
    sa.column("sla_paused_seconds", sa.Float),
    sa.column("reopened_at", eim_tui.store.types.UTCDateTime(timezone=True)),
    sa.column("reopen_paused_seconds", sa.Float),
)
_timeline = sa.table(
    "timeline_event",
    sa.column("seq", sa.Integer),
    sa.column("incident_id", sa.Integer),
    sa.column("at", eim_tui.store.types.UTCDateTime(timezone=True)),
    sa.column("kind", sa.String),
    sa.column("data", sa.JSON),
)
_counter = sa.table("incident_number", sa.column("id", sa.Integer), sa.column("last_number", sa.Integer))


def upgrade() -> None:
    op.create_table(
        "incident_number",
        sa.Column("id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("last_number", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    conn = op.get_bind()
    highest = conn.execute(sa.select(sa.func.max(_incident.c.id))).scalar() or 0
    conn.execute(sa.insert(_counter).values(id=1, last_number=highest))

    # Plain ADD COLUMN on both backends (no table rebuild: a store may hold 100,000 incidents).
    op.add_column("incident", sa.Column("reopened_at", eim_tui.store.types.UTCDateTime(timezone=True), nullable=True))
    op.add_column(
        "incident",
        sa.Column("reopen_paused_seconds", sa.Float(), nullable=False, server_default=sa.text("0")),
    )
    _fill_reopens(conn)


def _fill_reopens(conn: sa.Connection) -> None:
    """For each incident reopened before this revision: its last reopen instant, and the pauses it
    had counted by then — its whole count less the pausing holds that ended after the reopen.

    Those holds are measured in wall time from the timeline: exact for around-the-clock policies
    (the default); on a working calendar a hold after the reopen is counted at most its wall length,
    so a later retarget errs towards the earlier (stricter) target, never past the reopen."""
    rows = conn.execute(
        sa.select(_timeline.c.seq, _timeline.c.incident_id, _timeline.c.at, _timeline.c.data)
        .where(_timeline.c.kind == "state_changed")
        .order_by(_timeline.c.seq)
    ).all()
    changes: dict[int, list[tuple[datetime, dict[str, Any]]]] = defaultdict(list)
    for _, number, at, data in rows:
        if isinstance(data, str):  # a driver that hands JSON back as text
            data = json.loads(data)
        changes[number].append((at, data if isinstance(data, dict) else {}))
    for number, history in changes.items():
        reopens = [i for i, (_, d) in enumerate(history) if d.get("old") == "resolved" and d.get("new") == "in_progress"]
        if not reopens:
            continue
        last = reopens[-1]
        reopened_at = history[last][0]
        paused_after = timedelta(0)
        held_since: datetime | None = None
        for at, data in history[last + 1:]:
            if data.get("new") == "on_hold":
                reason = ((data.get("with") or {}).get("hold_reason") or {}).get("new")
                held_since = at if reason in _PAUSING_HOLDS else None
            elif data.get("old") == "on_hold":
                if held_since is not None:
                    paused_after += at - held_since
                held_since = None
        counted = conn.execute(sa.select(_incident.c.sla_paused_seconds).where(_incident.c.id == number)).scalar()
        before_reopen = max(0.0, float(counted or 0.0) - paused_after.total_seconds())
        conn.execute(
            sa.update(_incident)
            .where(_incident.c.id == number)
            .values(reopened_at=reopened_at, reopen_paused_seconds=before_reopen)
        )


def downgrade() -> None:
    # SQLite drops a column in place since 3.35; neither column is indexed or constrained.
    op.drop_column("incident", "reopen_paused_seconds")
    op.drop_column("incident", "reopened_at")
    op.drop_table("incident_number")
