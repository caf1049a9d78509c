"""Alert intake: the webhook receiver's use cases — store a body first, then turn its alerts into
incident changes.

`store_body` keeps a body (pending, or rejected with the reason) in a transaction of its own, so
nothing received is lost. `process` applies a stored payload unit by unit: what the store knows of
its alerts is read (`Snapshot`), the receiver's planner (`AlertPlanner`: the pure adapters, plan and
routing of `ingest`) says what the next unit does, and the incident change, its timeline lines and
the alert rows commit together (`Services.change(…, also=…)`) — the alerts of a group notification
that add to one incident in one transaction. Several receivers may share one store: the alert's
unique key (source, dedup key) and the incident's version turn a race into an IntegrityError or
ConflictError, and the loser reads again and retries. A payload applied already is recognised by
the alert rows that name it, so processing it twice (after a crash, or by two receivers) is harmless.
"""

from __future__ import annotations

import logging
import random
import time
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Protocol

from sqlalchemy.exc import DBAPIError, IntegrityError
from sqlalchemy.orm import Session

from eim_tui.domain import alerts as rules
from eim_tui.domain.alert_plan import (
    PayloadError,
    PayloadStatus,
    Routing,
    Snapshot,
    Unit,
    firing_after,
    incident_report,
)
from eim_tui.domain.alerts import Alert, AlertStatus, Outcome
from eim_tui.domain.errors import ConflictError, DomainError
from eim_tui.domain.events import EventDraft
from eim_tui.domain.lifecycle import reopen
from eim_tui.domain.model import Incident
from eim_tui.services.alert_batch import ACTOR, BatchApplier, Processed, one_line
from eim_tui.services.alert_batch import count as _count
from eim_tui.services.alert_batch import received as _received
from eim_tui.services.changes import maintenance_window
from eim_tui.services.incidents import Services
from eim_tui.store import inbound, repository, timeline
from eim_tui.store.health import StoreUnavailable

log = logging.getLogger("eim.ingest")



class AlertPlanner(Protocol):
    """The receiver's pure side, which the use cases call back."""

    def parse(self, source: str, body: bytes) -> list[Alert]:
        """The alerts in a body of `source`; PayloadError if it is not one."""
        ...

    def next_unit(self, remaining: list[Alert], keys: list[str], snapshot: Snapshot, payload_id: int) -> Unit:
        """The first unit of work for `remaining` (`keys`: every dedup key of the payload)."""
        ...

    def route(self, alert: Alert) -> Routing:
        ...


