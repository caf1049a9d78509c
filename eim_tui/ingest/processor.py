"""Receiving monitoring payloads: check a body, have it stored first, then have its alerts applied.

`accept` parses and checks a body (the pure adapters and routing) and has it stored — pending, or
rejected with the reason — so nothing received is lost. The store work (storing, dedup, applying
unit by unit with retries on races, marking, recovering what was left pending) is the use cases'
(`services.alert_intake.AlertIntake`), which call this side back through `plan.Planner`.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import timedelta

from eim_tui.domain.alert_plan import PayloadError, PayloadStatus, describe
from eim_tui.domain.alerts import Alert
from eim_tui.domain.errors import DomainError
from eim_tui.ingest import adapters
from eim_tui.ingest.plan import Planner
from eim_tui.ingest.routing import AlertRouting
from eim_tui.services.alert_intake import AlertIntake, Processed
from eim_tui.services.incidents import Services

__all__ = ["AlertProcessor", "Processed", "Receipt", "describe"]  # describe: `eim new --json` (reports)

log = logging.getLogger("eim.ingest")


@dataclass(frozen=True, slots=True)
class Receipt:
    """What became of a request's body: stored as `status` under `payload_id` (None if not stored)."""

    payload_id: int | None
    status: str
    error: str = ""
    http_status: int = 202
    alerts: list[Alert] = field(default_factory=list)  # what the body holds, parsed once


class AlertProcessor:
    def __init__(self, svc: Services, routing: AlertRouting, attempts: int = 25) -> None:
        self.routing = routing
        self.intake = AlertIntake(svc, Planner(routing), attempts)

    def accept(self, source: str, body: bytes, content_type: str = "", remote: str = "") -> Receipt:
        """Check a body and store it: pending when it holds alerts, rejected (with why) when not.

        Raises only when the store cannot be written: the sender should retry then."""
        checked = self.check(source, body, content_type, remote)
        if isinstance(checked, Receipt):
            return checked
        payload_id = self.intake.store_body(source, body, content_type, remote)
        return Receipt(payload_id, PayloadStatus.PENDING, alerts=checked)

    def check(self, source: str, body: bytes, content_type: str = "", remote: str = "") -> list[Alert] | Receipt:
        """The alerts a body holds, or — when it holds none that can be taken — the receipt of
        keeping it as rejected (with why). The pure half of `accept`; `store` keeps accepted ones."""
        try:
            alerts = adapters.parse(source, body)
            for alert in alerts:
                if alert.overrides:
                    self.routing.check(self.routing.route(alert))
        except PayloadError as exc:
            return self.reject(source, body, str(exc), exc.status, content_type, remote)
        except DomainError as exc:
            return self.reject(source, body, str(exc), 422, content_type, remote)
        except Exception as exc:  # see below: the body is at fault, whatever it raised
            # The adapters and routing are pure: whatever else reading a body raises is the body's
            # fault (a 4xx, kept as rejected), never the store's (a 5xx the sender would retry for
            # ever). Logged in full, since it also means an adapter missed a case.
            log.exception("a %s body could not be read", source)
            reason = f"the body could not be read as a {source} payload ({type(exc).__name__})"
            return self.reject(source, body, reason, 400, content_type, remote)
        return alerts

    def store(self, bodies: list[tuple[str, bytes, str, str]]) -> list[int]:
        """Keep checked bodies — (source, body, content type, remote) — pending, in one transaction."""
        return self.intake.store_bodies(bodies)

    def process_batch(self, work: list[tuple[int, list[Alert] | None]]) -> list[Processed | Exception]:
        """Process stored payloads in order, in one transaction (see `AlertIntake.process_batch`)."""
        return self.intake.process_batch(work, self.process)

    def reject(
        self, source: str, body: bytes, reason: str, http_status: int, content_type: str = "", remote: str = ""
    ) -> Receipt:
        """Keep a refused body for inspection; a store that cannot take it does not change the answer."""
        payload_id = self.intake.reject(source, body, reason, content_type, remote)
        return Receipt(payload_id, PayloadStatus.REJECTED, reason, http_status)

    def process(self, payload_id: int, alerts: list[Alert] | None = None) -> Processed:
        """Apply a stored payload's alerts (`alerts`: parsed already by `accept`, which stored it)."""
        return self.intake.process(payload_id, alerts)

    def retry(self, payload_id: int) -> Processed:
        """Process a failed payload again (`eim payloads retry`); see `AlertIntake.retry`."""
        return self.intake.retry(payload_id)

    def recover(self, older_than: timedelta | None = None) -> int:
        """Process what was stored and left pending (a crash, a busy store); returns how many were."""
        return self.intake.recover(older_than)
