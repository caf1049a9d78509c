"""The receiver over HTTP (aiohttp's test server, a real store): answers, refusals, auth, recovery."""

from __future__ import annotations

import asyncio
import json

import pytest
from aiohttp.test_utils import TestClient, TestServer
from sqlalchemy.exc import OperationalError

from eim_tui.ingest.server import IngestServer, Settings

from .conftest import incident_count, payload
from .samples import am_alert, am_payload, generic_event, pd_event, raw

JSON = {"Content-Type": "application/json"}


async def _client(processor, **settings) -> TestClient:
    client = TestClient(TestServer(IngestServer(processor, Settings(**settings)).app()))
    await client.start_server()
    return client


@pytest.fixture
async def client(processor):
    client = await _client(processor)
    yield client
    await client.close()


async def _post(client: TestClient, path: str, body: bytes, headers=JSON):
    response = await client.post(path, data=body, headers=headers)
    text = await response.text()
    assert "\n" not in text.strip()  # one line, whatever happened
    return response.status, json.loads(text)


async def test_alertmanager_firing_then_resolved(client, svc) -> None:
    status, answer = await _post(client, "/api/v1/alertmanager", raw("alertmanager_firing.json"))
    assert (status, answer["status"], answer["incidents"], answer["alerts"]) == (200, "processed", ["INC-000001"], 1)
    status, answer = await _post(client, "/api/v1/alertmanager", raw("alertmanager_firing.json"))
    assert (status, answer["incidents"]) == (200, ["INC-000001"])
    status, answer = await _post(client, "/api/v1/alertmanager", raw("alertmanager_resolved.json"))
    assert status == 200
    incident = svc.get(1)
    assert (incident.alert_count, incident.alerts_resolved) == (2, True)
    assert incident_count(svc) == 1


async def test_pagerduty_answers_like_pagerduty(client, svc) -> None:
    status, answer = await _post(client, "/api/v1/pagerduty", pd_event(dedup_key=None))
    assert status == 200 and answer["message"] == "Event processed" and len(answer["dedup_key"]) == 32
    status, answer = await _post(client, "/api/v1/pagerduty", pd_event("resolve", answer["dedup_key"]))
    assert (status, answer["incidents"]) == (200, ["INC-000001"]) and svc.get(1).alerts_resolved


async def test_generic_events(client, svc) -> None:
    status, answer = await _post(client, "/api/v1/events", generic_event(service="checkout-web", severity="critical"))
    assert (status, answer["incidents"]) == (200, ["INC-000001"])
    assert svc.get(1).service == "checkout-web"


@pytest.mark.parametrize(
    ("path", "body", "headers", "status", "reason"),
    [
        ("/api/v1/alertmanager", b"{not json", JSON, 400, "the body is not JSON"),
        ("/api/v1/alertmanager", b"", JSON, 400, "the body is empty"),
        ("/api/v1/alertmanager", b'{"version": "4", "alerts": "x"}', JSON, 422, "alerts must be a list"),
        ("/api/v1/alertmanager", am_payload({**am_alert(), "fingerprint": ""}), JSON, 422, "alerts[0].fingerprint is empty"),
        ("/api/v1/alertmanager", raw("alertmanager_firing.json"), {"Content-Type": "text/plain"}, 415,
         "content type 'text/plain' is not JSON"),
        ("/api/v1/alertmanager", raw("alertmanager_firing.json"), {"Content-Type": "application/x-www-form-urlencoded"},
         415, "is not JSON"),
        ("/api/v1/pagerduty", pd_event("resolve", None), JSON, 422, "dedup_key is missing"),
        ("/api/v1/events", generic_event(service="nowhere"), JSON, 422, "unknown service 'nowhere'"),
        ("/api/v1/events", generic_event(assignment_group="ghosts"), JSON, 422, "unknown assignment_group 'ghosts'"),
        # Nested 5,000 deep: was a 503 (RecursionError taken for a store failure), which senders retry for ever.
        pytest.param("/api/v1/alertmanager", b"[" * 5000 + b"]" * 5000, JSON, 400, "the body nests too deeply to read",
                     id="alertmanager-nested-5000"),
        pytest.param("/api/v1/events", b'{"a": ' * 5000 + b"1" + b"}" * 5000, JSON, 400,
                     "the body nests too deeply to read", id="events-nested-5000"),
        pytest.param("/api/v1/pagerduty", b"[" * 100_000 + b"]" * 100_000, JSON, 400,
                     "the body nests too deeply to read", id="pagerduty-nested-100000"),
        # A time past year 9999 once in UTC: OverflowError, taken for a store failure (503).
        pytest.param("/api/v1/events", generic_event(started_at="9999-12-31T23:59:59-23:59"), JSON, 422,
                     "is not a real date and time", id="events-time-overflow"),
    ],
)
async def test_bad_requests_get_a_4xx_and_the_body_is_kept(client, svc, path, body, headers, status, reason) -> None:
    got, answer = await _post(client, path, body, headers)
    assert got == status and answer["status"] == "rejected" and reason in answer["error"]
    kept = payload(svc, answer["payload"])
    assert (kept.status, kept.body, kept.error) == ("rejected", body.decode(), answer["error"])
    assert incident_count(svc) == 0


