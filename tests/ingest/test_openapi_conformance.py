"""schemathesis against a live `eim ingest`: every operation of its OpenAPI description
(docs/ingest.openapi.yaml, served at GET /openapi.yaml), with bodies that fit the schema and bodies
that break it. No 5xx, no crash, every answer of a documented status with a body of the documented
shape, bodies that break the schema refused with a 4xx, the token enforced — on both backends.

`EIM_FUZZ_EXAMPLES` raises the number of cases per operation (the bench does).
"""

from __future__ import annotations

import socket
import urllib.request
from pathlib import Path

import pytest
import schemathesis
from schemathesis.config import SchemathesisConfig

from eim_tui.ingest import server as ingest_server
from tests.fuzz_strategies import examples

from .live import LiveIngest, live_store, payload_counts, wait_until

pytestmark = pytest.mark.e2e

TOKEN = "conformance-token"
ROOT = Path(__file__).resolve().parents[2]
SHIPPED = ROOT / "eim_tui" / "ingest" / ingest_server.OPENAPI

# Every built-in check, but positive_data_acceptance: a body can fit the schema and still be
# refused with a 422 by what the store knows — an unknown service or assignment group, an
# impossible date like 2026-02-30 — which no schema can say.
CONFIG = f"""
headers = {{ Authorization = "Bearer {TOKEN}" }}

[generation]
max-examples = {examples(40)}
mode = "all"

[checks]
positive_data_acceptance.enabled = false
"""


@pytest.fixture(scope="module", params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def live(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory):
    tmp = tmp_path_factory.mktemp(f"conformance-{request.param}")
    with live_store(request.param, tmp, request) as db_url:
        ingest = LiveIngest(db_url, tmp / "ingest.log", token=TOKEN)
        try:
            yield ingest, db_url
            alive = ingest.alive()
        finally:
            status = ingest.stop()
            log = ingest.stderr()
        counts = payload_counts(db_url)
    # The receiver ran the whole time and stopped cleanly, and it logged no traceback: an adapter
    # that raised something unexpected is logged in full even though the sender got a 4xx.
    assert alive and status == 0, log
    assert "Traceback" not in log, log
    # Whatever schemathesis sent with the token was stored as processed or rejected: nothing left
    # pending, nothing failed.
    assert set(counts) <= {"processed", "rejected"}, counts


@pytest.fixture(scope="module")
def live_schema(live):
    ingest, _ = live
    return schemathesis.openapi.from_url(f"{ingest.url}/openapi.yaml", config=SchemathesisConfig.from_str(CONFIG))


schema = schemathesis.pytest.from_fixture("live_schema")


@schema.parametrize()
def test_the_receiver_keeps_to_its_description(case, live) -> None:
    ingest, _ = live
    case.call_and_validate()
    assert ingest.proc.poll() is None, ingest.stderr()


def test_the_served_description_is_the_documented_one() -> None:
    assert (ROOT / "docs" / "ingest.openapi.yaml").read_bytes() == SHIPPED.read_bytes(), (
        "docs/ingest.openapi.yaml and eim_tui/ingest/openapi.yaml differ: copy one onto the other")


def test_the_receiver_serves_its_description(live) -> None:
    ingest, _ = live
    with urllib.request.urlopen(f"{ingest.url}/openapi.yaml", timeout=30) as answer:
        assert answer.headers.get_content_type() == "application/yaml"
        assert answer.read() == SHIPPED.read_bytes()


def test_a_malformed_http_request_is_a_400_and_one_log_line(live) -> None:
    """aiohttp answers it before eim sees it; it used to log a traceback (the fixture checks none)."""
    ingest, _ = live
    host, port = ingest.url.removeprefix("http://").rsplit(":", 1)
    with socket.create_connection((host, int(port)), timeout=30) as conn:
        conn.sendall(b"POST /api/v1/events HTTP/1.1\r\nHost: x\r\nX-Probe: \x00\r\nContent-Length: 2\r\n\r\n{}")
        assert conn.recv(100).split(b"\r\n")[0].split(b" ")[1] == b"400"
    wait_until("the refusal is logged", lambda: "refused a malformed HTTP request (400)" in ingest.stderr())
