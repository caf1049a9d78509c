"""state visits: where incidents wait, kept beside the timeline (issue 11)

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-06

- `state_visit`: each stay of an incident in one state (with its hold reason), opened by the
  timeline event that entered it and closed by the next: entered, left, hours, the state that
  followed. `eim report --process` aggregates these rows instead of reading every state event and
  its JSON (1.5 s at 100,000 incidents before; see store/visits.py).

The stays of every incident already in the store are built from its timeline here, by the same
rule the live path uses (`visits.backfill`). Downgrade drops the table: it holds nothing the
timeline does not.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import eim_tui.store.types
from eim_tui.store import visits

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None

_UTC = eim_tui.store.types.UTCDateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "state_visit",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("incident_id", sa.Integer(), nullable=False),
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.Column("state", sa.String(length=200), nullable=False),
        sa.Column("entered_at", _UTC, nullable=False),
        sa.Column("left_at", _UTC, nullable=True),
        sa.Column("hours", sa.Float(), nullable=True),
        sa.Column("next_state", sa.String(length=200), nullable=True),
        sa.ForeignKeyConstraint(["incident_id"], ["incident.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_state_visit_incident_id", "state_visit", ["incident_id"])
    op.create_index("ix_state_visit_state_hours", "state_visit", ["state", "hours"])
    op.create_index("ix_state_visit_state_incident", "state_visit", ["state", "incident_id"])
    op.create_index("ix_state_visit_state_next", "state_visit", ["state", "next_state"])
    visits.backfill(op.get_bind())


def downgrade() -> None:
    op.drop_index("ix_state_visit_state_next", table_name="state_visit")
    op.drop_index("ix_state_visit_state_incident", table_name="state_visit")
    op.drop_index("ix_state_visit_state_hours", table_name="state_visit")
    op.drop_index("ix_state_visit_incident_id", table_name="state_visit")
    op.drop_table("state_visit")
