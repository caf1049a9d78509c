"""Every datetime goes in and comes out aware UTC, whatever the backend does with offsets."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest
from sqlalchemy import insert, select
from sqlalchemy.exc import StatementError

from eim_tui.store.tables import ProblemRow


def test_datetimes_come_back_aware_utc_and_equal(svc, log, clock) -> None:
    clock.set(datetime(2026, 11, 26, 9, 0, 0, 123456, tzinfo=UTC))
    incident = log()
    stored = svc.get(incident.number)
    assert stored.reported_at == datetime(2026, 11, 26, 9, 0, 0, 123456, tzinfo=UTC)
    for value in (stored.reported_at, stored.response_due_at, stored.resolution_due_at, stored.updated_at):
        assert value.tzinfo is not None and value.utcoffset() == timedelta(0)
    assert stored == incident


def test_an_offset_datetime_is_stored_as_the_same_instant(svc) -> None:
    tokyo = datetime(2026, 11, 26, 18, 30, tzinfo=timezone(timedelta(hours=9)))
    with svc.db.write() as session:
        session.execute(insert(ProblemRow).values(ref="PRB-1", number=1, title="flaky disks", created_at=tokyo))
    with svc.db.read() as session:
        created = session.execute(select(ProblemRow.created_at)).scalar_one()
    assert created == datetime(2026, 11, 26, 9, 30, tzinfo=UTC)
    assert created.tzinfo is UTC


def test_a_naive_datetime_is_refused(svc) -> None:
    with pytest.raises(StatementError, match="naive datetime"):
        with svc.db.write() as session:
            session.execute(insert(ProblemRow).values(ref="PRB-2", number=2, title="x", created_at=datetime(2026, 11, 26, 9)))
    with svc.db.read() as session:
        assert session.execute(select(ProblemRow.ref)).all() == []
