"""Drafts as the screens use them: `Drafts` (save / load / discard, one transaction each) and
`DraftKeeper`, the per-screen writer that keeps a slow draft save from outliving a discard.

No timeline event is written: a draft is not a change to an incident.
"""

from __future__ import annotations

import threading
from typing import Any

from eim_tui.domain.clock import Clock, SystemClock
from eim_tui.domain.drafts import Draft
from eim_tui.store import drafts as store
from eim_tui.store.engine import Database


class Drafts:
    def __init__(self, db: Database, clock: Clock | None = None) -> None:
        self.db = db
        self.clock = clock or SystemClock()

    def save(self, owner: str, scope: str, content: dict[str, Any]) -> None:
        with self.db.write() as session:
            store.save_draft(session, owner, scope, content, self.clock.now())

    def load(self, owner: str, scope: str) -> Draft | None:
        with self.db.read() as session:
            return store.load_draft(session, owner, scope)

    def discard(self, owner: str, scope: str) -> bool:
        with self.db.write() as session:
            return store.delete_draft(session, owner, scope)


class DraftKeeper:
    """One screen's draft in one scope, written from worker threads.

    Draft saves are debounced and run in threads, so one may still be on its way when the user
    saves the real thing and the draft must go. Each save carries the generation it was asked in;
    `retire()` (on the UI thread, instantly) starts a new generation, so an older save writes
    nothing, and `delete(generation)` (in a worker) removes the stored draft unless a save of the
    new generation already replaced it. The lock makes each check and its write one step.
    """

    def __init__(self, drafts: Drafts, owner: str, scope: str) -> None:
        self.drafts = drafts
        self.owner = owner
        self.scope = scope
        self._lock = threading.Lock()
        self._generation = 0
        self._written = -1

    @property
    def generation(self) -> int:
        return self._generation

    def load(self) -> Draft | None:
        return self.drafts.load(self.owner, self.scope)

    def save(self, content: dict[str, Any], generation: int) -> bool:
        """Write the draft unless it was retired since `generation`; True when written."""
        with self._lock:
            if generation != self._generation:
                return False
            self.drafts.save(self.owner, self.scope, content)
            self._written = generation
            return True

    def retire(self) -> int:
        """Make every save asked so far a no-op; returns the new generation for `delete`."""
        self._generation += 1
        return self._generation

    def delete(self, generation: int) -> None:
        """Remove the stored draft, unless text typed since `retire()` is already stored."""
        with self._lock:
            if self._written >= generation:
                return
            self.drafts.discard(self.owner, self.scope)
