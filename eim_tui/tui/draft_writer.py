"""A screen's draft, written as the user types: debounced, in worker threads, never blocking.

The screen says when something was typed (`typed()`), gives the content to keep (`content`,
None for "nothing worth keeping"), and retires or discards the draft when the real thing is saved
or dropped. `DraftKeeper` makes sure a slow write can never bring back a discarded draft.
The screen hears back by messages: `DraftFound` (after `load()`), `DraftNotSaved`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import partial
from typing import Any

from textual.dom import DOMNode
from textual.message import Message
from textual.timer import Timer

from eim_tui.domain.drafts import Draft
from eim_tui.services.drafts import DraftKeeper
from eim_tui.tui.workers import explain


@dataclass
class DraftFound(Message):
    """What `load()` found: the stored draft, or None (none, or it could not be read)."""

    draft: Draft | None


@dataclass
class DraftNotSaved(Message):
    """Writing the draft failed: the screen still works, and says that drafts do not."""

    error: str


class DraftWriter:
    def __init__(self, node: DOMNode, keeper: DraftKeeper, content: Callable[[], dict[str, Any] | None],
                 delay: float) -> None:
        self.node = node
        self.keeper = keeper
        self.content = content
        self.delay = delay
        self.enabled = True
        self._timer: Timer | None = None

    def typed(self) -> None:
        """Something changed: write the draft once typing pauses for `delay` seconds."""
        if not self.enabled:
            return
        if self._timer is not None:
            self._timer.stop()
        self._timer = self.node.set_timer(self.delay, self.save_now)

    def save_now(self) -> None:
        content = self.content()
        if content is not None:
            self._run(partial(self._write, content, self.keeper.generation), "save the draft")

    def retire(self) -> int:
        """Stop writing what was typed so far (it is being saved for real); see `DraftKeeper`."""
        if self._timer is not None:
            self._timer.stop()
        return self.keeper.retire()

    def discard(self) -> None:
        """Drop the draft: stop any write on its way and delete the stored one."""
        generation = self.retire()
        self._run(partial(self.delete_now, generation), "delete the draft")

    def load(self) -> None:
        """Look for a stored draft in a worker; the node gets `DraftFound`."""
        def look() -> None:
            try:
                draft = self.keeper.load()
            except Exception:
                self.node.post_message(DraftFound(None))  # no draft is better than no screen
                raise  # and the app says why there is none
            self.node.post_message(DraftFound(draft))

        self._run(look, "look for a draft")

    def _run(self, work: Callable[[], None], description: str) -> None:
        # On the app, not the screen: a screen's workers are cancelled when it closes, and the
        # delete asked for just before closing must still happen.
        self.node.app.run_worker(work, thread=True, group="draft", exit_on_error=False, description=description)

    def _write(self, content: dict[str, Any], generation: int) -> None:
        try:
            self.keeper.save(content, generation)
        except Exception as exc:  # the screen still works; it says that drafts do not
            self.node.post_message(DraftNotSaved(f"draft not saved: {explain(exc)}"))

    def delete_now(self, generation: int) -> None:
        """Delete the draft retired as `generation`, in the calling thread (a worker: the one that
        just saved the real thing)."""
        try:
            self.keeper.delete(generation)
        except Exception:
            pass  # a stale draft is offered back next time and can be discarded then
