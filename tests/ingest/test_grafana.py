"""Grafana Alerting's webhook (payload version "1") over HTTP, at /api/v1/grafana and at the
Alertmanager endpoint: Grafana's own documented example, resolved and mixed groups, the links the
incident keeps, and what is refused."""

from __future__ import annotations

import copy
import json

import pytest
from aiohttp.test_utils import TestClient, TestServer

from eim_tui.ingest import adapters
from eim_tui.ingest.server import IngestServer, Settings
from eim_tui.services.changes import ChangeCases

from .conftest import incident_count
from .samples import raw

JSON = {"Content-Type": "application/json"}
ENDPOINTS = ["/api/v1/grafana", "/api/v1/alertmanager"]
DOCS = json.loads(raw("grafana_docs_example.json"))


@pytest.fixture
async def client(processor):
    client = TestClient(TestServer(IngestServer(processor, Settings()).app()))
    await client.start_server()
    yield client
    await client.close()


async def _post(client: TestClient, path: str, body: dict) -> tuple[int, dict]:
    response = await client.post(path, data=json.dumps(body).encode(), headers=JSON)
    return response.status, json.loads(await response.text())


def _resolved(body: dict, *fingerprints: str) -> dict:
    """Grafana's next message for the group: the named alerts resolved, the others still firing."""
    out = copy.deepcopy(body)
    for alert in out["alerts"]:
        if alert["fingerprint"] in fingerprints:
            alert["status"], alert["endsAt"] = "resolved", "2021-10-12T10:05:03.157076+02:00"
    out["status"] = "resolved" if all(a["status"] == "resolved" for a in out["alerts"]) else "firing"
    return out


def test_the_documented_example_reads_as_two_alerts_with_their_links() -> None:
    alerts = adapters.parse("grafana", raw("grafana_docs_example.json"))
    assert [(a.source, a.dedup_key, a.name, a.status.value) for a in alerts] == [
        ("grafana", "c6eadffa33fcdf37", "High memory usage", "firing"),
        ("grafana", "bc97ff14869b13e3", "High CPU usage", "firing"),
    ]
    first = alerts[0]
    assert first.summary == "This alert was triggered for zone us-1"
    assert first.url == "https://play.grafana.org/alerting/1afz29v7z/edit"
    assert first.annotations["silence_url"].startswith("https://play.grafana.org/alerting/silence/new?")
    assert "dashboard_url" not in first.annotations  # sent empty: nothing to keep
    assert first.annotations["values"] == "B=44.23943737541908, C=1"
    assert first.group_key == "{}:{}" and first.sender == "grafana:My Super Webhook"
    assert first.starts_at.isoformat() == "2021-10-12T07:51:03.157076+00:00"
    # The Alertmanager endpoint recognises it and reads it the same way.
    assert adapters.parse("alertmanager", raw("grafana_docs_example.json")) == alerts


@pytest.mark.parametrize("path", ENDPOINTS)
async def test_the_documented_example_opens_one_incident_that_keeps_the_links(client, svc, path) -> None:
    status, answer = await _post(client, path, DOCS)
    assert (status, answer["status"], answer["alerts"], answer["incidents"]) == (200, "processed", 2, ["INC-000001"])
    incident = svc.get(1)
    assert incident.alert_count == 2 and incident.reporter_name == "Grafana Alerting"
    assert "Silence: https://play.grafana.org/alerting/silence/new?" in incident.description
    assert "Runbook: https://myrunbook.com/runbook/1234" in incident.description
    links = ChangeCases(svc).alert_links(1)
    assert links["silence"].startswith("https://play.grafana.org/alerting/silence/new?")
    assert links["runbook"] == "https://myrunbook.com/runbook/1234" and "dashboard" not in links
    # Sent again (Grafana repeats a group): the same alerts, the same incident.
    status, answer = await _post(client, path, DOCS)
    assert (status, answer["incidents"]) == (200, ["INC-000001"]) and incident_count(svc) == 1