async def test_a_body_over_the_limit_is_refused_and_its_start_kept(processor, svc) -> None:
    client = await _client(processor, max_body=1024)
    try:
        body = am_payload(*[am_alert(fingerprint=f"f{i}", instance=f"h{i}:1") for i in range(20)])
        assert len(body) > 1024
        status, answer = await _post(client, "/api/v1/alertmanager", body)
    finally:
        await client.close()
    assert status == 413 and "over the 1024 byte limit" in answer["error"]
    assert payload(svc, answer["payload"]).body == body[:1024].decode()


async def test_a_bearer_token_is_required_when_set(processor, svc) -> None:
    client = await _client(processor, token="s3cret")
    try:
        body = raw("alertmanager_firing.json")
        status, answer = await _post(client, "/api/v1/alertmanager", body)
        assert status == 401 and "Authorization: Bearer" in answer["error"]
        status, _ = await _post(client, "/api/v1/alertmanager", body, {**JSON, "Authorization": "Bearer wrong"})
        assert status == 401
        assert incident_count(svc) == 0
        status, answer = await _post(client, "/api/v1/alertmanager", body, {**JSON, "Authorization": "Bearer s3cret"})
        assert (status, answer["incidents"]) == (200, ["INC-000001"])
        health = await client.get("/healthz")  # health is for load balancers: no token
        assert health.status == 200
    finally:
        await client.close()
    # Unauthenticated bodies are not stored: anyone could fill the store otherwise.
    assert payload(svc, 1).status == "processed" and payload(svc, 2) is None


async def test_5xx_only_when_the_body_could_not_be_stored(client, processor, monkeypatch) -> None:
    def broken_store(*args, **kwargs):
        raise OperationalError("INSERT", {}, Exception("disk I/O error"))

    monkeypatch.setattr(processor.intake, "store_bodies", broken_store)
    status, answer = await _post(client, "/api/v1/alertmanager", raw("alertmanager_firing.json"))
    assert status == 503 and "could not be stored" in answer["error"]
    status, _ = await _post(client, "/api/v1/alertmanager", b"junk")
    assert status == 400  # a bad request stays a bad request, stored or not


async def test_stored_but_not_processed_is_accepted_and_processed_later(client, processor, svc, monkeypatch) -> None:
    def busy(work):  # the batch could not be processed (its transaction undone): every payload says why
        return [OperationalError("UPDATE", {}, Exception("database is locked"))] * len(work)

    monkeypatch.setattr(processor, "process_batch", busy)
    status, answer = await _post(client, "/api/v1/alertmanager", raw("alertmanager_firing.json"))
    assert (status, answer["status"]) == (202, "stored")
    assert payload(svc, answer["payload"]).status == "pending"
    monkeypatch.undo()
    assert processor.recover() == 1 and svc.get(1).alert_count == 1


async def test_on_start_up_pending_payloads_are_processed(processor, svc) -> None:
    receipt = processor.accept("alertmanager", raw("alertmanager_firing.json"))  # stored, then a crash
    client = await _client(processor)
    try:
        for _ in range(200):  # a deadline, not a timing assertion
            if payload(svc, receipt.payload_id).status == "processed":
                break
            await asyncio.sleep(0.05)
        health = await (await client.get("/healthz")).json()
    finally:
        await client.close()
    assert payload(svc, receipt.payload_id).status == "processed" and svc.get(1).alert_count == 1
    assert health == {"status": "ok", "payloads": {"processed": 1}}


async def test_only_post_reaches_the_webhooks(client) -> None:
    assert (await client.get("/api/v1/alertmanager")).status == 405
    assert (await client.post("/api/v1/nothing", data=b"{}", headers=JSON)).status == 404
