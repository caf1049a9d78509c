"""Fixtures for the ingest tests: a processor on the test store, and a way to send it a body."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest
from sqlalchemy import func, select

from eim_tui.ingest.processor import AlertProcessor
from eim_tui.ingest.routing import load_alert_routing
from eim_tui.services.alert_intake import Processed
from eim_tui.store import inbound
from eim_tui.store.tables import IncidentRow, TimelineRow


@pytest.fixture
def routing(svc):
    return load_alert_routing(svc.ref)


@pytest.fixture
def processor(svc, routing) -> AlertProcessor:
    return AlertProcessor(svc, routing)


def send(processor: AlertProcessor, source: str, body: bytes) -> Processed:
    """What the receiver does with a request's body: store it, then process it."""
    receipt = processor.accept(source, body, "application/json", "127.0.0.1")
    assert receipt.status == "pending", receipt.error
    return processor.process(receipt.payload_id, receipt.alerts)


def incident_count(svc) -> int:
    with svc.db.read() as session:
        return session.execute(select(func.count()).select_from(IncidentRow)).scalar_one()


def events(svc, number: int) -> list[tuple[str, str]]:
    return [(e.kind.value, e.summary) for e in svc.details(number).timeline]


def event_count(svc) -> int:
    with svc.db.read() as session:
        return session.execute(select(func.count()).select_from(TimelineRow)).scalar_one()


def stored_alert(svc, source: str, key: str):
    with svc.db.read() as session:
        return inbound.find_alert(session, source, key)


def payload(svc, payload_id: int):
    with svc.db.read() as session:
        return inbound.get_payload(session, payload_id)


def rules_file(tmp_path: Path, extra: str) -> Path:
    """The shipped defaults and severities, a default rule, and `extra` rules first."""
    path = tmp_path / "rules.toml"
    path.write_text(textwrap.dedent(extra) + textwrap.dedent("""
        [severity]
        critical = { impact = 1, urgency = 1 }
        other = { impact = 2, urgency = 2 }

        [default]
        category = "service_interruption"
        subcategory = "degraded"
        group = "service-desk"
        """))
    return path