class AlertIntake:
    def __init__(self, svc: Services, planner: AlertPlanner, attempts: int = 25) -> None:
        self.svc = svc
        self.planner = planner
        self.attempts = attempts

    @property
    def one_writer(self) -> bool:
        """Whether writes are best queued on one thread: SQLite has a single write lock."""
        return self.svc.db.is_sqlite

    def payload_counts(self) -> dict[str, int]:
        """How many stored bodies are in each status (the health check)."""
        with self.svc.db.read() as session:
            return inbound.payload_counts(session)

    # --- receiving ------------------------------------------------------------------------------

    def store_body(
        self, source: str, body: bytes, content_type: str = "", remote: str = "",
        status: str = PayloadStatus.PENDING, error: str = "",
    ) -> int:
        """Keep a body as received, in a transaction of its own; raises when the store cannot be written."""
        text = body.decode("utf-8", errors="replace")
        with self.svc.db.write() as session:
            return inbound.save_payload(session, self.svc.clock.now(), source, text, content_type, remote, status, error)

    def store_bodies(self, bodies: list[tuple[str, bytes, str, str]]) -> list[int]:
        """Keep several bodies — (source, body, content type, remote) each — pending, in one
        transaction (a group commit); their ids in order. Raises when the store cannot be written,
        and then none of them is kept."""
        rows = [(source, body.decode("utf-8", errors="replace"), content_type, remote)
                for source, body, content_type, remote in bodies]
        with self.svc.db.write() as session:
            return inbound.save_payloads(session, self.svc.clock.now(), rows)

    def reject(self, source: str, body: bytes, reason: str, content_type: str = "", remote: str = "") -> int | None:
        """Keep a refused body for inspection; None when the store cannot take it (the request is refused either way)."""
        try:
            return self.store_body(source, body, content_type, remote, PayloadStatus.REJECTED, reason)
        except Exception as exc:  # noqa: BLE001 - the request is refused either way
            log.warning("could not keep a rejected %s body: %s", source, one_line(exc))
            return None

    # --- processing -----------------------------------------------------------------------------

    def process(self, payload_id: int, alerts: list[Alert] | None = None) -> Processed:
        """Apply a stored payload's alerts (`alerts`: parsed already by whoever stored it).

        A transient failure (the store busy, a race lost too often) raises and leaves it pending
        for `recover`; a permanent one marks it failed."""
        if alerts is None:
            with self.svc.db.read() as session:
                payload = inbound.get_payload(session, payload_id)
            if payload is None or payload.status != PayloadStatus.PENDING:
                return Processed(payload_id, payload.status if payload else "missing")
        result = Processed(payload_id, PayloadStatus.PROCESSED)
        finished = False
        try:
            if alerts is None:
                alerts = self.planner.parse(payload.source, payload.body.encode("utf-8"))
            finished = self._apply_all(alerts, payload_id, result)
        except PayloadError as exc:  # stored by an older receiver that checked less
            result.status, result.error = PayloadStatus.REJECTED, str(exc)
        except (ConflictError, IntegrityError, StoreUnavailable):
            raise  # lost every retry to other writers, or the store is away: leave it pending, try again later
        except DomainError as exc:
            result.status, result.error = PayloadStatus.FAILED, str(exc)
        except DBAPIError:
            raise  # the store is unreachable or busy: leave it pending
        except Exception as exc:  # noqa: BLE001 - a bug must not make a payload retry forever
            log.exception("payload %s failed", payload_id)
            result.status, result.error = PayloadStatus.FAILED, one_line(exc)
        if not finished:
            self._finish(payload_id, result.status, result.error)
        if result.status != PayloadStatus.PROCESSED:
            log.warning("payload %s %s: %s", payload_id, result.status, result.error)
        return result

    def process_batch(
        self, work: list[tuple[int, list[Alert] | None]], process: Callable[[int, list[Alert] | None], Processed] | None = None,
    ) -> list[Processed | Exception]:
        """Process several stored payloads, in order, in one transaction (`Database.joined`) with the
        chain head held for all of them (`timeline.hold_head`). The batch is planned in memory and
        written with a few statements (`alert_batch.BatchApplier`; a payload it does not plan is
        applied by `process` at its place). If those writes find the store changed under the plan,
        the batch is undone and applied one payload at a time instead, each in a savepoint — which
        retries races as the one-by-one path always did. Each payload's outcome, or what it raised
        (it is then left pending, its part undone); if the commit itself fails, every payload gets
        that error — nothing of the batch is kept, and all stay pending for `recover`."""
        one = process or self.process
        try:
            with self.svc.db.joined() as session:
                timeline.hold_head(session)
                try:
                    with self.svc.db.write():  # a savepoint: undone whole if the plan meets a change
                        return BatchApplier(self, session).run(work, one)
                except Exception as exc:  # noqa: BLE001 - applied one by one instead, below
                    log.info("a batch of %d payloads is applied one by one: %s", len(work), one_line(exc))
                return self._one_by_one(work, one)
        except Exception as exc:  # noqa: BLE001 - the commit failed: nothing of the batch is kept
            log.warning("a batch of %d payloads left pending: %s", len(work), one_line(exc))
            return [exc] * len(work)

    def _one_by_one(
        self, work: list[tuple[int, list[Alert] | None]], process: Callable[[int, list[Alert] | None], Processed],
    ) -> list[Processed | Exception]:
        outcomes: list[Processed | Exception] = []
        for payload_id, alerts in work:
            try:
                with self.svc.db.write():  # a savepoint: a payload that raises is undone alone
                    outcomes.append(process(payload_id, alerts))
            except Exception as exc:  # noqa: BLE001 - left pending; the others go on
                log.warning("payload %s left pending: %s", payload_id, one_line(exc))
                outcomes.append(exc)
        return outcomes

    def _finish(self, payload_id: int, status: str, error: str = "") -> None:
        with self.svc.db.write() as session:
            inbound.finish_payload(session, payload_id, status, self.svc.clock.now(), error)

    def payload(self, payload_id: int) -> inbound.StoredPayload | None:
        with self.svc.db.read() as session:
            return inbound.get_payload(session, payload_id)

    def retry(self, payload_id: int) -> Processed:
        """Process a failed payload again, once (`eim payloads retry`): it is made pending and
        processed as the receiver would. Status "not failed" when it was not failed (or another
        retry took it first). Raises like `process` when the store is busy: it is then left
        pending, and a running receiver processes it."""
        with self.svc.db.write() as session:
            requeued = inbound.requeue_failed(session, payload_id)
        if not requeued:
            return Processed(payload_id, "not failed")
        return self.process(payload_id)

    def recover(self, older_than: timedelta | None = None) -> int:
        """Process what was stored and left pending (a crash, a busy store); returns how many were.
        They are read and parsed 64 at a time and processed as the receiver's batches are
        (`process_batch`); a body that no longer parses goes one by one, and is rejected there."""
        before = self.svc.clock.now() - older_than if older_than is not None else None
        done = 0
        while True:
            with self.svc.db.read() as session:
                ids = inbound.pending_payloads(session, before, limit=200)
            progressed = False
            for start in range(0, len(ids), 64):
                outcomes = self.process_batch(self._pending(ids[start:start + 64]))
                processed = sum(not isinstance(o, Exception) for o in outcomes)
                done += processed
                progressed = progressed or processed > 0
            if not progressed or len(ids) < 200:
                return done

    def _pending(self, ids: list[int]) -> list[tuple[int, list[Alert] | None]]:
        """Those of `ids` still pending, with their alerts (None: the one-by-one path reads it)."""
        with self.svc.db.read() as session:
            payloads = inbound.get_payloads(session, ids)
        work: list[tuple[int, list[Alert] | None]] = []
        for payload in payloads:
            if payload.status != PayloadStatus.PENDING:
                continue  # another receiver finished it meanwhile
            try:
                alerts: list[Alert] | None = self.planner.parse(payload.source, payload.body.encode("utf-8"))
            except Exception:  # noqa: BLE001 - `process` reads it again and says why
                alerts = None
            work.append((payload.id, alerts))
        return work

    def _apply_all(self, alerts: list[Alert], payload_id: int, result: Processed) -> bool:
        """Apply the alerts unit by unit; True when the last unit also marked the payload processed."""
        keys = [a.dedup_key for a in alerts]
        remaining = list(alerts)
        finished = False
        attempt = 0
        while remaining:
            snapshot = self._read(alerts[0].source, keys)
            unit = self.planner.next_unit(remaining, keys, snapshot, payload_id)
            last = len(unit.steps) == len(remaining)
            try:
                number = self._execute(unit, payload_id, finish=last)
            except (ConflictError, IntegrityError):
                # Another receiver or a person changed an alert or its incident since we read them.
                attempt += 1
                if attempt >= self.attempts:
                    raise
                # Exponential backoff with jitter, so racing receivers stop colliding (≤ 0.25 s).
                time.sleep(random.uniform(0, min(0.25, 0.002 * 2**attempt)))
                continue
            attempt = 0
            finished = last and unit.outcome is not Outcome.SKIP
            result.outcomes.extend(s.decision.outcome.value for s in unit.steps)
            if number is not None and number not in result.incidents:
                result.incidents.append(number)
            remaining = remaining[len(unit.steps):]
        return finished

    def _read(self, source: str, keys: list[str]) -> Snapshot:
        with self.svc.db.read() as session:
            stored = inbound.find_alerts(session, source, keys)
            numbers = sorted({s.incident_number for s in stored.values() if s.incident_number is not None})
            incidents = {n: repository.get_incident(session, n) for n in numbers}
        return Snapshot(stored, incidents)

    def _execute(self, unit: Unit, payload_id: int, finish: bool) -> int | None:
        """Apply one unit in one transaction; the incident it concerned."""
        svc = self.svc
        now = svc.clock.now()
        first = unit.steps[0]
        out = unit.outcome

        def record(session: Session, target: Incident | int | None) -> None:
            number = target.number if isinstance(target, Incident) else target
            for step in unit.steps:
                if step.stored is None:
                    inbound.insert_alert(session, step.alert, number, payload_id, now)
                else:
                    inbound.update_alert(session, step.stored, step.alert, number, payload_id, now)
            if finish:
                inbound.finish_payload(session, payload_id, PayloadStatus.PROCESSED, now)

        if out is Outcome.SKIP:
            return first.decision.incident
        if out is Outcome.TRACK:
            with svc.db.write() as session:
                record(session, first.decision.incident)
            return first.decision.incident
        routing = self.planner.route(first.routing_alert)
        if out in (Outcome.OPEN, Outcome.OPEN_LINKED):
            parent = first.decision.incident if out is Outcome.OPEN_LINKED else None
            event = (_received(first, payload_id) if first.alert.status is not AlertStatus.RESOLVED
                     else rules.resolved_event(first.alert, payload_id, 1, None))
            report = incident_report(first.alert, routing, now, parent)
            window = maintenance_window(svc, routing) if first.alert.status is AlertStatus.FIRING else None
            if window is None:
                created = svc.log_incident(report, ACTOR, [event], record)
            else:
                created = svc.log_incident(window.report(report), ACTOR, [event, *window.events()],
                                           window.also(record, ACTOR), window.shape)
            return created.number
        target = unit.target
        assert target is not None, "a unit on an incident knows it"
        if out is Outcome.REOPEN:
            policy = svc.ref.policy(target.priority, target.service)

            def reopened(i: Incident, at: datetime) -> Incident:
                return rules.record_firing(reopen(i, at, "the alert fired again", policy), at)

            svc.change(target.number, ACTOR, reopened, target.version, note="the alert fired again",
                       extra=[_received(first, payload_id)], also=record)
            return target.number
        apply, extra = self._batch(unit, payload_id)
        svc.change(target.number, ACTOR, apply, target.version, extra=extra, also=record)
        return target.number

    def _batch(
        self, unit: Unit, payload_id: int
    ) -> tuple[Callable[[Incident, datetime], Incident], list[EventDraft]]:
        """The change and the timeline lines for several alerts adding to one incident."""
        target = unit.target
        resolving = [s for s in unit.steps if s.decision.outcome is Outcome.RESOLVE]
        outside = 0
        if resolving:
            with self.svc.db.read() as session:
                outside = inbound.firing_count(session, target.number, exclude=unit.keys)
        firing = {s.alert.dedup_key: s.stored is not None and s.stored.status is AlertStatus.FIRING for s in unit.steps}
        extra = []
        for step in unit.steps:
            if (now_firing := firing_after(step)) is not None:
                firing[step.alert.dedup_key] = now_firing
            count = _count(step)
            if step.decision.outcome is Outcome.NOTE:
                extra.append(rules.acknowledged_event(step.alert, payload_id, count))
            elif step.decision.outcome is Outcome.RESOLVE:
                extra.append(rules.resolved_event(step.alert, payload_id, count, outside + sum(firing.values())))
            elif step.alert.status is AlertStatus.RESOLVED:  # joins already resolved
                extra.append(rules.resolved_event(step.alert, payload_id, 1, None))
            else:
                extra.append(_received(step, payload_id))
        all_clear = outside + sum(firing.values()) == 0
        # The rule of the alert that cleared the incident decides whether it resolves itself.
        rule = self.planner.route(resolving[-1].routing_alert) if resolving and all_clear else None
        codes = frozenset(self.svc.ref.resolution_codes)

        def apply(i: Incident, at: datetime) -> Incident:
            after = i
            for step in unit.steps:
                if step.alert.status is AlertStatus.FIRING:
                    after = rules.record_firing(after, at)
                elif step.decision.outcome is Outcome.JOIN:  # a new alert, already resolved
                    after = after.replace(alert_count=after.alert_count + 1)
            if resolving:
                after = rules.record_resolved(after, all_clear)
            if rule is not None and rule.auto_resolve:
                after = rules.auto_resolve(after, at, rule.resolution_code, codes)
            return after

        return apply, extra
