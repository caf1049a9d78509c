"""Property tests over every endpoint of the receiver: random and mutated bodies (fuzz_bodies.py).

For any body and content type: never a 5xx, the answer is one line of JSON of a documented status,
every body is stored exactly once as processed or rejected (counted in inbound_payload), what was
stored is what was sent, the receiver is alive afterwards and the timeline's chain verifies.

In-process (aiohttp's test server on the real store, both backends) for speed, and once against
a real `eim ingest` process. `EIM_FUZZ_EXAMPLES` raises the number of examples (the bench does).
"""

from __future__ import annotations

import asyncio
import json
import urllib.error
import urllib.request
from collections import Counter
from collections.abc import Callable
from pathlib import Path

import pytest
from aiohttp.test_utils import TestClient, TestServer
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select

from eim_tui.bootstrap import open_services
from eim_tui.ingest.server import IngestServer, Settings
from eim_tui.store.tables import InboundPayloadRow
from tests.fuzz_strategies import examples

from .conftest import payload
from .fuzz_bodies import CONTENT_TYPES, ENDPOINTS, bodies
from .live import LiveIngest, live_store

# Documented in docs/ingest.openapi.yaml for the webhooks (401 only with --token, not used here).
STATUSES = {200: {"processed"}, 202: {"stored", "failed"}, 400: {"rejected"}, 413: {"rejected"},
            415: {"rejected"}, 422: {"rejected"}}
MAX_BODY = 256 * 1024  # small enough that some fuzzed bodies (20,000-character strings repeated) are over it

FUZZ = settings(max_examples=examples(60), deadline=None, database=None, derandomize=False,
                suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow,
                                       HealthCheck.data_too_large, HealthCheck.large_base_example])


def stored_rows(svc) -> int:
    with svc.db.read() as session:
        return session.execute(select(func.count()).select_from(InboundPayloadRow)).scalar_one()


def check_answer(status: int, text: str, sent: bytes, content_type: str) -> dict:
    """What every answer must be, whatever was sent; the answer as a dict."""
    assert status < 500, f"{status} {text} for {sent[:300]!r} ({content_type})"
    assert "\n" not in text.strip(), text
    answer = json.loads(text)
    assert status in STATUSES and answer["status"] in STATUSES[status], (status, answer, sent[:300])
    if status >= 400:
        assert answer["error"] and "Traceback" not in answer["error"], answer
    assert isinstance(answer.get("payload"), int), answer  # the body was kept (the store is up)
    return answer


def check_stored(get_payload: Callable[[int], object], answer: dict, sent: bytes, status: int) -> None:
    kept = get_payload(answer["payload"])
    assert kept.status in ("processed", "rejected"), (kept.status, kept.error, sent[:300])
    assert (kept.status == "processed") == (status == 200), (status, kept.status)
    expected = sent[:MAX_BODY] if status == 413 else sent
    assert kept.body == expected.decode("utf-8", "replace").replace("\x00", "\ufffd")
    if kept.status == "rejected":
        assert kept.error == answer["error"]


@pytest.mark.parametrize("source", list(ENDPOINTS))
def test_no_body_becomes_a_5xx_or_is_lost(source: str, svc, processor) -> None:
    """In process: the aiohttp test server around the real processor and store."""
    loop = asyncio.new_event_loop()
    server = IngestServer(processor, Settings(max_body=MAX_BODY, recover_every=3600))
    client = TestClient(TestServer(server.app()), loop=loop)
    loop.run_until_complete(client.start_server())
    answered: Counter[int] = Counter()

    @FUZZ
    @given(body=bodies(source), content_type=CONTENT_TYPES)
    def one(body: bytes, content_type: str) -> None:
        before = stored_rows(svc)

        async def post() -> tuple[int, str]:
            headers = {"Content-Type": content_type} if content_type else {}
            async with client.post(ENDPOINTS[source], data=body, headers=headers) as response:
                return response.status, await response.text()

        status, text = loop.run_until_complete(post())
        answered[status] += 1
        answer = check_answer(status, text, body, content_type)
        assert stored_rows(svc) == before + 1  # exactly one row per body, whatever became of it
        check_stored(lambda n: payload(svc, n), answer, body, status)

    try:
        one()
        health = loop.run_until_complete(client.get("/healthz"))
        assert health.status == 200
    finally:
        loop.run_until_complete(client.close())
        loop.close()
    print(f"{source}: {dict(sorted(answered.items()))}")
    assert stored_rows(svc) == sum(answered.values())
    # The bodies reached both sides: some made or changed incidents, some were refused.
    assert answered[200] > 0 and sum(n for s, n in answered.items() if s >= 400) > 0, answered
    assert svc.verify_chain().intact


@pytest.mark.e2e
@pytest.mark.parametrize("backend", ["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def test_a_real_receiver_survives_the_fuzz(backend: str, tmp_path: Path, request: pytest.FixtureRequest) -> None:
    """The same bodies, to every endpoint, over real HTTP to a real `eim ingest` process."""
    with live_store(backend, tmp_path, request) as db_url:
        ingest = LiveIngest(db_url, tmp_path / "ingest.log", max_body=str(MAX_BODY))
        svc = open_services(db_url)
        sent_count = 0
        try:
            @FUZZ
            @given(data=st.data())
            def one(data: st.DataObject) -> None:
                nonlocal sent_count
                source = data.draw(st.sampled_from(list(ENDPOINTS)))
                body = data.draw(bodies(source))
                content_type = data.draw(CONTENT_TYPES)
                headers = {"Content-Type": content_type} if content_type else {}
                req = urllib.request.Request(f"{ingest.url}{ENDPOINTS[source]}", data=body, headers=headers)
                try:
                    with urllib.request.urlopen(req, timeout=60) as response:
                        status, text = response.status, response.read().decode()
                except urllib.error.HTTPError as exc:
                    status, text = exc.code, exc.read().decode()
                sent_count += 1
                answer = check_answer(status, text, body, content_type)
                check_stored(lambda n: payload(svc, n), answer, body, status)

            one()
            assert ingest.alive()
            assert stored_rows(svc) == sent_count
            assert svc.verify_chain().intact
        finally:
            svc.db.dispose()
            status = ingest.stop()
        assert status == 0 and "Traceback" not in ingest.stderr(), ingest.stderr()
