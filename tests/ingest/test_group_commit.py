"""Group commit in the receiver (no timing): bodies that arrive together are stored in one
transaction and processed in one more; each is answered only after the transaction that stored
it committed, the order of alerts with one dedup key is kept within a batch, a batch that cannot
be stored is answered 503 for every body and none of it is kept, and too many waiting is a 503."""

from __future__ import annotations

import asyncio
import json
import threading

from aiohttp.test_utils import TestClient, TestServer
from sqlalchemy import func, select
from sqlalchemy.exc import OperationalError

from eim_tui.ingest.server import GroupCommit, IngestServer, Overloaded, Settings
from eim_tui.store import inbound, timeline
from eim_tui.store.tables import InboundPayloadRow

from .conftest import events, incident_count, payload, stored_alert
from .samples import am_alert, am_payload, generic_event

JSON = {"Content-Type": "application/json"}


def stored_payloads(svc) -> int:
    with svc.db.read() as session:
        return session.execute(select(func.count()).select_from(InboundPayloadRow)).scalar_one()


def chain_intact(svc) -> bool:
    with svc.db.read() as session:
        return timeline.verify(session).intact


async def post_together(processor, bodies: list[bytes]) -> list[tuple[int, dict]]:
    """Post every body at once to a receiver whose window is wide, so that they surely meet in a
    batch (the window is not what is tested); the answers, in the order of `bodies`."""
    client = TestClient(TestServer(IngestServer(processor, Settings(group_window=0.2)).app()))
    await client.start_server()
    try:
        answers = await asyncio.gather(*(client.post("/api/v1/events", data=b, headers=JSON) for b in bodies))
        return [(a.status, json.loads(await a.text())) for a in answers]
    finally:
        await client.close()


async def test_bodies_sent_together_share_one_batch_and_each_gets_its_answer(processor, svc) -> None:
    stored: list[int] = []
    real = processor.store

    def counting(bodies):
        stored.append(len(bodies))
        return real(bodies)

    processor.store = counting
    replies = await post_together(
        processor, [generic_event(title=f"Disk full on db{n:02d}", dedup_key=f"disk-{n}") for n in range(20)])
    assert all(status == 200 and r["status"] == "processed" for status, r in replies), replies
    assert max(stored) > 1 and sum(stored) == 20  # grouped, every body stored once
    assert len({r["incidents"][0] for _, r in replies}) == 20 == incident_count(svc)
    for _, reply in replies:  # each answer names its own payload, which is stored and processed
        assert payload(svc, reply["payload"]).status == "processed"
    assert chain_intact(svc)


async def test_order_is_kept_per_dedup_key_within_a_batch(processor, svc) -> None:
    server = IngestServer(processor, Settings(group_window=0.2))
    statuses = ["firing", "resolved", "firing", "firing", "resolved", "firing", "resolved"]
    items = []
    for status in statuses:
        body = am_payload(am_alert(status=status))
        items.append(("alertmanager", body, "application/json", "", processor.check("alertmanager", body)))
    results = await asyncio.gather(*(server.group.submit(item) for item in items))  # submitted in this order
    server.writer.shutdown(wait=True)
    server.reader.shutdown(wait=True)
    ids = [payload_id for payload_id, _ in results]
    assert ids == sorted(ids) and len(set(ids)) == len(ids)
    assert all(done.status == "processed" for _, done in results)
    alert = stored_alert(svc, "alertmanager", "9292d367436bf9e6")
    assert alert.status.value == "resolved" and alert.count == statuses.count("firing")
    number = results[0][1].incidents[0]
    kinds = [kind for kind, _ in events(svc, number) if kind in ("alert_received", "alert_resolved")]
    # Each notification in the order sent: what the timeline says follows the same sequence.
    assert kinds == ["alert_received" if s == "firing" else "alert_resolved" for s in statuses], kinds
    assert chain_intact(svc)


