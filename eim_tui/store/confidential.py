"""Which stored things belong to a confidential incident (for what the services hide from people
outside the security group; on PostgreSQL row-level security hides them too)."""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import select
from sqlalchemy.orm import Session

from eim_tui.store.tables import AlertRow, IncidentRow


def confidential_payloads(session: Session, payload_ids: Iterable[int]) -> set[int]:
    """The payloads among `payload_ids` whose alert opened or joined a confidential incident."""
    ids = list(payload_ids)
    found: set[int] = set()
    for start in range(0, len(ids), 500):
        chunk = ids[start:start + 500]
        found.update(session.execute(
            select(AlertRow.payload_id).join(IncidentRow, IncidentRow.id == AlertRow.incident_id)
            .where(AlertRow.payload_id.in_(chunk), IncidentRow.confidential.is_(True))
        ).scalars())
    return found
