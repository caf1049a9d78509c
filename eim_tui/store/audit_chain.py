"""Reading the timeline chain for audit files: every event in order from a time, and the hash at a seq."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from eim_tui.store.tables import ChainHeadRow, TimelineRow


def events(session: Session, since: datetime | None = None, batch: int = 5000) -> Iterator[TimelineRow]:
    """Timeline rows in chain order (from the first at or after `since`), read in batches."""
    last = 0
    if since is not None:
        first = session.execute(select(TimelineRow.seq).where(TimelineRow.at >= since)
                                .order_by(TimelineRow.seq).limit(1)).scalar()
        if first is None:
            return
        last = first - 1
    while True:
        rows = session.execute(select(TimelineRow).where(TimelineRow.seq > last)
                               .order_by(TimelineRow.seq).limit(batch)).scalars().all()
        if not rows:
            return
        yield from rows
        last = rows[-1].seq
        session.expunge_all()


def hash_at(session: Session, seq: int) -> str | None:
    return session.execute(select(TimelineRow.hash).where(TimelineRow.seq == seq)).scalar()


def head(session: Session) -> tuple[int, str]:
    row = session.get(ChainHeadRow, 1)
    return (0, "0" * 64) if row is None else (row.seq, row.hash)
