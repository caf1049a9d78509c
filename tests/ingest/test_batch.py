"""A group commit's batch planned in memory and written at once (`services.alert_batch`): it does
what applying the payloads one by one does — a repeat in the same batch counts on the incident the
batch opens, a payload that fails is failed alone, a write that finds the store changed makes the
batch go one by one — with nothing lost or doubled and the chain intact."""

from __future__ import annotations

import re

from eim_tui.domain.errors import ConflictError, ValidationError
from eim_tui.store import inbound, timeline

from .conftest import events, incident_count, payload, stored_alert
from .samples import am_alert, am_payload, generic_event


def batch(processor, bodies: list[tuple[str, bytes]]):
    """Store the bodies as one group commit does, then process them as one batch: (ids, outcomes)."""
    checked = [processor.check(source, body) for source, body in bodies]
    ids = processor.store([(source, body, "application/json", "") for source, body in bodies])
    return ids, processor.process_batch(list(zip(ids, checked, strict=True)))


def chain_intact(svc) -> bool:
    with svc.db.read() as session:
        return timeline.verify(session).intact


def test_a_new_alert_and_its_repeat_in_one_batch_are_one_incident_counted_twice(processor, svc) -> None:
    disk = generic_event(title="Disk full on db01", dedup_key="disk-db01")
    ids, outcomes = batch(processor, [("generic", disk), ("generic", generic_event(title="Fan", dedup_key="fan")),
                                      ("generic", disk)])
    assert [o.status for o in outcomes] == ["processed"] * 3
    assert outcomes[0].incidents == outcomes[2].incidents and outcomes[0].incidents != outcomes[1].incidents
    assert [o.outcomes for o in outcomes] == [["open"], ["open"], ["update"]]
    number = outcomes[0].incidents[0]
    incident = svc.get(number)
    assert incident_count(svc) == 2 and incident.alert_count == 2 and incident.version == 2
    assert stored_alert(svc, "generic", "disk-db01").count == 2
    assert [kind for kind, _ in events(svc, number)] == ["created", "alert_received", "alert_received"]
    assert [payload(svc, i).status for i in ids] == ["processed"] * 3
    assert outcomes[1].incidents == [number + 1]  # numbered in the order opened, without gaps
    assert chain_intact(svc)


def _group(tag: str) -> bytes:
    alerts = [am_alert(name=f"Queue{tag}", instance=f"q{i}:9100", fingerprint=f"{tag}{i:03x}")
              for i in range(3)]
    return am_payload(*alerts, group_key=f'{{}}:{{alertname="Queue{tag}"}}')


def _story(svc, number: int) -> list[tuple[str, str]]:
    """The incident's timeline with its own key and the payload ids taken out."""
    return [(kind, re.sub(r"INC-\d+|payload \d+|Queue\w|[AB][0-9a-f]{3}", "·", summary)) for kind, summary in events(svc, number)]


def test_a_batch_writes_what_the_one_by_one_path_writes(processor, svc) -> None:
    """The same notifications — a new group of three, then the group twice again — sent once as a
    batch and once payload by payload (another group): the incident and its timeline are alike."""
    _, outcomes = batch(processor, [("alertmanager", _group("A"))] * 3)
    assert [o.outcomes for o in outcomes] == [["open", "join", "join"], ["update"] * 3, ["update"] * 3]
    one = [processor.accept("alertmanager", _group("B")) for _ in range(3)]
    alone = [processor.process(r.payload_id, r.alerts) for r in one]
    assert [o.outcomes for o in alone] == [o.outcomes for o in outcomes]
    a, b = svc.get(outcomes[0].incidents[0]), svc.get(alone[0].incidents[0])
    assert incident_count(svc) == 2 and a.alert_count == b.alert_count == 9
    assert (a.state, a.priority, a.alerts_resolved, a.title.replace("A", "B")) == (b.state, b.priority, b.alerts_resolved, b.title)
    assert a.version == b.version == 4  # written once by the batch, the version still counts each change
    assert _story(svc, a.number) == _story(svc, b.number)
    assert [stored_alert(svc, "alertmanager", f"A{i:03x}").count for i in range(3)] == [3, 3, 3]
    assert chain_intact(svc)


