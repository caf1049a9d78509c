"""escalation rules in the store (issue 12, after the catalogue of issue 10)

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-05

- `escalation_rule`: what happens when an incident is not handled in time — trigger, severities,
  delay, whom to alert (roles and names), whether it marks the incident escalated or raises its
  severity — tried by `position`. Until now these lived only in the package's data/escalation.toml.

A store made before this revision has had its catalogue seeded already (seeding happens once), so
this revision puts in the rules that data/escalation.toml shipped with at the time, as they were:
the escalations that store has been running keep running. A new store gets them from the seed.

Written by hand; only a new table and its rows, nothing existing is touched.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None

# data/escalation.toml as shipped with revision 0008 (copied: a migration must not change with the package).
SHIPPED = [
    ("sev1-not-acknowledged", "unacknowledged", [1], 300, ["shift_lead"], True, False,
     "Sev1 not acknowledged within 5 minutes"),
    ("high-unassigned", "unassigned", [1, 2], 600, ["group"], False, False,
     "Sev1–2 still unassigned 10 minutes after the report"),
    ("response-breached", "response_breached", [1, 2], 0, ["shift_lead", "commander"], True, False,
     "first response SLA breached"),
    ("resolution-breached", "resolution_breached", [1, 2, 3, 4, 5], 0, ["assignee", "shift_lead", "commander"],
     True, False, "resolution SLA breached"),
    ("resolution-breached-raise", "resolution_breached", [3, 4], 0, [], False, True,
     "resolution SLA breached: raised one severity"),
]


def upgrade() -> None:
    table = op.create_table(
        "escalation_rule",
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("trigger", sa.String(length=30), nullable=False),
        sa.Column("severities", sa.JSON(), nullable=False),
        sa.Column("after_seconds", sa.Integer(), nullable=False),
        sa.Column("notify", sa.JSON(), nullable=False),
        sa.Column("reach", sa.JSON(), nullable=False),
        sa.Column("mark_escalated", sa.Boolean(), nullable=False),
        sa.Column("raise_severity", sa.Boolean(), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("name"),
    )
    seeded = op.get_bind().execute(sa.text("SELECT count(*) FROM catalogue_head WHERE seq > 0")).scalar()
    if seeded:  # a new store (no catalogue yet) gets its rules from the seed instead
        op.bulk_insert(table, [
            {"name": name, "position": n, "trigger": trigger, "severities": severities, "after_seconds": after,
             "notify": notify, "reach": [], "mark_escalated": mark, "raise_severity": raise_, "reason": reason}
            for n, (name, trigger, severities, after, notify, mark, raise_, reason) in enumerate(SHIPPED, 1)])


def downgrade() -> None:
    op.drop_table("escalation_rule")
