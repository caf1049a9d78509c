"""Drafts as the screens use them: `Drafts` (save / load / discard, one transaction each) and
`DraftKeeper`, the per-screen writer that keeps a slow draft save from outliving a discard.

No timeline event is written: a draft is not a change to an incident.

A draft exists so that typed text survives the worst moment, and the worst moment may be the one
when the store cannot be reached (the server stopped, the disk full, the file read-only). Then a
draft goes to a local file instead (`LocalDrafts`, under the user's data directory, one folder per
store), and the next time the store answers it is merged back: the newer of the two wins, the store
keeps it, the file goes. So a draft is offered back whether it was typed before, during or after
an outage, and on whichever side it was kept.
"""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
import threading
from datetime import datetime
from pathlib import Path
from typing import Any
from urllib.parse import quote

from eim_tui.domain.clock import Clock, SystemClock
from eim_tui.domain.drafts import Draft
from eim_tui.store import drafts as store
from eim_tui.store.engine import Database
from eim_tui.store.health import StoreUnavailable


def default_local_dir() -> Path:
    from platformdirs import user_data_dir

    return Path(user_data_dir("eim")) / "drafts"


class LocalDrafts:
    """Drafts kept in files while the store cannot take them: `<dir>/<store>/<owner>/<scope>.json`.

    The store's folder is named by a hash of its URL, so a draft typed against one store is never
    offered in another. Each file is written whole (a temporary file renamed over it), so a kill
    mid-write leaves the previous draft, never half of one."""

    def __init__(self, root: Path, store_url: str) -> None:
        self.root = root / hashlib.sha256(store_url.encode()).hexdigest()[:16]

    def _path(self, owner: str, scope: str) -> Path:
        return self.root / quote(owner, safe="") / f"{quote(scope, safe='')}.json"

    def save(self, owner: str, scope: str, content: dict[str, Any], at: datetime) -> Path:
        path = self._path(owner, scope)
        path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)  # typed text is nobody else's
        record = {"owner": owner, "scope": scope, "saved_at": at.isoformat(), "content": content}
        fd, temporary = tempfile.mkstemp(dir=path.parent, prefix=".draft-")
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as file:
                json.dump(record, file, ensure_ascii=False)
                file.flush()
                os.fsync(file.fileno())
            os.replace(temporary, path)
        except BaseException:
            Path(temporary).unlink(missing_ok=True)
            raise
        return path

    def load(self, owner: str, scope: str) -> Draft | None:
        path = self._path(owner, scope)
        try:
            record = json.loads(path.read_text(encoding="utf-8"))
            return Draft(owner=owner, scope=scope, saved_at=datetime.fromisoformat(record["saved_at"]),
                         content=dict(record.get("content") or {}))
        except FileNotFoundError:
            return None
        except (OSError, ValueError, KeyError, TypeError):
            return None  # unreadable: not worth offering, and not worth failing the screen for

    def discard(self, owner: str, scope: str) -> bool:
        path = self._path(owner, scope)
        existed = path.exists()
        path.unlink(missing_ok=True)
        return existed


class Drafts:
    def __init__(self, db: Database, clock: Clock | None = None, local_dir: Path | None = None) -> None:
        self.db = db
        self.clock = clock or SystemClock()
        self._local_dir = local_dir
        self._local: LocalDrafts | None = None
        self._lock = threading.Lock()

    @property
    def local(self) -> LocalDrafts:
        """Where drafts go while the store cannot take them (found on first use: no import at start)."""
        if self._local is None:
            self._local = LocalDrafts(self._local_dir or default_local_dir(), self.db.url)
        return self._local

    def save(self, owner: str, scope: str, content: dict[str, Any]) -> str:
        """Keep the draft: in the store, or in a local file when the store cannot take it.

        Returns where it went ("store" or "local"); raises only when neither could keep it."""
        at = self.clock.now()
        try:
            with self.db.write() as session:
                store.save_draft(session, owner, scope, content, at)
        except StoreUnavailable:
            self.local.save(owner, scope, content, at)
            return "local"
        self.local.discard(owner, scope)  # the store has the newest now
        return "store"

    def load(self, owner: str, scope: str) -> Draft | None:
        """The newest draft, wherever it was kept; a local one is merged into the store on the way.

        While the store cannot be reached the local draft is offered as it is."""
        local = self.local.load(owner, scope)
        try:
            with self.db.read() as session:
                stored = store.load_draft(session, owner, scope)
        except StoreUnavailable:
            if local is None:
                raise
            return local
        if local is None:
            return stored
        if stored is not None and stored.saved_at >= local.saved_at:
            self.local.discard(owner, scope)  # older than what the store has
            return stored
        try:
            with self.db.write() as session:
                store.save_draft(session, owner, scope, local.content, local.saved_at)
        except StoreUnavailable:
            return local  # still only local (a read-only store): offered, kept, merged later
        self.local.discard(owner, scope)
        return local

    def discard(self, owner: str, scope: str) -> bool:
        """Drop the draft on both sides; the local one goes even when the store cannot be reached."""
        dropped = self.local.discard(owner, scope)
        with self.db.write() as session:
            return store.delete_draft(session, owner, scope) or dropped


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
        self.saved_to = ""  # where the last save went: "store", or "local" while the store was away

    @property
    def generation(self) -> int:
        return self._generation

    def load(self) -> Draft | None:
        return self.drafts.load(self.owner, self.scope)

    def save(self, content: dict[str, Any], generation: int) -> bool:
        """Write the draft unless it was retired since `generation`; True when written (where it
        went, "store" or "local", is then `saved_to`)."""
        with self._lock:
            if generation != self._generation:
                return False
            self.saved_to = self.drafts.save(self.owner, self.scope, content)
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
