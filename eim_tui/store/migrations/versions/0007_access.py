"""database roles, grants and row-level security on PostgreSQL (issue 13)

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-05

The tables: `app_user.retired_at` (a retired person's login is revoked) and `user_ssh_key` (the
keys that identify people who come in through the shared SSH account). The roles, grants and
row-level policies are not here: `eim db upgrade` installs them after every migration
(store/access_install.py), from whatever tables exist then, so later migrations' tables are
covered too.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import eim_tui.store.types

_UTC = eim_tui.store.types.UTCDateTime(timezone=True)

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("app_user", sa.Column("retired_at", _UTC, nullable=True))
    op.create_table(
        "user_ssh_key",
        sa.Column("fingerprint", sa.String(100), primary_key=True),
        sa.Column("user_name", sa.String(100), sa.ForeignKey("app_user.name"), nullable=False),
        sa.Column("key_type", sa.String(40), nullable=False),
        sa.Column("key_data", sa.Text(), nullable=False),
        sa.Column("comment", sa.String(200), nullable=False, server_default=""),
        sa.Column("added_at", _UTC, nullable=False),
    )
    op.create_index("ix_user_ssh_key_user_name", "user_ssh_key", ["user_name"])


def downgrade() -> None:
    op.drop_index("ix_user_ssh_key_user_name", table_name="user_ssh_key")
    op.drop_table("user_ssh_key")
    # Not a batch (SQLite would copy app_user, which group_member's foreign key refers to):
    # SQLite drops a column in place since 3.35.
    op.execute("ALTER TABLE app_user DROP COLUMN retired_at")
