"""A maintenance window end to end: a change recorded and started with the real `eim change`
commands, a real `eim ingest` receiving alerts over HTTP (Alertmanager's and Grafana's shapes) —
the incident opens on hold awaiting change, its SLA paused, and says "during CHG-…"; once the
change is completed, the same kind of alert opens a normal incident. SQLite and PostgreSQL."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import urllib.request
from pathlib import Path

import pytest

from tests.ingest.live import LiveIngest, live_store
from tests.ingest.samples import raw

pytestmark = pytest.mark.e2e


def _eim(db_url: str, *args: str) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if not k.startswith("EIM_")}
    done = subprocess.run([sys.executable, "-m", "eim_tui", "--db", db_url, *args], capture_output=True, text=True,
                          timeout=120, env={**env, "EIM_USER": "alice", "PYTHONWARNINGS": "ignore"})
    assert done.returncode == 0 and "Traceback" not in done.stderr, (args, done.stdout, done.stderr)
    return done


def _post(url: str, path: str, body: bytes) -> dict:
    request = urllib.request.Request(f"{url}{path}", data=body, headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=60) as answer:
        assert answer.status == 200
        return json.loads(answer.read())


def _alertmanager(name: str, instance: str) -> bytes:
    return json.dumps({
        "version": "4", "groupKey": f'{{}}:{{alertname="{name}"}}', "status": "firing", "receiver": "eim",
        "alerts": [{"status": "firing", "labels": {"alertname": name, "instance": instance, "severity": "critical"},
                    "annotations": {"summary": f"{name} on {instance}"}, "startsAt": "2026-12-05T08:00:00Z",
                    "endsAt": "0001-01-01T00:00:00Z", "fingerprint": f"{name}-{instance}"}],
    }).encode()


def _grafana_on_payments() -> bytes:
    body = json.loads(raw("grafana_docs_example.json"))
    for alert in body["alerts"]:
        alert["labels"]["service"] = "payments"  # the shipped rule "payments-service" holds during a change
    return json.dumps(body).encode()


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def receiver(request: pytest.FixtureRequest, tmp_path: Path):
    with live_store(request.param, tmp_path, request) as db_url:
        ingest = LiveIngest(db_url, tmp_path / "ingest.log")
        try:
            yield db_url, ingest
        finally:
            status = ingest.stop()
            log = ingest.stderr()
        assert status == 0 and "Traceback" not in log, log


def test_an_alert_during_a_change_in_progress_is_put_on_hold(receiver) -> None:
    db_url, ingest = receiver
    made = json.loads(_eim(db_url, "change", "new", "--title", "Payments DB minor upgrade", "--start", "now",
                           "--end", "in 2h", "--risk", "medium", "--service", "payments",
                           "--ci", "db01.pay.internal", "--json").stdout)
    assert made["key"] == "CHG-000001"
    _eim(db_url, "change", "start", "CHG-000001")

    answer = _post(ingest.url, "/api/v1/alertmanager", _alertmanager("PostgresDown", "db01.pay.internal:9187"))
    key = answer["incidents"][0]
    shown = json.loads(_eim(db_url, "show", key, "--json").stdout)
    assert (shown["state"], shown["hold_reason"], shown["hold_note"]) == ("on_hold", "awaiting_change", "during CHG-000001")
    assert shown["sla"]["response"]["state"] == "paused"  # the clock does not run: nobody is paged
    assert [(c["key"], c["relation"]) for c in shown["changes"]] == [("CHG-000001", "during")]
    assert any(e["summary"].startswith("during CHG-000001 (in progress): put on hold awaiting change")
               for e in shown["timeline"])

    answer = _post(ingest.url, "/api/v1/grafana", _grafana_on_payments())
    grafana = json.loads(_eim(db_url, "show", answer["incidents"][0], "--json").stdout)
    assert (grafana["state"], grafana["hold_reason"]) == ("on_hold", "awaiting_change")
    assert grafana["links"]["silence"].startswith("https://play.grafana.org/alerting/silence/new?")

    change = json.loads(_eim(db_url, "change", "show", "CHG-000001", "--json").stdout)
    assert {i["key"] for i in change["incidents"]} == {key, answer["incidents"][0]}

    _eim(db_url, "change", "complete", "CHG-000001", "--note", "upgraded")
    answer = _post(ingest.url, "/api/v1/alertmanager", _alertmanager("PostgresSlow", "db01.pay.internal:9187"))
    after = json.loads(_eim(db_url, "show", answer["incidents"][0], "--json").stdout)
    assert after["state"] == "new" and after["changes"] == []
    assert [c["key"] for c in after["recent_changes"]] == ["CHG-000001"]  # completed minutes ago: recent
    assert _eim(db_url, "audit", "verify").stdout.startswith("timeline intact")
    assert _eim(db_url, "change", "verify").stdout.startswith("change timeline intact")
