"""incident roles, tasks and stakeholder updates (issue 12)

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-05

- `incident_role`: who is commander, scribe, communications lead, subject experts of an incident.
- `incident_task`: tasks during an incident and post-incident actions (owner, due date, open/done).
- `incident_subscriber`: who hears an incident's stakeholder updates (a user, a group, a URL).

Stakeholder updates themselves are timeline events (`stakeholder_update`), so they need no table.
Written by hand; only new tables, nothing existing is touched.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import eim_tui.store.types

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None

_UTC = eim_tui.store.types.UTCDateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "incident_role",
        sa.Column("incident_id", sa.Integer(), nullable=False),
        sa.Column("role", sa.String(length=20), nullable=False),
        sa.Column("user_name", sa.String(length=100), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(["incident_id"], ["incident.id"]),
        sa.PrimaryKeyConstraint("incident_id", "role", "user_name"),
    )
    op.create_table(
        "incident_task",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("incident_id", sa.Integer(), nullable=False),
        sa.Column("number", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=10), nullable=False),
        sa.Column("what", sa.Text(), nullable=False),
        sa.Column("owner", sa.String(length=100), nullable=False),
        sa.Column("due_at", _UTC, nullable=True),
        sa.Column("status", sa.String(length=10), nullable=False),
        sa.Column("created_by", sa.String(length=100), nullable=False),
        sa.Column("created_at", _UTC, nullable=False),
        sa.Column("done_by", sa.String(length=100), nullable=False),
        sa.Column("done_at", _UTC, nullable=True),
        sa.ForeignKeyConstraint(["incident_id"], ["incident.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("incident_id", "number", name="uq_incident_task_number"),
    )
    with op.batch_alter_table("incident_task", schema=None) as batch_op:
        batch_op.create_index("ix_incident_task_due", ["kind", "status", "due_at"], unique=False)
    op.create_table(
        "incident_subscriber",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("incident_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=10), nullable=False),
        sa.Column("target", sa.String(length=1000), nullable=False),
        sa.ForeignKeyConstraint(["incident_id"], ["incident.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("incident_id", "kind", "target", name="uq_incident_subscriber"),
    )


def downgrade() -> None:
    op.drop_table("incident_subscriber")
    with op.batch_alter_table("incident_task", schema=None) as batch_op:
        batch_op.drop_index("ix_incident_task_due")
    op.drop_table("incident_task")
    op.drop_table("incident_role")
