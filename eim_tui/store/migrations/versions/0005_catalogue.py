"""the catalogue in the store (services, CIs, groups, categories, SLA per service, routing; issue 10)

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-05

- `service.retired_at`, and on `configuration_item`: `kind`, `owner_group`, `attributes`,
  `retired_at`. Retiring keeps the row, so old incidents still name what they named.
- `service_sla`: a service's own response / resolution targets per severity.
- `routing_rule`: the keyword / service rules that used to be read from data/routing.toml.
- `catalogue_event`, `catalogue_head`: the catalogue's hash-chained history and its head.

Nothing existing is rewritten: every row of the reference tables stays as it was. The rules in
data/routing.toml are copied in when the store is next opened (the seeding step, once per store).
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import eim_tui.store.types

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None

_UTC = eim_tui.store.types.UTCDateTime(timezone=True)


def upgrade() -> None:
    with op.batch_alter_table("service", schema=None) as batch_op:
        batch_op.add_column(sa.Column("retired_at", _UTC, nullable=True))
    with op.batch_alter_table("configuration_item", schema=None) as batch_op:
        batch_op.add_column(sa.Column("kind", sa.String(length=50), nullable=False, server_default=""))
        batch_op.add_column(sa.Column("owner_group", sa.String(length=100), nullable=False, server_default=""))
        batch_op.add_column(sa.Column("attributes", sa.JSON(), nullable=True))
        batch_op.add_column(sa.Column("retired_at", _UTC, nullable=True))
    op.create_table(
        "service_sla",
        sa.Column("service", sa.String(length=100), nullable=False),
        sa.Column("severity", sa.Integer(), nullable=False),
        sa.Column("response_seconds", sa.Integer(), nullable=False),
        sa.Column("resolution_seconds", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(["service"], ["service.name"]),
        sa.PrimaryKeyConstraint("service", "severity"),
    )
    op.create_table(
        "routing_rule",
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("keywords", sa.JSON(), nullable=False),
        sa.Column("services", sa.JSON(), nullable=False),
        sa.Column("category", sa.String(length=100), nullable=False),
        sa.Column("subcategory", sa.String(length=100), nullable=False),
        sa.Column("group_name", sa.String(length=100), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("name"),
    )
    op.create_table(
        "catalogue_head",
        sa.Column("id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.Column("hash", sa.String(length=64), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_table(
        "catalogue_event",
        sa.Column("seq", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("at", _UTC, nullable=False),
        sa.Column("actor", sa.String(length=100), nullable=False),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("entity", sa.String(length=20), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("data", sa.JSON(), nullable=False),
        sa.Column("prev_hash", sa.String(length=64), nullable=False),
        sa.Column("hash", sa.String(length=64), nullable=False),
        sa.PrimaryKeyConstraint("seq"),
    )
    with op.batch_alter_table("catalogue_event", schema=None) as batch_op:
        batch_op.create_index("ix_catalogue_event_entity", ["entity", "name"], unique=False)


def downgrade() -> None:
    """Gives back the 0004 schema. What only 0005 can say is lost: retirements (the rows stay, as
    active), CI kinds / owners / attributes, per-service SLA targets, routing rules (data/routing.toml
    is read again) and the catalogue's history."""
    with op.batch_alter_table("catalogue_event", schema=None) as batch_op:
        batch_op.drop_index("ix_catalogue_event_entity")
    op.drop_table("catalogue_event")
    op.drop_table("catalogue_head")
    op.drop_table("routing_rule")
    op.drop_table("service_sla")
    # Plain DROP COLUMN (SQLite 3.35+ has it): a batch copy would drop `service`, which the CIs'
    # foreign keys refuse while they are on.
    for table, column in (("configuration_item", "retired_at"), ("configuration_item", "attributes"),
                          ("configuration_item", "owner_group"), ("configuration_item", "kind"),
                          ("service", "retired_at")):
        op.execute(f"ALTER TABLE {table} DROP COLUMN {column}")
