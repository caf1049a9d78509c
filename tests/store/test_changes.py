"""Change records on SQLite and PostgreSQL: their life, their hash chain, caused-by links, recent
changes on an incident, the change failure rate, and what an alert during a change does."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
from sqlalchemy import update

from eim_tui.domain.changes import ChangeState, Relation, is_recent
from eim_tui.domain.errors import (
    ConflictError,
    NotFoundError,
    PermissionDenied,
    ValidationError,
)
from eim_tui.domain.model import HoldReason, State
from eim_tui.ingest.processor import AlertProcessor
from eim_tui.ingest.routing import load_alert_routing
from eim_tui.services.changes import ChangeCases
from eim_tui.store.tables import ChangeEventRow

from .conftest import report

HOUR = timedelta(hours=1)


@pytest.fixture
def changes(svc) -> ChangeCases:
    return ChangeCases(svc)


def _plan(changes: ChangeCases, clock, title: str = "Patch payments DB", services=("payments",), cis=(), **kw):
    now = clock.now()
    return changes.create("alice", title, now + kw.pop("start", timedelta()), now + kw.pop("end", 2 * HOUR),
                          kw.pop("risk", "medium"), services, cis, **kw)


def test_a_change_goes_through_its_life_with_a_verified_timeline(changes, clock) -> None:
    change = _plan(changes, clock, cis=("db01.pay.internal",), owner="bob", description="minor version")
    assert change.key == "CHG-000001" and change.state is ChangeState.PLANNED and change.owner == "bob"
    clock.advance(timedelta(minutes=5))
    started = changes.start("bob", change.number)
    assert started.state is ChangeState.IN_PROGRESS and started.started_at == clock.now() and started.version == 2
    with pytest.raises(ValidationError, match="cannot start CHG-000001: it is in progress; allowed: complete, fail"):
        changes.start("bob", change.number)
    with pytest.raises(ValidationError, match="say why"):
        changes.fail("bob", change.number, "  ")
    with pytest.raises(ConflictError):
        changes.complete("bob", change.number, expected_version=1)
    clock.advance(HOUR)
    done = changes.complete("bob", change.number, "went fine")
    assert done.state is ChangeState.COMPLETED and done.outcome == "went fine"
    stored = changes.get(change.number)
    assert stored == done
    assert (stored.services, stored.cis) == (("payments",), ("db01.pay.internal",))
    details = changes.details(change.number)
    assert [e.summary for e in details.events] == [
        "planned CHG-000001: Patch payments DB (medium risk)",
        "state planned → in progress",
        "state in progress → completed — went fine",
    ]
    assert changes.verify().intact and changes.verify().events == 3


def test_tampering_with_a_change_event_is_found(svc, changes, clock) -> None:
    change = _plan(changes, clock)
    changes.start("alice", change.number)
    with svc.db.write() as session:
        session.execute(update(ChangeEventRow).where(ChangeEventRow.seq == 1).values(summary="planned nothing"))
    found = changes.verify()
    assert not found.intact and found.broken_at == 1 and "altered" in found.reason


def test_bad_input_is_refused_with_what_to_do(changes, clock) -> None:
    with pytest.raises(ValidationError, match=r"the window ends .* before it starts"):
        _plan(changes, clock, start=HOUR, end=timedelta(minutes=30))
    with pytest.raises(ValidationError, match="did you mean 'payments'"):
        _plan(changes, clock, services=("paymnts",))
    with pytest.raises(ValidationError, match="unknown configuration item"):
        _plan(changes, clock, cis=("no-such-host",))
    with pytest.raises(ValidationError, match="--service NAME and/or --ci NAME"):
        _plan(changes, clock, services=())
    with pytest.raises(ValidationError, match="unknown risk"):
        _plan(changes, clock, risk="extreme")
    with pytest.raises(NotFoundError, match="no change CHG-000042"):
        changes.start("alice", 42)
    assert changes.list() == []


def test_a_viewer_cannot_record_or_start_a_change(svc, changes, clock) -> None:
    change = _plan(changes, clock)
    svc.access.add_user("admin", "vera", "viewer")
    with pytest.raises(PermissionDenied):
        changes.create("vera", "Sneaky change", clock.now(), clock.now() + HOUR, "low", ("payments",))
    with pytest.raises(PermissionDenied):
        changes.start("vera", change.number)
    assert changes.get(change.number).state is ChangeState.PLANNED


def test_caused_by_links_an_incident_on_both_timelines(svc, changes, clock) -> None:
    change = _plan(changes, clock)
    incident = svc.log_incident(report(service="payments"), "alice")
    linked = changes.link_caused_by("bob", incident.number, change.number)
    assert linked.change_ref == "CHG-000001" and linked.version == 2
    assert any(e.summary == "change ref — → CHG-000001" for e in svc.details(incident.number).timeline)
    assert [(link.change.key, link.relation) for link in changes.links_of(incident.number)] == [
        ("CHG-000001", Relation.CAUSED_BY)]
    assert changes.details(change.number).incidents == [(incident.number, Relation.CAUSED_BY)]
    with pytest.raises(ValidationError, match="already linked as caused by CHG-000001"):
        changes.link_caused_by("bob", incident.number, change.number)
    assert svc.get(incident.number).version == 2  # the refused second link wrote nothing
    assert svc.verify_chain().intact and changes.verify().intact


def test_recent_changes_are_those_of_the_last_day_on_the_service_or_ci(svc, changes, clock) -> None:
    now = clock.now()
    old = _plan(changes, clock, "Old patch", start=-3 * 24 * HOUR, end=-3 * 24 * HOUR + HOUR)
    yesterday = _plan(changes, clock, "Yesterday's patch", start=-20 * HOUR, end=-19 * HOUR)
    running = _plan(changes, clock, "Running now", services=(), cis=("db01.pay.internal",), start=-30 * HOUR,
                    end=-29 * HOUR)
    changes.start("alice", running.number)  # started late: it runs now, past its planned window
    future = _plan(changes, clock, "Tomorrow", start=20 * HOUR, end=21 * HOUR)
    cancelled = _plan(changes, clock, "Called off", start=-HOUR, end=HOUR)
    changes.cancel("alice", cancelled.number, "not needed")
    other = _plan(changes, clock, "E-mail patch", services=("email",), start=-HOUR, end=HOUR)
    found = changes.recent_on("payments", "db01.pay.internal")
    assert [c.title for c in found] == ["Running now", "Yesterday's patch"]
    assert [c.title for c in changes.recent_on("payments", "")] == ["Yesterday's patch"]
    assert changes.recent_on("", "") == []
    every = [old, yesterday, changes.get(running.number), future, changes.get(cancelled.number), other]
    assert {c.title for c in every if is_recent(c, now) and c.touches("payments", "db01.pay.internal")} == {
        c.title for c in found}


def test_the_change_failure_rate_per_service(svc, changes, clock) -> None:
    keys = []
    for n in range(4):
        change = _plan(changes, clock, f"Payments release {n}", services=("payments", "checkout-web") if n == 0
                       else ("payments",))
        changes.start("alice", change.number)
        if n == 3:
            changes.fail("alice", change.number, "rolled back")
        else:
            changes.complete("alice", change.number)
        keys.append(change.number)
    incident = svc.log_incident(report(service="payments"), "alice")
    changes.link_caused_by("alice", incident.number, keys[0])
    rates = {r.service: r for r in changes.report()}
    assert (rates["payments"].completed, rates["payments"].caused_incidents, rates["payments"].failed) == (3, 1, 1)
    assert rates["payments"].rate == pytest.approx(1 / 3) and rates["payments"].changes == ["CHG-000001"]
    assert (rates["checkout-web"].completed, rates["checkout-web"].rate) == (1, 1.0)


def _alert(instance: str, name: str = "PostgresDown") -> bytes:
    return json.dumps({
        "version": "4", "groupKey": f"{{}}:{{alertname=\"{name}\"}}", "status": "firing", "receiver": "eim",
        "alerts": [{"status": "firing", "labels": {"alertname": name, "instance": instance, "severity": "critical"},
                    "annotations": {"summary": f"{name} on {instance}"}, "startsAt": "2026-11-26T08:59:00Z",
                    "endsAt": "0001-01-01T00:00:00Z", "fingerprint": f"fp-{name}-{instance}"}],
    }).encode()


def _send(processor: AlertProcessor, body: bytes) -> int:
    receipt = processor.accept("alertmanager", body, "application/json")
    assert receipt.status == "pending", receipt.error
    return processor.process(receipt.payload_id, receipt.alerts).incidents[0]


def test_an_alert_during_a_change_with_a_hold_rule_opens_on_hold(svc, changes, clock) -> None:
    processor = AlertProcessor(svc, load_alert_routing(svc.ref))
    change = _plan(changes, clock, services=(), cis=("db01.pay.internal",))
    before = _send(processor, _alert("db01.pay.internal:9187", "Before"))
    assert svc.get(before).state is State.NEW  # planned, not started: no window yet
    changes.start("alice", change.number)
    number = _send(processor, _alert("db01.pay.internal:9187"))
    incident = svc.get(number)
    assert incident.state is State.ON_HOLD and incident.hold_reason is HoldReason.AWAITING_CHANGE
    assert incident.hold_note == "during CHG-000001" and incident.paused_since == clock.now()
    assert "During CHG-000001 (in progress): Patch payments DB" in incident.description
    summaries = [e.summary for e in svc.details(number).timeline]
    assert any(s.startswith("during CHG-000001 (in progress): put on hold awaiting change") for s in summaries)
    assert [(link.change.key, link.relation) for link in changes.links_of(number)] == [("CHG-000001", Relation.DURING)]
    assert "opened during the change" in changes.details(change.number).events[-1].summary
    clock.advance(HOUR)
    assert svc.details(number).response.state.value == "paused"  # the SLA does not run
    changes.complete("alice", change.number)
    after = _send(processor, _alert("db01.pay.internal:9187", "After"))
    assert svc.get(after).state is State.NEW
    assert svc.verify_chain().intact and changes.verify().intact


def test_an_alert_during_a_change_without_a_hold_rule_only_says_so(svc, changes, clock) -> None:
    processor = AlertProcessor(svc, load_alert_routing(svc.ref))
    change = _plan(changes, clock, services=("vpn",))
    changes.start("alice", change.number)
    number = _send(processor, _alert("vpn-gw-01", "VpnTunnelDown"))
    incident = svc.get(number)
    assert incident.service == "vpn" and incident.state is State.NEW
    assert any("during CHG-000001 (in progress): not held" in e.summary for e in svc.details(number).timeline)
    assert changes.links_of(number)[0].relation is Relation.DURING