def test_a_payload_that_fails_is_failed_alone_and_the_others_are_processed(processor, svc, monkeypatch) -> None:
    real = svc.prepare_incident

    def refuse_bad(report, actor, now, shape=None):
        if "bad" in report.title:
            raise ValidationError("unknown service 'nowhere'")
        return real(report, actor, now, shape)

    monkeypatch.setattr(svc, "prepare_incident", refuse_bad)
    bodies = [("generic", generic_event(title=title, dedup_key=title)) for title in ("one", "bad one", "two", "one")]
    ids, outcomes = batch(processor, bodies)
    assert [o.status for o in outcomes] == ["processed", "failed", "processed", "processed"]
    assert "nowhere" in outcomes[1].error and outcomes[3].incidents == outcomes[0].incidents
    assert [payload(svc, i).status for i in ids] == ["processed", "failed", "processed", "processed"]
    assert incident_count(svc) == 2 and svc.get(outcomes[0].incidents[0]).alert_count == 2
    assert stored_alert(svc, "generic", "bad one") is None and chain_intact(svc)


def test_a_store_changed_under_the_plan_makes_the_batch_go_one_by_one(processor, svc, monkeypatch) -> None:
    real = inbound.finish_payloads
    calls = []

    def changed_once(*args, **kwargs):
        calls.append(1)
        if len(calls) == 1:
            raise ConflictError("INC-000001", 1, 2, by="alice")
        return real(*args, **kwargs)

    monkeypatch.setattr(inbound, "finish_payloads", changed_once)
    disk = generic_event(title="Disk full on db02", dedup_key="disk-db02")
    ids, outcomes = batch(processor, [("generic", disk), ("generic", generic_event(title="Fan", dedup_key="fan")),
                                      ("generic", disk)])
    assert calls and [o.status for o in outcomes] == ["processed"] * 3
    assert [payload(svc, i).status for i in ids] == ["processed"] * 3
    number = outcomes[0].incidents[0]
    assert incident_count(svc) == 2 and svc.get(number).alert_count == 2  # nothing doubled by the undone plan
    assert [kind for kind, _ in events(svc, number)] == ["created", "alert_received", "alert_received"]
    assert chain_intact(svc)


def test_a_resolve_between_repeats_keeps_the_order_of_one_alert(processor, svc) -> None:
    firing, resolved = am_payload(am_alert()), am_payload(am_alert(status="resolved"))
    _, outcomes = batch(processor, [("alertmanager", b) for b in (firing, firing, resolved, firing)])
    assert [o.outcomes for o in outcomes] == [["open"], ["update"], ["resolve"], ["update"]]
    number = outcomes[0].incidents[0]
    kinds = [kind for kind, _ in events(svc, number) if kind.startswith("alert_")]
    assert kinds == ["alert_received", "alert_received", "alert_resolved", "alert_received"]
    alert = stored_alert(svc, "alertmanager", "9292d367436bf9e6")
    assert alert.status.value == "firing" and alert.count == 3 and not svc.get(number).alerts_resolved
    assert chain_intact(svc)


def test_rows_written_in_one_statement_are_still_guarded_by_what_was_read(processor, svc) -> None:
    bodies = [am_payload(am_alert(fingerprint=f"f{i}", instance=f"h{i}:9100")) for i in range(2)]
    for body in bodies:
        receipt = processor.accept("alertmanager", body)
        processor.process(receipt.payload_id, receipt.alerts)
    read = [stored_alert(svc, "alertmanager", f"f{i}") for i in range(2)]
    receipt = processor.accept("alertmanager", bodies[1])
    processor.process(receipt.payload_id, receipt.alerts)  # f1 moves on: count 2
    now = svc.clock.now()
    changes = [(row, inbound.alert_changes(row, processor.check("alertmanager", bodies[i])[0], row.incident_number,
                                           receipt.payload_id, now)) for i, row in enumerate(read)]
    try:
        with svc.db.write() as session:
            inbound.update_alerts(session, changes)
        raise AssertionError("a stale alert row was overwritten")
    except ConflictError:
        pass
    assert [stored_alert(svc, "alertmanager", f"f{i}").count for i in range(2)] == [1, 2]


def test_recovery_processes_what_was_left_pending_in_batches(processor, svc) -> None:
    disk = generic_event(title="Disk full on db03", dedup_key="disk-db03")
    stored = [("generic", disk, "application/json", ""), ("generic", b'{"no title": 1}', "application/json", ""),
              ("generic", disk, "application/json", "")]
    ids = processor.store(stored)  # stored, then a crash: nothing processed
    assert processor.recover() == 3
    assert [payload(svc, i).status for i in ids] == ["processed", "rejected", "processed"]
    number = stored_alert(svc, "generic", "disk-db03").incident_number
    assert incident_count(svc) == 1 and svc.get(number).alert_count == 2 and chain_intact(svc)
    assert processor.recover() == 0  # nothing is left, and nothing is applied twice
    assert svc.get(number).alert_count == 2