async def test_a_batch_that_cannot_be_stored_is_503_for_every_body_and_none_is_kept(processor, svc, monkeypatch) -> None:
    real = inbound.save_payloads

    def half_then_fail(session, at, bodies):
        real(session, at, bodies[: len(bodies) // 2 or 1])  # part of the batch written, then the commit fails
        raise OperationalError("COMMIT", {}, Exception("disk I/O error"))

    monkeypatch.setattr(inbound, "save_payloads", half_then_fail)
    replies = await post_together(
        processor, [generic_event(title=f"Queue stuck {n}", dedup_key=f"q-{n}") for n in range(12)])
    assert [status for status, _ in replies] == [503] * 12, replies
    assert all("could not be stored" in r["error"] and "disk I/O" not in r["error"] for _, r in replies)
    assert stored_payloads(svc) == 0 and incident_count(svc) == 0


async def test_a_payload_that_fails_in_a_batch_is_left_pending_and_the_others_are_processed(processor, svc) -> None:
    real = processor.process
    bodies = [generic_event(title=f"Fan failure {n}", dedup_key=f"fan-{n}") for n in range(5)]
    ids = processor.store([("generic", b, "application/json", "") for b in bodies])

    def third_fails(payload_id, alerts=None):
        done = real(payload_id, alerts)  # written, then undone with its savepoint
        if payload_id == ids[2]:
            raise OperationalError("UPDATE", {}, Exception("database is locked"))
        return done

    outcomes = processor.intake.process_batch([(i, None) for i in ids], third_fails)
    assert isinstance(outcomes[2], Exception) and all(o.status == "processed" for n, o in enumerate(outcomes) if n != 2)
    assert [payload(svc, i).status for i in ids] == ["processed", "processed", "pending", "processed", "processed"]
    assert incident_count(svc) == 4 and chain_intact(svc)
    assert processor.recover() == 1 and incident_count(svc) == 5 and chain_intact(svc)


async def test_too_many_waiting_is_refused_at_once() -> None:
    from concurrent.futures import ThreadPoolExecutor

    release = threading.Event()
    taken = threading.Event()

    def slow(items):  # a store that does not answer until released
        taken.set()
        release.wait(30)
        return list(items)

    pool = ThreadPoolExecutor(1)
    group = GroupCommit(slow, pool, window=0.001, batch=2, limit=3)
    try:
        first = [asyncio.ensure_future(group.submit(n)) for n in range(2)]
        await asyncio.get_running_loop().run_in_executor(None, taken.wait, 30)  # the first batch is being stored
        queued = [asyncio.ensure_future(group.submit(n)) for n in range(2, 5)]
        await asyncio.sleep(0)
        assert group.waiting == 3
        try:
            await group.submit(99)
            raise AssertionError("a body beyond the limit was taken")
        except Overloaded as exc:
            assert "3 bodies are waiting" in str(exc)
    finally:
        release.set()
    assert await asyncio.gather(*first, *queued) == [0, 1, 2, 3, 4]  # those taken are all answered
    pool.shutdown(wait=True)


def test_the_cached_alert_update_still_refuses_a_row_changed_since_it_was_read(processor, svc) -> None:
    from eim_tui.domain.errors import ConflictError

    body = am_payload(am_alert())
    for _ in range(2):
        receipt = processor.accept("alertmanager", body)
        processor.process(receipt.payload_id, receipt.alerts)
    stale = stored_alert(svc, "alertmanager", "9292d367436bf9e6")
    receipt = processor.accept("alertmanager", body)
    processor.process(receipt.payload_id, receipt.alerts)  # the row moves on: count 3
    alert = processor.check("alertmanager", body)[0]
    with svc.db.write() as session:
        try:
            inbound.update_alert(session, stale, alert, stale.incident_number, receipt.payload_id, svc.clock.now())
            raise AssertionError("a stale alert row was overwritten")
        except ConflictError:
            pass
    assert stored_alert(svc, "alertmanager", "9292d367436bf9e6").count == 3
