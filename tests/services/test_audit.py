"""The use cases the screens and the command line reach instead of opening a session: the chain
check (whole store or one incident), the notification record, the export of every incident, drafts,
and bringing a store up to date."""

from __future__ import annotations

from sqlalchemy import text

from eim_tui.domain import EventKind
from eim_tui.store.schema import HEAD_REVISION


def test_verify_chain_of_the_store_and_of_one_incident(svc, log) -> None:
    first, second = log(), log(title="second")
    svc.acknowledge(first.number, "alice")
    mine = len(svc.details(first.number).timeline)
    assert mine > 1
    whole = svc.verify_chain()
    assert (whole.intact, whole.events) == (True, mine + 1)
    assert (svc.verify_chain(first.number).intact, svc.verify_chain(first.number).events) == (True, mine)
    with svc.db.write() as session:
        session.execute(text("UPDATE timeline_event SET summary = 'nothing to see' WHERE seq = 2"))
    assert not svc.verify_chain().intact
    assert svc.verify_chain(second.number).broken_at == 2
    assert "altered" in svc.verify_chain(second.number).reason


def test_record_notification_appends_one_event_as_the_scheduler(svc, log) -> None:
    incident = log()
    channels = {"bell": {"ok": True, "detail": ""}}
    svc.record_notification(incident.number, "alice", "notified alice: Sev3 breached", channels)
    event = svc.details(incident.number).timeline[-1]
    assert (event.kind, event.actor, event.summary) == (EventKind.NOTIFICATION_SENT, "scheduler",
                                                        "notified alice: Sev3 breached")
    assert event.data == {"user": "alice", "channels": channels}
    assert svc.verify_chain().intact


def test_all_incidents_are_read_in_key_order(svc, log) -> None:
    numbers = [log(title=f"incident {i}").number for i in range(3)]
    with svc.all_incidents("alice") as incidents:
        assert [i.number for i in incidents] == numbers


def test_the_drafts_of_a_store_and_its_upgrade(svc) -> None:
    svc.drafts.save("alice", "new-incident", {"title": "half typed"})
    assert svc.drafts.load("alice", "new-incident").content == {"title": "half typed"}
    assert svc.upgrade_store() == HEAD_REVISION
    assert svc.store_url == svc.db.url
