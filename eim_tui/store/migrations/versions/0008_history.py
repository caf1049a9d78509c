"""imported history: where each imported incident came from, and the names an import created (issue 11)

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-05

- `incident_import`: one row per incident brought in by `eim import` — the source system and its
  own number (`INC0000045`, unique per source, which makes a second import of the same file a
  no-op), a digest of the source rows it was rebuilt from, how many rows that was, and what the
  source recorded that eim has no field for: its SLA label (`made_sla`, never recomputed), reopen
  and reassignment counts, time on hold, location, symptom, caused-by.
- `imported_name`: every name an import met that the store did not know (category, group, user,
  CI, location), marked with the source that brought it.

Written by hand; only new tables, nothing existing is touched.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import eim_tui.store.types

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None

_UTC = eim_tui.store.types.UTCDateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "incident_import",
        sa.Column("incident_id", sa.Integer(), nullable=False),
        sa.Column("source", sa.String(length=30), nullable=False),
        sa.Column("external_ref", sa.String(length=100), nullable=False),
        sa.Column("digest", sa.String(length=64), nullable=False),
        sa.Column("source_rows", sa.Integer(), nullable=False),
        sa.Column("made_sla", sa.Boolean(), nullable=True),
        sa.Column("reopen_count", sa.Integer(), nullable=False),
        sa.Column("reassignment_count", sa.Integer(), nullable=False),
        sa.Column("on_hold_seconds", sa.Float(), nullable=False),
        sa.Column("location", sa.String(length=200), nullable=False),
        sa.Column("symptom", sa.String(length=200), nullable=False),
        sa.Column("caused_by", sa.String(length=100), nullable=False),
        sa.Column("imported_at", _UTC, nullable=False),
        sa.ForeignKeyConstraint(["incident_id"], ["incident.id"]),
        sa.PrimaryKeyConstraint("incident_id"),
        sa.UniqueConstraint("source", "external_ref", name="uq_incident_import_ref"),
    )
    op.create_table(
        "imported_name",
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("source", sa.String(length=30), nullable=False),
        sa.PrimaryKeyConstraint("kind", "name"),
    )


def downgrade() -> None:
    op.drop_table("imported_name")
    op.drop_table("incident_import")
