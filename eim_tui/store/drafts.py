"""The `draft` table: one row per (owner, scope), written over on every save (an upsert).

SQLite and PostgreSQL both have `INSERT … ON CONFLICT DO UPDATE`; SQLAlchemy spells it per dialect.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from eim_tui.domain.drafts import Draft
from eim_tui.store.tables import DraftRow


def save_draft(session: Session, owner: str, scope: str, content: dict[str, Any], at: datetime) -> None:
    """Insert the draft, or replace the content of the one this owner already has in this scope."""
    dialect = session.get_bind().dialect.name
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    stmt = insert(DraftRow).values(owner=owner, scope=scope, content=content, saved_at=at)
    stmt = stmt.on_conflict_do_update(
        index_elements=[DraftRow.owner, DraftRow.scope],
        set_={"content": stmt.excluded.content, "saved_at": stmt.excluded.saved_at},
    )
    session.execute(stmt)


def load_draft(session: Session, owner: str, scope: str) -> Draft | None:
    row = session.execute(
        select(DraftRow).where(DraftRow.owner == owner, DraftRow.scope == scope)
    ).scalar_one_or_none()
    if row is None:
        return None
    return Draft(owner=row.owner, scope=row.scope, saved_at=row.saved_at, content=dict(row.content or {}))


def delete_draft(session: Session, owner: str, scope: str) -> bool:
    """Remove the draft; True when there was one."""
    result = session.execute(delete(DraftRow).where(DraftRow.owner == owner, DraftRow.scope == scope))
    return bool(result.rowcount)
