"""Drafts on both backends: the upsert keeps one row per (owner, scope), and discarding removes it."""

from __future__ import annotations

import threading
from datetime import timedelta

from sqlalchemy import func, select

from eim_tui.domain.drafts import NEW_INCIDENT, note_scope
from eim_tui.services.drafts import DraftKeeper, Drafts
from eim_tui.store.tables import DraftRow, TimelineRow


def _rows(svc) -> int:
    with svc.db.read() as session:
        return session.execute(select(func.count()).select_from(DraftRow)).scalar_one()


def test_save_load_overwrite_and_discard(svc, clock, fixed_now) -> None:
    drafts = Drafts(svc.db, clock)
    assert drafts.load("alice", NEW_INCIDENT) is None
    drafts.save("alice", NEW_INCIDENT, {"title": "VPN dr"})
    clock.advance(timedelta(seconds=30))
    drafts.save("alice", NEW_INCIDENT, {"title": "VPN drops every 5 minutes", "impact": 2})
    found = drafts.load("alice", NEW_INCIDENT)
    assert found is not None
    assert found.content == {"title": "VPN drops every 5 minutes", "impact": 2}
    assert found.saved_at == fixed_now + timedelta(seconds=30)
    assert _rows(svc) == 1
    assert drafts.discard("alice", NEW_INCIDENT) is True
    assert drafts.load("alice", NEW_INCIDENT) is None
    assert drafts.discard("alice", NEW_INCIDENT) is False


def test_drafts_are_per_owner_and_scope_and_never_in_the_timeline(svc, clock) -> None:
    drafts = Drafts(svc.db, clock)
    drafts.save("alice", note_scope(7), {"text": "alice's note"})
    drafts.save("bob", note_scope(7), {"text": "bob's note"})
    drafts.save("alice", NEW_INCIDENT, {"title": "x"})
    assert note_scope(7) == "note:INC-000007"
    assert drafts.load("alice", note_scope(7)).content == {"text": "alice's note"}
    assert drafts.load("bob", note_scope(7)).content == {"text": "bob's note"}
    drafts.discard("alice", note_scope(7))
    assert drafts.load("bob", note_scope(7)) is not None
    assert _rows(svc) == 2
    with svc.db.read() as session:
        assert session.execute(select(func.count()).select_from(TimelineRow)).scalar_one() == 0


def test_concurrent_upserts_leave_one_row(svc, clock) -> None:
    drafts = Drafts(svc.db, clock)
    errors: list[BaseException] = []

    def typing(n: int) -> None:
        try:
            for i in range(10):
                drafts.save("alice", NEW_INCIDENT, {"title": f"writer {n} step {i}"})
        except BaseException as exc:  # noqa: BLE001 - reported below
            errors.append(exc)

    threads = [threading.Thread(target=typing, args=(n,)) for n in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    assert _rows(svc) == 1
    assert drafts.load("alice", NEW_INCIDENT).content["title"].endswith("step 9")


def test_keeper_drops_a_save_asked_before_the_draft_was_retired(svc, clock) -> None:
    keeper = DraftKeeper(Drafts(svc.db, clock), "alice", note_scope(1))
    stale = keeper.generation
    assert keeper.save({"text": "half a sen"}, stale) is True
    generation = keeper.retire()  # the note was saved for real
    assert keeper.save({"text": "half a sentence"}, stale) is False  # the slow debounced save
    keeper.delete(generation)
    assert keeper.load() is None


def test_keeper_delete_spares_text_typed_after_retiring(svc, clock) -> None:
    keeper = DraftKeeper(Drafts(svc.db, clock), "alice", note_scope(1))
    keeper.save({"text": "first note"}, keeper.generation)
    generation = keeper.retire()
    assert keeper.save({"text": "the next note"}, keeper.generation) is True
    keeper.delete(generation)  # the delete's thread ran late
    assert keeper.load().content == {"text": "the next note"}
