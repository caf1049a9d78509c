"""Stakeholder updates through a real `eim service` process to real HTTP receivers (aiohttp), on
SQLite and PostgreSQL, with no TUI: an update written with `eim update` reaches the incident's
subscriber URL once; the commander's channel gets the update-due reminder when the cadence runs
out (recorded once per due time, the miss too); resolving sends the final update."""

from __future__ import annotations

import time
from collections import Counter
from pathlib import Path

import pytest

from eim_tui.bootstrap import open_services
from eim_tui.domain.collab import IncidentRole
from eim_tui.domain.intake import NewIncident
from eim_tui.domain.model import EventKind
from eim_tui.services.collab import CollabCases
from eim_tui.services.notifications import NotificationCases
from tests.e2e.test_service import Service, _eim, _timeline
from tests.notify.receivers import Webhook, wait_for

pytestmark = pytest.mark.e2e
CADENCE = "6s"
CONFIG = ('[notify]\nbackoff = "1s"\nheartbeat = "1s"\nlease = "1m"\n\n'
          f'[updates]\ncadence = {{ 1 = "{CADENCE}", 2 = "{CADENCE}", 3 = "{CADENCE}", 4 = "{CADENCE}", 5 = "{CADENCE}" }}\n')


def _major_with_subscriber(url: str, subscriber: str, commander_channel: str) -> str:
    svc = open_services(url)
    try:
        incident = svc.log_incident(NewIncident(title="Checkout 502s for all users", impact=1, urgency=1,
                                                assignment_group="platform"), "monitor")
        collab = CollabCases(svc)
        collab.set_roles(incident.number, "alice", {IncidentRole.COMMANDER: ["bob"]})
        collab.subscribe(incident.number, "alice", "url", subscriber)
        NotificationCases(svc).set_channels("admin", "user", "bob", [commander_channel])
        return incident.key
    finally:
        svc.db.dispose()


def test_update_reaches_subscribers_and_the_commander_is_reminded(db_url: str, tmp_path: Path) -> None:
    with Webhook() as status_page, Webhook() as commander:
        key = _major_with_subscriber(db_url, status_page.url, commander.url)
        service = Service(db_url, tmp_path, CONFIG).start()
        try:
            done = _eim(db_url, "--user", "alice", "update", key, "--happening", "failing over to db02",
                        "--impact", "card payments fail", env={**service.env, "EIM_USER": "alice"})
            assert done.returncode == 0, done.stderr
            update = wait_for(lambda: [m for m in status_page.received if "update:" in m["title"]],
                              "the stakeholder update at the subscriber")[0]
            assert update["title"] == f"Sev1 {key} update: Checkout 502s for all users"
            assert "What is happening: failing over to db02" in update["message"]
            assert "Impact: card payments fail" in update["message"] and f"eim show {key}" in update["message"]

            reminder = wait_for(lambda: [m for m in commander.received if "update due" in m["title"]],
                                "the update-due reminder to the commander")[0]
            assert reminder["title"] == f"Sev1 {key}: stakeholder update due"
            assert f"eim update {key}" in reminder["message"]
            wait_for(lambda: _timeline(db_url, EventKind.UPDATE_MISSED), "the missed update recorded")

            for verb in (["ack", key], ["resolve", key, "--code", "fixed", "--notes", "failed over to db02",
                                        "--communication", "checkout works again"]):
                result = _eim(db_url, "--user", "alice", *verb, env={**service.env, "EIM_USER": "alice"})
                assert result.returncode == 0, result.stderr
            final = wait_for(lambda: [m for m in status_page.received if "(final)" in m["title"]],
                             "the final update on resolution")[0]
            assert "resolved (fixed): failed over to db02" in final["message"]
            assert "Impact: checkout works again" in final["message"]
            time.sleep(1.5)  # a doubled delivery would have arrived by now
        finally:
            assert service.stop() == 0
    assert len(status_page.received) == 2  # the update and the final one, each once
    updates = _timeline(db_url, EventKind.STAKEHOLDER_UPDATE)
    assert [d["final"] for _, _, d in updates] == [False, True]
    for kind in (EventKind.UPDATE_DUE, EventKind.UPDATE_MISSED):
        per_due = Counter(d["due_at"] for _, _, d in _timeline(db_url, kind))
        assert per_due and max(per_due.values()) == 1, (kind, per_due)
    sent = [s for _, s, d in _timeline(db_url, EventKind.NOTIFICATION_SENT) if d.get("ok")]
    assert sent.count("notified url:json by json") == 2 and "notified bob by json" in sent
    log = service.log()
    assert "stakeholder update due" in log and "queued" in log
