"""change records, caused-by links, maintenance windows (issue 10)

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-05

- `change_request`: change records `CHG-000123` (window, risk, owner, state).
- `change_target`: the services and configuration items each change affects.
- `change_incident`: incidents caused by a change, or opened by an alert during one.
- `change_event`: the changes' own hash-chained timeline (head: `chain_head` row 6).

Written by hand; only new tables, nothing existing is touched, so a store with rows upgrades as is
and the downgrade gives back exactly the store it had (its change records go with the tables).
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import eim_tui.store.types

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None

_UTC = eim_tui.store.types.UTCDateTime(timezone=True)
CHANGE_CHAIN = 6  # the chain_head row of the changes' timeline


def upgrade() -> None:
    op.create_table(
        "change_request",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("title", sa.String(length=300), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("owner", sa.String(length=100), nullable=False),
        sa.Column("risk", sa.String(length=10), nullable=False),
        sa.Column("state", sa.String(length=20), nullable=False),
        sa.Column("planned_start", _UTC, nullable=False),
        sa.Column("planned_end", _UTC, nullable=False),
        sa.Column("started_at", _UTC, nullable=True),
        sa.Column("finished_at", _UTC, nullable=True),
        sa.Column("outcome", sa.Text(), nullable=False),
        sa.Column("created_at", _UTC, nullable=False),
        sa.Column("created_by", sa.String(length=100), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("change_request", schema=None) as batch_op:
        batch_op.create_index("ix_change_state", ["state", "planned_start"], unique=False)

    op.create_table(
        "change_target",
        sa.Column("change_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=10), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("active_from", _UTC, nullable=False),
        sa.Column("active_until", _UTC, nullable=True),
        sa.ForeignKeyConstraint(["change_id"], ["change_request.id"]),
        sa.PrimaryKeyConstraint("change_id", "kind", "name"),
    )
    with op.batch_alter_table("change_target", schema=None) as batch_op:
        batch_op.create_index("ix_change_target_window", ["kind", "name", "active_until", "change_id"], unique=False)

    op.create_table(
        "change_incident",
        sa.Column("change_id", sa.Integer(), nullable=False),
        sa.Column("incident_id", sa.Integer(), nullable=False),
        sa.Column("relation", sa.String(length=20), nullable=False),
        sa.Column("linked_at", _UTC, nullable=False),
        sa.ForeignKeyConstraint(["change_id"], ["change_request.id"]),
        sa.ForeignKeyConstraint(["incident_id"], ["incident.id"]),
        sa.PrimaryKeyConstraint("change_id", "incident_id", "relation"),
    )
    with op.batch_alter_table("change_incident", schema=None) as batch_op:
        batch_op.create_index("ix_change_incident_incident", ["incident_id"], unique=False)

    op.create_table(
        "change_event",
        sa.Column("seq", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("change_id", sa.Integer(), nullable=False),
        sa.Column("at", _UTC, nullable=False),
        sa.Column("actor", sa.String(length=100), nullable=False),
        sa.Column("kind", sa.String(length=30), nullable=False),
        sa.Column("summary", sa.Text(), nullable=False),
        sa.Column("data", sa.JSON(), nullable=False),
        sa.Column("prev_hash", sa.String(length=64), nullable=False),
        sa.Column("hash", sa.String(length=64), nullable=False),
        sa.ForeignKeyConstraint(["change_id"], ["change_request.id"]),
        sa.PrimaryKeyConstraint("seq"),
    )
    with op.batch_alter_table("change_event", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_change_event_change_id"), ["change_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("change_event", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_change_event_change_id"))
    op.drop_table("change_event")
    with op.batch_alter_table("change_incident", schema=None) as batch_op:
        batch_op.drop_index("ix_change_incident_incident")
    op.drop_table("change_incident")
    with op.batch_alter_table("change_target", schema=None) as batch_op:
        batch_op.drop_index("ix_change_target_window")
    op.drop_table("change_target")
    with op.batch_alter_table("change_request", schema=None) as batch_op:
        batch_op.drop_index("ix_change_state")
    op.drop_table("change_request")
    op.execute(sa.text(f"DELETE FROM chain_head WHERE id = {CHANGE_CHAIN}"))
