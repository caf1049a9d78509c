"""Alerts against a real store (SQLite and PostgreSQL): incidents, dedup, resolution, refiring,
crash recovery and receivers racing each other."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import update

from eim_tui.domain.alerts import AlertStatus
from eim_tui.domain.model import EventKind, Source, State
from eim_tui.ingest.processor import AlertProcessor
from eim_tui.ingest.routing import load_alert_routing
from eim_tui.store import timeline
from eim_tui.domain.queue import View
from eim_tui.domain.filters import Filter
from eim_tui.store.tables import InboundPayloadRow
from eim_tui.tui.render.queue_columns import row_cells

from .conftest import event_count, events, incident_count, payload, rules_file, send, stored_alert
from .samples import am_alert, am_payload, generic_event, pd_event, raw


def test_a_real_alertmanager_alert_becomes_a_routed_incident(svc, processor, clock) -> None:
    done = send(processor, "alertmanager", raw("alertmanager_firing.json"))
    assert (done.status, done.incidents, done.outcomes) == ("processed", [1], ["open"])
    incident = svc.get(1)
    assert incident.title == "DiskFull on db01:9100"
    assert (incident.source, incident.category, incident.subcategory, incident.assignment_group) == (
        Source.MONITORING, "hardware", "storage", "platform")
    assert (incident.impact, incident.urgency, incident.priority) == (1, 1, 1)  # severity=critical
    assert incident.configuration_item == "db01"
    assert (incident.alert_count, incident.last_alert_at, incident.alerts_resolved) == (1, clock.now(), False)
    assert incident.detected_at == clock.now()  # startsAt is later than the test clock: not in the future
    assert "Disk almost full on db01" in incident.description
    assert [k for k, _ in events(svc, 1)] == ["created", "alert_received"]
    alert = stored_alert(svc, "alertmanager", "9292d367436bf9e6")
    assert (alert.incident_number, alert.status, alert.count, alert.payload_id) == (1, AlertStatus.FIRING, 1, done.payload_id)
    assert payload(svc, done.payload_id).status == "processed"


def test_repeated_firing_updates_the_same_incident(svc, processor, clock) -> None:
    for _ in range(3):
        send(processor, "alertmanager", raw("alertmanager_firing.json"))
        clock.advance(timedelta(minutes=1))
    assert incident_count(svc) == 1
    incident = svc.get(1)
    assert (incident.alert_count, incident.last_alert_at, incident.version) == (3, clock.now() - timedelta(minutes=1), 3)
    kinds = [k for k, _ in events(svc, 1)]
    assert kinds == ["created", "alert_received", "alert_received", "alert_received"]  # no "alert count 1 → 2" lines
    assert "(received 3×)" in events(svc, 1)[-1][1]
    assert stored_alert(svc, "alertmanager", "9292d367436bf9e6").count == 3


def test_a_resolved_alert_is_recorded_and_a_person_verifies(svc, processor, clock) -> None:
    send(processor, "alertmanager", raw("alertmanager_firing.json"))
    clock.advance(timedelta(minutes=4))
    send(processor, "alertmanager", raw("alertmanager_resolved.json"))
    incident = svc.get(1)
    assert (incident.alerts_resolved, incident.state) == (True, State.NEW)  # not resolved for us
    kind, summary = events(svc, 1)[-1]
    assert kind == EventKind.ALERT_RESOLVED.value
    assert "resolved at 21:57:01 UTC; all alerts resolved" in summary
    assert stored_alert(svc, "alertmanager", "9292d367436bf9e6").status is AlertStatus.RESOLVED
    before = event_count(svc)
    assert send(processor, "alertmanager", raw("alertmanager_resolved.json")).outcomes == ["skip"]
    assert event_count(svc) == before


def test_a_group_is_one_incident_resolved_when_all_its_alerts_are(svc, processor) -> None:
    key = '{}:{alertname="DiskFull"}'
    a, b = am_alert(instance="web01:9100", fingerprint="a1"), am_alert(instance="web02:9100", fingerprint="b2")
    send(processor, "alertmanager", am_payload(a, b, group_key=key))
    assert incident_count(svc) == 1 and svc.get(1).alert_count == 2
    send(processor, "alertmanager", am_payload(am_alert(instance="web01:9100", fingerprint="a1", status="resolved"), b,
                                               group_key=key))
    incident = svc.get(1)
    assert (incident.alerts_resolved, incident.alert_count) == (False, 3)
    assert "1 still firing" in [s for k, s in events(svc, 1) if k == "alert_resolved"][-1]
    send(processor, "alertmanager", am_payload(am_alert(instance="web02:9100", fingerprint="b2", status="resolved"),
                                               group_key=key))
    assert svc.get(1).alerts_resolved is True


def test_a_repeated_group_notification_is_one_change_of_its_incident(svc, processor) -> None:
    group = [am_alert(instance=f"web0{i}:9100", fingerprint=f"w{i}") for i in range(3)]
    first = send(processor, "alertmanager", am_payload(*group, group_key="g"))
    assert first.outcomes == ["open", "join", "join"] and svc.get(1).version == 2  # created, then the others
    before = event_count(svc)
    again = send(processor, "alertmanager", am_payload(*group, group_key="g"))
    assert again.outcomes == ["update", "update", "update"] and again.incidents == [1]
    incident = svc.get(1)
    assert (incident.version, incident.alert_count) == (3, 6)
    assert event_count(svc) == before + 3  # still one line per alert
    assert payload(svc, again.payload_id).status == "processed"


def _refire(processor, svc, clock, starts: str = "2026-11-26T10:30:00Z"):
    send(processor, "alertmanager", am_payload(am_alert(fingerprint="fp")))
    send(processor, "alertmanager", am_payload(am_alert(fingerprint="fp", status="resolved")))
    svc.acknowledge(1, "alice")
    svc.resolve(1, "alice", "fixed", "cleaned up /var/log")
    clock.advance(timedelta(hours=1))
    return send(processor, "alertmanager", am_payload(am_alert(fingerprint="fp", starts=starts)))


def test_an_alert_firing_again_after_resolution_reopens_its_incident(svc, processor, clock) -> None:
    done = _refire(processor, svc, clock)
    assert done.outcomes == ["reopen"] and incident_count(svc) == 1
    incident = svc.get(1)
    assert (incident.state, incident.resolved_at, incident.alerts_resolved, incident.alert_count) == (
        State.IN_PROGRESS, None, False, 2)
    assert any(k == "state_changed" and "resolved → in progress" in s and "the alert fired again" in s
               for k, s in events(svc, 1))


def test_refiring_opens_a_linked_incident_where_configured(svc, clock, tmp_path) -> None:
    rules = rules_file(tmp_path, '[defaults]\non_refire = "new"\n')
    processor = AlertProcessor(svc, load_alert_routing(svc.ref, rules))
    done = _refire(processor, svc, clock)
    assert done.outcomes == ["open_linked"] and done.incidents == [2]
    assert svc.get(1).state is State.RESOLVED
    child = svc.get(2)
    assert (child.parent_number, child.alert_count, child.state) == (1, 1, State.NEW)
    assert stored_alert(svc, "alertmanager", "fp").incident_number == 2


def test_refiring_after_closure_opens_a_linked_incident(svc, processor, clock) -> None:
    send(processor, "alertmanager", am_payload(am_alert(fingerprint="fp")))
    send(processor, "alertmanager", am_payload(am_alert(fingerprint="fp", status="resolved")))
    svc.acknowledge(1, "alice")
    svc.resolve(1, "alice", "fixed", "done")
    svc.close(1, "alice")
    done = send(processor, "alertmanager", am_payload(am_alert(fingerprint="fp", starts="2026-11-27T08:00:00Z")))
    assert done.outcomes == ["open_linked"] and svc.get(2).parent_number == 1


def test_auto_resolve_only_where_the_rule_says(svc, processor) -> None:
    send(processor, "alertmanager", am_payload(am_alert(name="Watchdog", instance="prom-01:9093", fingerprint="w", severity="none")))
    send(processor, "alertmanager", am_payload(am_alert(name="Watchdog", instance="prom-01:9093", fingerprint="w",
                                                        severity="none", status="resolved")))
    incident = svc.get(1)
    assert (incident.state, incident.resolution_code, incident.alerts_resolved) == (State.RESOLVED, "no_fault_found", True)


def test_pagerduty_trigger_acknowledge_and_resolve(svc, processor) -> None:
    assert send(processor, "pagerduty", raw("pagerduty_trigger.json")).outcomes == ["open"]
    assert svc.get(1).title == "DISK at 99% on machine prod-datapipe03.example.com"
    assert send(processor, "pagerduty", pd_event("acknowledge")).outcomes == ["note"]
    assert svc.get(1).state is State.NEW  # acknowledged in PagerDuty: recorded, not taken
    assert "acknowledged there" in events(svc, 1)[-1][1]
    assert send(processor, "pagerduty", pd_event("resolve")).outcomes == ["resolve"]
    assert svc.get(1).alerts_resolved is True
    assert send(processor, "pagerduty", pd_event("resolve", "never-seen")).outcomes == ["open"]  # heard of once resolved
    assert send(processor, "pagerduty", pd_event("acknowledge", "also-unknown")).outcomes == ["skip"]


def test_a_generic_event_uses_its_own_fields(svc, processor) -> None:
    body = generic_event(dedup_key="chk-1", severity="critical", service="checkout-web", sender="synthetics",
                         reporter={"name": "Synthetic checks", "contact": "web-oncall@example.com"})
    send(processor, "generic", body)
    incident = svc.get(1)
    assert (incident.title, incident.service, incident.priority, incident.reporter_name, incident.reporter_contact) == (
        "Checkout latency above 2s", "checkout-web", 1, "Synthetic checks", "web-oncall@example.com")
    send(processor, "generic", generic_event(dedup_key="chk-1", status="resolved"))
    assert svc.get(1).alerts_resolved is True


def test_a_crash_between_storing_and_processing_loses_nothing(svc, routing, db_url, clock) -> None:
    from eim_tui.bootstrap import open_services

    first = AlertProcessor(svc, routing)
    receipt = first.accept("alertmanager", raw("alertmanager_firing.json"))  # stored; then the process dies
    assert payload(svc, receipt.payload_id).status == "pending" and incident_count(svc) == 0
    restarted = open_services(db_url, clock)
    try:
        assert AlertProcessor(restarted, load_alert_routing(restarted.ref)).recover() == 1
    finally:
        restarted.db.dispose()
    assert payload(svc, receipt.payload_id).status == "processed"
    assert incident_count(svc) == 1 and svc.get(1).alert_count == 1


def test_processing_the_same_payload_twice_is_harmless(svc, processor) -> None:
    done = send(processor, "alertmanager", raw("alertmanager_firing.json"))
    # A crash after the alert was applied and before the payload was marked: it is pending again.
    with svc.db.write() as session:
        session.execute(update(InboundPayloadRow).values(status="pending"))
    before = event_count(svc)
    again = processor.process(done.payload_id)
    assert again.outcomes == ["skip"] and again.status == "processed"
    assert event_count(svc) == before and svc.get(1).alert_count == 1


def test_receivers_racing_on_one_alert_make_one_incident(svc, db_url, clock) -> None:
    """Four receivers (each its own engine) get the same alert at once, five times each."""
    from concurrent.futures import ThreadPoolExecutor

    from eim_tui.bootstrap import open_services

    others = [open_services(db_url, clock) for _ in range(4)]
    processors = [AlertProcessor(s, load_alert_routing(s.ref)) for s in others]
    body = am_payload(am_alert(fingerprint="race"))
    try:
        with ThreadPoolExecutor(4) as pool:
            results = list(pool.map(lambda p: [send(p, "alertmanager", body) for _ in range(5)], processors))
    finally:
        for s in others:
            s.db.dispose()
    assert all(r.status == "processed" for batch in results for r in batch)
    assert incident_count(svc) == 1
    alert = stored_alert(svc, "alertmanager", "race")  # on PostgreSQL a lost race leaves a gap in the numbers
    assert svc.get(alert.incident_number).alert_count == 20 and alert.count == 20
    with svc.db.read() as session:
        assert timeline.verify(session).intact


def test_an_incident_from_monitoring_reaches_the_queue_and_the_change_feed(svc, processor) -> None:
    marker = svc.change_marker()
    send(processor, "alertmanager", raw("alertmanager_firing.json"))
    new_marker, changed = svc.changes_since(marker)
    assert new_marker > marker and changed == {1}
    assert 1 in svc.queue(View.OPEN, Filter(), "alice", [])
    send(processor, "alertmanager", raw("alertmanager_resolved.json"))
    (row,) = svc.rows([1])
    assert row.alerts_resolved is True
    assert row_cells(row, svc.clock.now(), 12)["state"][0] == "new ✓"  # the queue shows it


def test_a_payload_that_cannot_be_applied_is_marked_failed(svc, processor, monkeypatch) -> None:
    from eim_tui.domain.errors import ValidationError

    def broken(*args, **kwargs):
        raise ValidationError("unknown category 'gone'")

    monkeypatch.setattr(svc, "log_incident", broken)
    done = send(processor, "alertmanager", raw("alertmanager_firing.json"))
    assert (done.status, done.error) == ("failed", "unknown category 'gone'")
    assert payload(svc, done.payload_id).status == "failed"


def test_start_times_in_the_future_are_not_believed(svc, processor, clock) -> None:
    later = (clock.now() + timedelta(hours=2)).astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.123456789Z")
    send(processor, "alertmanager", am_payload(am_alert(fingerprint="f", starts=later)))
    assert svc.get(1).detected_at == clock.now()
    earlier = datetime(2026, 11, 26, 8, 59, 58, 426464, tzinfo=UTC)
    send(processor, "alertmanager", am_payload(am_alert(fingerprint="g", instance="other:1")))
    assert svc.get(2).detected_at == earlier


@pytest.mark.parametrize("source", ["alertmanager", "generic"])
def test_refused_bodies_are_kept_as_rejected(svc, processor, source: str) -> None:
    receipt = processor.accept(source, b'{"what": "ever"}', "application/json", "10.0.0.9")
    assert (receipt.status, receipt.http_status) == ("rejected", 422)
    kept = payload(svc, receipt.payload_id)
    assert (kept.status, kept.body, kept.remote, kept.error) == ("rejected", '{"what": "ever"}', "10.0.0.9", receipt.error)
