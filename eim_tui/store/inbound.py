"""The ingest receiver's rows: raw payloads as received, and alerts as monitoring knows them.

A payload is stored before anything is done with it (`save_payload`, its own transaction), so a
crash loses nothing: `pending_payloads` finds what was stored and not yet processed. Alerts are
unique by (source, dedup key); `update_alert` is guarded by what the caller read, so two
receivers working on one alert cannot both apply it.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any

from sqlalchemy import bindparam, func, insert, select, update
from sqlalchemy.orm import Session

from eim_tui.domain.alert_plan import PayloadStatus
from eim_tui.domain.alerts import Alert, AlertStatus, StoredAlert
from eim_tui.domain.errors import ConflictError
from eim_tui.store.tables import AlertRow, InboundPayloadRow

# The hot path of the receiver writes with Core statements on the tables: the ORM's bulk path costs
# more to build a statement than the database takes to run it.
ALERTS = AlertRow.__table__
PAYLOADS = InboundPayloadRow.__table__


@dataclass(frozen=True, slots=True)
class StoredPayload:
    id: int
    received_at: datetime
    source: str
    content_type: str
    body: str
    remote: str
    status: str
    error: str
    processed_at: datetime | None


def _payload(row: InboundPayloadRow) -> StoredPayload:
    return StoredPayload(row.id, row.received_at, row.source, row.content_type, row.body, row.remote, row.status,
                         row.error, row.processed_at)


def save_payload(
    session: Session, at: datetime, source: str, body: str, content_type: str = "", remote: str = "",
    status: str = PayloadStatus.PENDING, error: str = "",
) -> int:
    # PostgreSQL text cannot hold NUL; a body that has one is refused anyway, and kept readable.
    return session.execute(
        insert(InboundPayloadRow)
        .values(received_at=at, source=source, content_type=content_type[:100], body=body.replace("\x00", "\ufffd"),
                remote=remote[:100], status=status, error=error,
                processed_at=at if status != PayloadStatus.PENDING else None)
        .returning(InboundPayloadRow.id)
    ).scalar_one()


def save_payloads(session: Session, at: datetime, bodies: list[tuple[str, str, str, str]]) -> list[int]:
    """Several pending bodies — (source, body, content type, remote) each — in one statement; their
    ids, in the order given (a group commit: see ingest/server.py)."""
    if not bodies:
        return []
    rows = [{"received_at": at, "source": source, "content_type": content_type[:100], "body": body.replace("\x00", "\ufffd"),
                 "remote": remote[:100], "status": PayloadStatus.PENDING, "error": "", "processed_at": None}
            for source, body, content_type, remote in bodies]
    result = session.execute(insert(PAYLOADS).returning(PAYLOADS.c.id, sort_by_parameter_order=True),
                             rows)
    return list(result.scalars())


def get_payload(session: Session, payload_id: int) -> StoredPayload | None:
    row = session.get(InboundPayloadRow, payload_id)
    return _payload(row) if row is not None else None


def get_payloads(session: Session, payload_ids: list[int]) -> list[StoredPayload]:
    """The payloads among `payload_ids` that exist, in id order."""
    rows = session.execute(select(InboundPayloadRow).where(InboundPayloadRow.id.in_(payload_ids))
                           .order_by(InboundPayloadRow.id)).scalars()
    return [_payload(row) for row in rows]


def pending_payloads(session: Session, received_before: datetime | None = None, limit: int = 500) -> list[int]:
    stmt = select(InboundPayloadRow.id).where(InboundPayloadRow.status == PayloadStatus.PENDING)
    if received_before is not None:
        stmt = stmt.where(InboundPayloadRow.received_at <= received_before)
    return list(session.execute(stmt.order_by(InboundPayloadRow.id).limit(limit)).scalars())


def finish_payload(session: Session, payload_id: int, status: str, at: datetime, error: str = "") -> None:
    """Mark a pending payload done; a payload another receiver finished first is left as it is."""
    session.execute(
        update(PAYLOADS)
        .where(PAYLOADS.c.id == payload_id, PAYLOADS.c.status == PayloadStatus.PENDING)
        .values(status=status, processed_at=at, error=error)
        .execution_options(synchronize_session=False)
    )


def requeue_failed(session: Session, payload_id: int) -> bool:
    """Make a failed payload pending again (`eim payloads retry`); False if it was not failed."""
    done = session.execute(
        update(InboundPayloadRow)
        .where(InboundPayloadRow.id == payload_id, InboundPayloadRow.status == PayloadStatus.FAILED)
        .values(status=PayloadStatus.PENDING, processed_at=None, error="")
        .execution_options(synchronize_session=False)
    )
    return done.rowcount == 1


def payload_counts(session: Session) -> dict[str, int]:
    rows = session.execute(select(InboundPayloadRow.status, func.count()).group_by(InboundPayloadRow.status))
    return {status: count for status, count in rows}


def list_payloads(session: Session, status: str | None = None, limit: int = 100) -> list[StoredPayload]:
    stmt = select(InboundPayloadRow).order_by(InboundPayloadRow.id.desc()).limit(limit)
    if status:
        stmt = stmt.where(InboundPayloadRow.status == status)
    return [_payload(r) for r in session.execute(stmt).scalars()]


# --- alerts -------------------------------------------------------------------------------------


def _alert(row: AlertRow) -> StoredAlert:
    return StoredAlert(row.id, row.source, row.dedup_key, row.incident_id, AlertStatus(row.status), row.name,
                       row.count, row.starts_at, row.ends_at, row.payload_id, dict(row.labels or {}),
                       dict(row.annotations or {}))


def find_alerts(session: Session, source: str, dedup_keys: list[str]) -> dict[str, StoredAlert]:
    """The stored alerts among `dedup_keys`, by key."""
    found: dict[str, StoredAlert] = {}
    unique = sorted(set(dedup_keys))
    for start in range(0, len(unique), 500):
        rows = session.execute(
            select(AlertRow).where(AlertRow.source == source, AlertRow.dedup_key.in_(unique[start : start + 500]))
        ).scalars()
        found.update((r.dedup_key, _alert(r)) for r in rows)
    return found


def find_alert(session: Session, source: str, dedup_key: str) -> StoredAlert | None:
    row = session.execute(
        select(AlertRow).where(AlertRow.source == source, AlertRow.dedup_key == dedup_key)
    ).scalar_one_or_none()
    return _alert(row) if row is not None else None


def list_alerts(session: Session, source: str | None = None) -> list[StoredAlert]:
    stmt = select(AlertRow).order_by(AlertRow.id)
    if source:
        stmt = stmt.where(AlertRow.source == source)
    return [_alert(r) for r in session.execute(stmt).scalars()]


def firing_count(session: Session, incident_number: int, exclude: list[str] | None = None) -> int:
    """How many of an incident's alerts are still firing, not counting those keyed in `exclude`."""
    stmt = select(func.count()).select_from(AlertRow).where(
        AlertRow.incident_id == incident_number, AlertRow.status == AlertStatus.FIRING.value
    )
    if exclude:
        stmt = stmt.where(AlertRow.dedup_key.not_in(exclude))
    return session.execute(stmt).scalar_one()


