"""outbound notifications: channels, the outbox, the enqueue cursor, the service heartbeat

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-05

- `notify_channel`: apprise URLs of people and groups (`eim users set NAME --notify URL`,
  `eim groups set NAME --notify URL`).
- `outbox`: one row per (timeline event, recipient, channel), claimed, sent, then marked by
  `eim service`; the unique key keeps every delivery single however many services run.
- `notify_cursor`: how far the timeline has been turned into outbox rows.
- `service_heartbeat`: the running services, so the TUI can say one is there.

Written by hand; only new tables, nothing existing is touched.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import eim_tui.store.types

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

_UTC = eim_tui.store.types.UTCDateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "notify_channel",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("owner_kind", sa.String(length=10), nullable=False),
        sa.Column("owner_name", sa.String(length=100), nullable=False),
        sa.Column("url", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("notify_channel", schema=None) as batch_op:
        batch_op.create_index("ix_notify_channel_owner", ["owner_kind", "owner_name"], unique=False)

    op.create_table(
        "outbox",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("event_seq", sa.Integer(), nullable=False),
        sa.Column("incident_id", sa.Integer(), nullable=False),
        sa.Column("recipient", sa.String(length=110), nullable=False),
        sa.Column("channel_key", sa.String(length=64), nullable=False),
        sa.Column("channel_kind", sa.String(length=40), nullable=False),
        sa.Column("url", sa.Text(), nullable=False),
        sa.Column("severity", sa.Integer(), nullable=False),
        sa.Column("title", sa.Text(), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("status", sa.String(length=10), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("not_before", _UTC, nullable=False),
        sa.Column("claimed_at", _UTC, nullable=True),
        sa.Column("claimed_by", sa.String(length=100), nullable=False),
        sa.Column("last_error", sa.Text(), nullable=False),
        sa.Column("created_at", _UTC, nullable=False),
        sa.Column("done_at", _UTC, nullable=True),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("event_seq", "recipient", "channel_key", name="uq_outbox_delivery"),
    )
    with op.batch_alter_table("outbox", schema=None) as batch_op:
        batch_op.create_index("ix_outbox_status", ["status", "not_before"], unique=False)

    op.create_table(
        "notify_cursor",
        sa.Column("name", sa.String(length=40), nullable=False),
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("name"),
    )
    op.create_table(
        "service_heartbeat",
        sa.Column("instance", sa.String(length=100), nullable=False),
        sa.Column("host", sa.String(length=200), nullable=False),
        sa.Column("pid", sa.Integer(), nullable=False),
        sa.Column("started_at", _UTC, nullable=False),
        sa.Column("last_seen", _UTC, nullable=False),
        sa.PrimaryKeyConstraint("instance"),
    )


def downgrade() -> None:
    op.drop_table("service_heartbeat")
    op.drop_table("notify_cursor")
    with op.batch_alter_table("outbox", schema=None) as batch_op:
        batch_op.drop_index("ix_outbox_status")
    op.drop_table("outbox")
    with op.batch_alter_table("notify_channel", schema=None) as batch_op:
        batch_op.drop_index("ix_notify_channel_owner")
    op.drop_table("notify_channel")