async def test_both_endpoints_deduplicate_into_one_incident_and_resolve_it(client, svc) -> None:
    await _post(client, "/api/v1/grafana", DOCS)
    mixed = _resolved(DOCS, "c6eadffa33fcdf37")
    status, answer = await _post(client, "/api/v1/alertmanager", mixed)  # one resolved, one firing
    assert (status, answer["incidents"]) == (200, ["INC-000001"])
    assert not svc.get(1).alerts_resolved  # the CPU alert still fires
    status, answer = await _post(client, "/api/v1/grafana", _resolved(DOCS, "c6eadffa33fcdf37", "bc97ff14869b13e3"))
    assert (status, answer["incidents"]) == (200, ["INC-000001"])
    incident = svc.get(1)
    assert incident.alerts_resolved and incident_count(svc) == 1
    summaries = [e.summary for e in svc.details(1).timeline]
    assert sum("resolved" in s for s in summaries) >= 2


async def test_a_dashboard_link_sent_later_is_kept(client, svc) -> None:
    body = copy.deepcopy(DOCS)
    body["alerts"] = body["alerts"][:1]
    await _post(client, "/api/v1/grafana", body)
    body["alerts"][0]["dashboardURL"] = "https://grafana.example/d/abc/memory"
    body["alerts"][0]["panelURL"] = "https://grafana.example/d/abc/memory?viewPanel=2"
    await _post(client, "/api/v1/grafana", body)
    links = ChangeCases(svc).alert_links(1)
    assert links["dashboard"] == "https://grafana.example/d/abc/memory"
    assert links["panel"].endswith("viewPanel=2")


@pytest.mark.parametrize(("change", "reason"), [
    (lambda b: b.update(version="4"), "payload version '4' is not supported; Grafana Alerting sends \"1\""),
    (lambda b: b.pop("version"), "version is missing"),
    (lambda b: b["alerts"][0].update(status="alerting"), "alerts[0].status must be firing or resolved"),
    (lambda b: b["alerts"][0].update(values={"B": {"nested": 1}}), "alerts[0].values.B must be a string"),
    (lambda b: b["alerts"][1].pop("fingerprint"), "alerts[1].fingerprint is missing"),
    (lambda b: b["alerts"][0].update(silenceURL=5), "alerts[0].silenceURL must be a string"),
])
async def test_bad_grafana_bodies_are_refused_with_the_field_at_fault(client, svc, change, reason) -> None:
    body = copy.deepcopy(DOCS)
    change(body)
    status, answer = await _post(client, "/api/v1/grafana", body)
    assert status == 422 and reason in answer["error"], answer
    assert incident_count(svc) == 0


async def test_a_grafana_alert_during_a_change_is_held(client, svc, tmp_path, clock) -> None:
    from datetime import timedelta

    from eim_tui.ingest.processor import AlertProcessor
    from eim_tui.ingest.routing import load_alert_routing

    from .conftest import rules_file

    rules = rules_file(tmp_path, """
        [[rule]]
        name = "payments-grafana"
        match = { team = "blue" }
        service = "payments"
        category = "software"
        subcategory = "application-error"
        group = "app-support"
        during_change = "hold"
        """)
    processor = AlertProcessor(svc, load_alert_routing(svc.ref, rules))
    server = TestClient(TestServer(IngestServer(processor, Settings()).app()))
    await server.start_server()
    try:
        changes = ChangeCases(svc)
        change = changes.create("alice", "Payments release 42", clock.now(), clock.now() + timedelta(hours=1),
                                "medium", ["payments"])
        changes.start("alice", change.number)
        status, _ = await _post(server, "/api/v1/grafana", DOCS)
        assert status == 200
        incident = svc.get(1)
        assert (incident.state.value, incident.hold_reason.value) == ("on_hold", "awaiting_change")
        assert incident.hold_note == "during CHG-000001"
    finally:
        await server.close()