def insert_alert(
    session: Session, alert: Alert, incident_number: int | None, payload_id: int, at: datetime
) -> None:
    """A new alert; raises IntegrityError when another receiver stored the same one first."""
    session.execute(insert(ALERTS), alert_row(alert, incident_number, payload_id, at))  # one cached statement


def alert_row(alert: Alert, incident_number: int | None, payload_id: int, at: datetime) -> dict[str, Any]:
    """The column values of a new alert row (`insert_alert`, `insert_alerts`)."""
    return {
        "source": alert.source, "dedup_key": alert.dedup_key, "incident_id": incident_number,
        "status": _status(alert, None), "name": alert.name[:300], "labels": dict(alert.labels),
        "annotations": dict(alert.annotations), "starts_at": alert.starts_at, "ends_at": alert.ends_at,
        "first_seen": at, "last_seen": at, "count": 1 if alert.status is not AlertStatus.ACKNOWLEDGED else 0,
        "payload_id": payload_id,
    }


def alert_changes(
    stored: StoredAlert, alert: Alert, incident_number: int | None, payload_id: int, at: datetime
) -> dict[str, Any]:
    """The columns `alert` changes on the row read as `stored` (`update_alert`, `update_alerts`)."""
    values = {"incident_id": incident_number, "status": _status(alert, stored), "last_seen": at, "payload_id": payload_id}
    if alert.status is AlertStatus.FIRING:
        values.update(count=stored.count + 1, ends_at=None, name=alert.name[:300], labels=dict(alert.labels),
                      annotations=dict(alert.annotations))
        if alert.starts_at is not None:
            values["starts_at"] = alert.starts_at
    elif alert.status is AlertStatus.RESOLVED:
        values["ends_at"] = alert.ends_at or at
    return values


def stored_after(stored: StoredAlert | None, alert: Alert, values: dict[str, Any]) -> StoredAlert:
    """What the row read as `stored` (None: a new one) holds once `values` are written: a batch
    plans its next alerts on it before anything is written (`services.alert_batch`)."""
    if stored is None:
        stored = StoredAlert(0, alert.source, alert.dedup_key, None, AlertStatus.FIRING, "", 0, None, None, None)
    return replace(
        stored, incident_number=values.get("incident_id", stored.incident_number), status=AlertStatus(values["status"]),
        name=values.get("name", stored.name), count=values.get("count", stored.count),
        starts_at=values.get("starts_at", stored.starts_at), ends_at=values.get("ends_at", stored.ends_at),
        payload_id=values.get("payload_id", stored.payload_id), labels=dict(values.get("labels", stored.labels)),
        annotations=dict(values.get("annotations", stored.annotations)),
    )


