"""The timeline as a record: verifying its hash chain, and writing down that a person was notified.

`AuditCases` is a part of `Services` (`svc.verify_chain()`, `svc.record_notification(…)`), so the
screens and the command line never open a session for these.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from eim_tui.domain.model import EventKind
from eim_tui.services.sla import ACTOR
from eim_tui.store import timeline
from eim_tui.store.timeline import ChainReport

if TYPE_CHECKING:
    from eim_tui.domain.clock import Clock
    from eim_tui.store.engine import Database

__all__ = ["AuditCases", "ChainReport"]


class AuditCases:
    """The audit use cases of `Services` (which provides the store and the clock)."""

    db: Database
    clock: Clock

    def verify_chain(self, number: int | None = None) -> ChainReport:
        """Walk the whole store's chain, or with `number` check that incident's events and their links
        (each hashes to what it says and links to the event before it in the global chain)."""
        if number is None:
            from eim_tui.services.audit_trail import verify_links

            # PostgreSQL outside the security group: row-level security hides confidential events,
            # so the walk goes by their links (numbers and hashes), as `eim audit verify` does.
            linked = verify_links(self.db)
            if linked is not None:
                return ChainReport(linked.ok, linked.events, linked.broken_at, linked.reason, hidden=linked.hidden)
        with self.db.read() as session:
            return timeline.verify(session) if number is None else timeline.verify_incident(session, number)

    def record_notification(self, number: int, user: str, summary: str, channels: dict[str, Any]) -> None:
        """One NOTIFICATION_SENT event on the incident: who was told, and what each channel did."""
        event = timeline.NewEvent(number, EventKind.NOTIFICATION_SENT, summary, {"user": user, "channels": channels})
        with self.db.write() as session:
            timeline.append(session, [event], self.clock.now(), ACTOR)
