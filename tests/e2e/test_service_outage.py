"""`eim service` through a PostgreSQL outage: it stays up, says once that the store is away, and
when the database returns it says so and delivers what fell due meanwhile — once.

The cluster is the test's own (tests/pg_cluster.py), stopped with `pg_ctl stop -m fast` as a
restart or a crash would, and started again on the same port and data.
"""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from eim_tui.domain.model import EventKind
from tests.e2e.test_service import Service, _eim, _log_sev1, _set_channel, _timeline
from tests.notify.receivers import Mailbox, wait_for
from tests.pg_cluster import private_cluster

pytestmark = pytest.mark.e2e


@pytest.fixture
def cluster():
    made = private_cluster()
    try:
        yield made
    finally:
        made.cleanup()


def test_the_service_pauses_while_the_store_is_away_and_resumes_without_doubling(cluster, tmp_path: Path) -> None:
    url = cluster.url
    done = _eim(url, "db", "upgrade")
    assert done.returncode == 0, done.stderr
    with Mailbox() as box:
        _set_channel(url, "user", "chen", box.url("chen@example.com"))
        service = Service(url, tmp_path).start()
        try:
            cluster.stop()
            # It notices (any of its loops), says so once per kind of work, and keeps running.
            wait_for(lambda: "failed:" in service.log(), "the service to notice the outage", deadline=30)
            time.sleep(2)  # a few polls while the store is away: the log must not fill with repeats
            assert service.proc.poll() is None, service.log()
            away = [line for line in service.log().splitlines() if "failed:" in line]
            assert len(away) == len(set(away)), away
            assert "Traceback" not in service.log()

            cluster.start()
            # A Sev1 whose 5-minute escalation is already due, logged once the store is back: the
            # service must pick it up without a restart.
            _log_sev1(url, assignee="bob")
            mail = wait_for(lambda: [m for m in box.messages if "not acknowledged" in m["body"]],
                            "the escalation mail after the store came back", deadline=60)[0]
            assert mail["to"] == "chen@example.com"
            wait_for(lambda: "works again" in service.log(), "the service to say the store is back")
            time.sleep(3)  # later polls must not send it again
        finally:
            status = service.stop()
        assert status == 0, service.log()
    assert len([m for m in box.messages if "not acknowledged" in m["body"]]) == 1
    escalations = _timeline(url, EventKind.ESCALATION)
    assert len(escalations) == len({(n, s) for n, s, _ in escalations}), escalations
    assert _eim(url, "audit", "verify").returncode == 0
