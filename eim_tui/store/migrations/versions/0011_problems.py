"""problem records, known errors and their timeline (issue 11)

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-06

- `problem` gains what a problem record needs: a number (its key `PRB-000123`), a state
  (open → known_error → resolved → closed), the owner group, the service / CI / category /
  subcategory it is about, a description, who made it, when it changed, was resolved and closed,
  and a `version` for optimistic concurrency. Rows already there (references imported with
  incidents) keep their `ref` and fields; they are numbered in the order they were made, and one
  marked as a known error is in state known_error.
- `problem_event`: the problems' own hash-chained timeline (head: `chain_head` row 11).
- An index on `incident.problem_ref`: a problem's linked incidents are read through it.

Written by hand. The downgrade gives back the 0009 `problem` table with every row (the new
columns and the problems' timeline go).
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import eim_tui.store.types

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None

_UTC = eim_tui.store.types.UTCDateTime(timezone=True)
PROBLEM_CHAIN = 11  # the chain_head row of the problems' timeline
_TEXTS = (("owner_group", 100), ("service", 100), ("configuration_item", 200), ("category", 100),
          ("subcategory", 100), ("created_by", 100))


def upgrade() -> None:
    with op.batch_alter_table("problem", schema=None) as batch_op:
        batch_op.add_column(sa.Column("number", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("state", sa.String(length=20), nullable=False, server_default="open"))
        for name, length in _TEXTS:
            batch_op.add_column(sa.Column(name, sa.String(length=length), nullable=False, server_default=""))
        batch_op.add_column(sa.Column("description", sa.Text(), nullable=False, server_default=""))
        batch_op.add_column(sa.Column("updated_at", _UTC, nullable=True))
        batch_op.add_column(sa.Column("resolved_at", _UTC, nullable=True))
        batch_op.add_column(sa.Column("closed_at", _UTC, nullable=True))
        batch_op.add_column(sa.Column("version", sa.Integer(), nullable=False, server_default="1"))
    conn = op.get_bind()
    refs = conn.execute(sa.text("SELECT ref FROM problem ORDER BY created_at, ref")).scalars().all()
    for number, ref in enumerate(refs, 1):
        conn.execute(sa.text("UPDATE problem SET number = :n WHERE ref = :r"), {"n": number, "r": ref})
    conn.execute(sa.text("UPDATE problem SET state = 'known_error' WHERE known_error"))
    with op.batch_alter_table("problem", schema=None) as batch_op:
        batch_op.alter_column("number", existing_type=sa.Integer(), nullable=False)
        batch_op.create_index("ix_problem_number", ["number"], unique=True)
        batch_op.create_index("ix_problem_state_service", ["state", "service"], unique=False)
        batch_op.create_index("ix_problem_state_ci", ["state", "configuration_item"], unique=False)

    op.create_table(
        "problem_event",
        sa.Column("seq", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("problem_number", sa.Integer(), nullable=False),
        sa.Column("at", _UTC, nullable=False),
        sa.Column("actor", sa.String(length=100), nullable=False),
        sa.Column("kind", sa.String(length=30), nullable=False),
        sa.Column("summary", sa.Text(), nullable=False),
        sa.Column("data", sa.JSON(), nullable=False),
        sa.Column("prev_hash", sa.String(length=64), nullable=False),
        sa.Column("hash", sa.String(length=64), nullable=False),
        sa.PrimaryKeyConstraint("seq"),
    )
    with op.batch_alter_table("problem_event", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_problem_event_problem_number"), ["problem_number"], unique=False)
    with op.batch_alter_table("incident", schema=None) as batch_op:
        batch_op.create_index("ix_incident_problem_ref", ["problem_ref"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("incident", schema=None) as batch_op:
        batch_op.drop_index("ix_incident_problem_ref")
    with op.batch_alter_table("problem_event", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_problem_event_problem_number"))
    op.drop_table("problem_event")
    op.execute(sa.text(f"DELETE FROM chain_head WHERE id = {PROBLEM_CHAIN}"))
    # 0009 knew a problem as a known error or not: one that became a known error stays marked so.
    op.execute(sa.text("UPDATE problem SET known_error = true WHERE state = 'known_error'"))
    with op.batch_alter_table("problem", schema=None) as batch_op:
        batch_op.drop_index("ix_problem_state_ci")
        batch_op.drop_index("ix_problem_state_service")
        batch_op.drop_index("ix_problem_number")
        for name in ("version", "closed_at", "resolved_at", "updated_at", "description",
                     *reversed([n for n, _ in _TEXTS]), "state", "number"):
            batch_op.drop_column(name)
