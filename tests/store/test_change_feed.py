"""The change feed: one `Services` sees which incidents another one (another TUI, the ingest
receiver, the scheduler) changed since it last looked."""

from __future__ import annotations

import pytest

from eim_tui.bootstrap import open_services

from .conftest import report


@pytest.fixture
def other(svc, db_url, clock):
    second = open_services(db_url, clock)
    yield second
    second.db.dispose()


def test_changes_by_another_instance_are_reported(svc, other) -> None:
    assert svc.change_marker() == 0 and svc.changes_since(0) == (0, set())
    svc.log_incident(report(title="first"), "alice")
    svc.log_incident(report(title="second"), "alice")
    marker = svc.change_marker()
    assert marker == 2 and svc.changes_since(marker) == (marker, set())

    other.acknowledge(1, "bob")  # two events
    third = other.log_incident(report(title="third"), "bob")
    assert third.number == 3
    new_marker, changed = svc.changes_since(marker)
    assert changed == {1, 3}
    assert new_marker == svc.change_marker() == other.change_marker() == marker + 3
    assert svc.changes_since(new_marker) == (new_marker, set())

    other.add_note(2, "bob", "observation", "seen on db02 too")
    assert svc.changes_since(new_marker) == (new_marker + 1, {2})
    # An older marker still sees everything after it.
    assert svc.changes_since(marker)[1] == {1, 2, 3}


def test_a_change_that_changes_nothing_moves_no_marker(svc, other) -> None:
    svc.log_incident(report(assignment_group="platform"), "alice")
    marker = svc.change_marker()
    other.assign(1, "bob", group="platform")
    assert svc.changes_since(marker) == (marker, set())