def update_alert(
    session: Session, stored: StoredAlert, alert: Alert, incident_number: int | None, payload_id: int, at: datetime
) -> None:
    """Record `alert` over the row read as `stored`; ConflictError if the row changed since."""
    update_alerts(session, [(stored, alert_changes(stored, alert, incident_number, payload_id, at))])


# Columns of an alert row a repeat rewrites with what it most often had already (`what_changed`).
_SAME_AS_READ = {"name": "name", "labels": "labels", "annotations": "annotations", "starts_at": "starts_at",
                 "ends_at": "ends_at"}


def what_changed(stored: StoredAlert, values: dict[str, Any]) -> dict[str, Any]:
    """`values` without the columns that hold the same as the row read as `stored` (a firing alert
    repeated carries its name, labels and annotations again: writing them again costs the most)."""
    return {k: v for k, v in values.items() if k not in _SAME_AS_READ or getattr(stored, _SAME_AS_READ[k]) != v}


def insert_alerts(session: Session, rows: list[dict[str, Any]]) -> None:
    """New alert rows (`alert_row`) in one statement; IntegrityError when another receiver stored one first."""
    if rows:
        session.execute(insert(ALERTS), rows)


def update_alerts(session: Session, changes: list[tuple[StoredAlert, dict[str, Any]]]) -> None:
    """Write each row's `alert_changes` over the row read as its `StoredAlert`, rows of one shape
    in one statement; ConflictError if any row changed since it was read (nothing is then kept:
    the caller's transaction is to be rolled back)."""
    shapes: dict[tuple[tuple[str, ...], bool, bool], list[dict[str, Any]]] = {}
    for stored, values in changes:
        guard = {"w_id": stored.id, "w_count": stored.count, "w_status": stored.status.value,
                     "w_incident": stored.incident_number, "w_payload": stored.payload_id}
        key = (tuple(sorted(values)), stored.incident_number is None, stored.payload_id is None)
        shapes.setdefault(key, []).append({**guard, **{f"v_{k}": v for k, v in values.items()}})
    many = session.get_bind().dialect.supports_sane_multi_rowcount
    for key, params in shapes.items():
        statement = _update_statement(*key)
        batches = [params] if many or len(params) == 1 else [[p] for p in params]
        for batch in batches:
            result = session.execute(statement, batch if len(batch) > 1 else batch[0])
            if result.rowcount != len(batch):
                first = changes[0][0]
                raise ConflictError(f"alert {first.dedup_key}", first.count, -1, by="another receiver")


def finish_payloads(session: Session, payload_ids: list[int], status: str, at: datetime) -> None:
    """Mark pending payloads done in one statement (see `finish_payload`)."""
    if payload_ids:
        session.execute(
            update(PAYLOADS)
            .where(PAYLOADS.c.id.in_(payload_ids), PAYLOADS.c.status == PayloadStatus.PENDING)
            .values(status=status, processed_at=at, error="")
            .execution_options(synchronize_session=False)
        )


_UPDATES: dict[tuple[tuple[str, ...], bool, bool], Any] = {}


def _update_statement(columns: tuple[str, ...], no_incident: bool, no_payload: bool):
    """The guarded UPDATE of an alert row for these columns, built once and cached: building and
    coercing a statement per alert cost more than running it (the receiver's hot path)."""
    key = (columns, no_incident, no_payload)
    if (statement := _UPDATES.get(key)) is None:
        statement = _UPDATES[key] = (
            update(ALERTS)
            .where(ALERTS.c.id == bindparam("w_id"), ALERTS.c.count == bindparam("w_count"),
                   ALERTS.c.status == bindparam("w_status"),
                   ALERTS.c.incident_id.is_(None) if no_incident else ALERTS.c.incident_id == bindparam("w_incident"),
                   ALERTS.c.payload_id.is_(None) if no_payload else ALERTS.c.payload_id == bindparam("w_payload"))
            .values({column: bindparam(f"v_{column}") for column in columns})
        )
    return statement


def _status(alert: Alert, stored: StoredAlert | None) -> str:
    if alert.status is AlertStatus.ACKNOWLEDGED:  # acknowledging does not stop an alert firing
        return stored.status.value if stored is not None else AlertStatus.FIRING.value
    return alert.status.value


def alert_totals(session: Session) -> tuple[int, int]:
    """(alerts stored, firing notifications counted across them) — what the benchmark checks."""
    return session.execute(select(func.count(), func.coalesce(func.sum(AlertRow.count), 0))).one()
