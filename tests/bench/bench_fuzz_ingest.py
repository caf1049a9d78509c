"""Fuzzing the receiver: how many hostile bodies each endpoint took, and how many crashed it; and
what schemathesis checked against a live `eim ingest` with its OpenAPI description.

Prints one JSON line per figure ({"metric", "value", "unit"}):
- fuzz_cases_<endpoint> / fuzz_crashes_<endpoint>: mutated and random bodies (tests/ingest/fuzz_bodies.py)
  sent to the endpoint on a temporary SQLite store (aiohttp's test server around the real
  processor); a crash is a 5xx, an exception, or a body not stored as processed or rejected;
- fuzz_chain_broken: 1 when the timeline's hash chain does not verify afterwards, else 0;
- schemathesis_operations / schemathesis_cases / schemathesis_failures: `st run` against a real
  `eim ingest` process (every check but positive_data_acceptance, bodies that fit and that break
  the schema), its JSON report read back.

Counts only, no timings. Run as `python -m tests.bench.bench_fuzz_ingest [--cases N] [--st-examples N]`.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import subprocess
import sys
import tempfile
from pathlib import Path

from tests.bench.bench_ingest import start_receiver

ROOT = Path(__file__).resolve().parents[2]


def emit(metric: str, value: float, unit: str) -> None:
    print(json.dumps({"metric": metric, "value": round(value, 2), "unit": unit}), flush=True)


def fuzz_endpoints(cases: int, workdir: Path) -> None:
    from aiohttp.test_utils import TestClient, TestServer

    from eim_tui.bootstrap import open_services
    from eim_tui.ingest.processor import AlertProcessor
    from eim_tui.ingest.routing import load_alert_routing
    from eim_tui.ingest.server import IngestServer, Settings
    from tests.ingest.fuzz_bodies import ENDPOINTS

    svc = open_services(f"sqlite:///{workdir}/fuzz.db")
    processor = AlertProcessor(svc, load_alert_routing(svc.ref))
    loop = asyncio.new_event_loop()
    client = TestClient(TestServer(IngestServer(processor, Settings(max_body=256 * 1024, recover_every=3600)).app()),
                        loop=loop)
    loop.run_until_complete(client.start_server())
    try:
        for source, path in ENDPOINTS.items():
            sent, crashes = _fuzz_one(client, loop, svc, source, path, cases)
            emit(f"fuzz_cases_{source}", sent, "cases")
            emit(f"fuzz_crashes_{source}", crashes, "cases")
        emit("fuzz_chain_broken", 0 if svc.verify_chain().intact else 1, "flag")
    finally:
        loop.run_until_complete(client.close())
        loop.close()
        svc.db.dispose()


def _fuzz_one(client, loop, svc, source: str, path: str, cases: int) -> tuple[int, int]:
    """`cases` bodies to one endpoint: how many were sent, and how many crashed it."""
    from hypothesis import HealthCheck, given, settings

    from eim_tui.store import inbound
    from tests.ingest.fuzz_bodies import CONTENT_TYPES, bodies

    sent, crashes = 0, 0

    @settings(max_examples=cases, deadline=None, database=None, suppress_health_check=list(HealthCheck))
    @given(body=bodies(source), content_type=CONTENT_TYPES)
    def one(body: bytes, content_type: str) -> None:
        nonlocal sent, crashes

        async def post() -> tuple[int, dict]:
            headers = {"Content-Type": content_type} if content_type else {}
            async with client.post(path, data=body, headers=headers) as response:
                return response.status, json.loads(await response.text())

        sent += 1
        try:
            status, answer = loop.run_until_complete(post())
            with svc.db.read() as session:
                kept = inbound.get_payload(session, answer.get("payload", 0))
            if status >= 500 or kept is None or kept.status not in ("processed", "rejected"):
                crashes += 1
        except Exception:  # noqa: BLE001 - counted: that is what this figure is for
            crashes += 1

    one()
    return sent, crashes


def schemathesis_run(examples: int, workdir: Path) -> None:
    token = "bench-token"
    proc, url = start_receiver(["ingest", "--listen", "127.0.0.1:0", "--token", token,
                                "--db", f"sqlite:///{workdir}/st.db"], workdir / "ingest.log")
    try:
        report = workdir / "st.json"
        st = Path(sys.executable).with_name("st")
        subprocess.run(
            [str(st), "run", f"{url}/openapi.yaml", "-H", f"Authorization: Bearer {token}",
             "--exclude-checks", "positive_data_acceptance", "--mode", "all", "--max-examples", str(examples),
             "--report", "json", "--report-json-path", str(report), "--no-color"],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=False, timeout=3600,
            cwd=workdir,  # st keeps a .schemathesis/ cache in its working directory
        )
        data = json.loads(report.read_text())
        emit("schemathesis_operations", data["operations"]["tested"], "operations")
        emit("schemathesis_cases", data["test_cases"]["generated"], "cases")
        emit("schemathesis_failures", data["test_cases"]["unique_failures"] + len(data["errors"]), "failures")
    finally:
        proc.terminate()
        proc.wait(30)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cases", type=int, default=300, help="fuzzed bodies per endpoint (default 300)")
    parser.add_argument("--st-examples", type=int, default=100, help="schemathesis examples per operation")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="eim-bench-fuzz-") as tmp:
        fuzz_endpoints(args.cases, Path(tmp))
        schemathesis_run(args.st_examples, Path(tmp))


if __name__ == "__main__":
    main()
