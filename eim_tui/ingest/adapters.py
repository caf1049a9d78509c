"""Webhook bodies → `Alert`s: Alertmanager (payload version 4), Grafana Alerting (version 1),
PagerDuty Events v2, generic JSON.

Pure functions, no I/O. Each raises `PayloadError` with the HTTP status to answer and a one-line
reason that names the field at fault, so a sender's mistake is easy to find in its logs.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Callable
from typing import Any

from eim_tui.domain.alert_plan import PayloadError
from eim_tui.domain.alerts import Alert, AlertStatus, parse_time

MAX_TEXT = 10_000  # longer descriptions are cut, so one alert cannot bloat every timeline read
_SURROGATE = re.compile("[\ud800-\udfff]")
# The times `parse_time` reads, exactly as docs/ingest.openapi.yaml describes them (`Time`).
TIME = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}[T ][0-9]{2}:[0-9]{2}:[0-9]{2}(?:[.,][0-9]+)?(?:Z|z|[+-][0-9]{2}:?[0-9]{2})")


def _shape(message: str) -> PayloadError:
    return PayloadError(422, message)


def decode_json(body: bytes) -> Any:
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise PayloadError(400, f"the body is not UTF-8 (byte {exc.start})") from None
    if not text.strip():
        raise PayloadError(400, "the body is empty; send a JSON object")
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise PayloadError(400, f"the body is not JSON: {exc.msg} at line {exc.lineno} column {exc.colno}") from None
    except RecursionError:
        # A body nested thousands of levels deep: bad input (a 4xx, kept as rejected), not a store
        # failure — a 5xx would have Alertmanager retry it forever.
        raise PayloadError(400, "the body nests too deeply to read; send alerts as flat JSON objects") from None
    except ValueError as exc:  # an integer of thousands of digits (Python's int conversion limit)
        raise PayloadError(400, f"the body is not JSON eim can read: {exc}") from None


def _object(value: Any, where: str) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise _shape(f"{where} must be a JSON object, not {_kind(value)}")
    return value


def _shown(value: Any) -> str:
    """A value quoted for a reason: one line, short, nothing a log or terminal would act on."""
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def _kind(value: Any) -> str:
    return {dict: "an object", list: "a list", str: "a string", bool: "true/false", type(None): "null"}.get(
        type(value), "a number"
    )


def _text(obj: dict[str, Any], key: str, where: str, required: bool = False, default: str = "") -> str:
    value = obj.get(key)
    if value is None:
        if required:
            raise _shape(f"{where}.{key} is missing")
        return default
    if not isinstance(value, str):
        raise _shape(f"{where}.{key} must be a string, not {_kind(value)}")
    text = _clean(value)
    if required and not text.strip():
        raise _shape(f"{where}.{key} is empty")
    return text


def _clean(text: str) -> str:
    """Cut to size, without NUL (PostgreSQL text cannot hold it; no sender means one), and with
    U+FFFD for a lone surrogate (JSON can write `"\\ud800"`; no store can keep it)."""
    text = text[:MAX_TEXT].replace("\x00", "")
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        text = _SURROGATE.sub("\ufffd", text)
    return text


def _strings(obj: dict[str, Any], key: str, where: str, nested: bool = False) -> dict[str, str]:
    """A map of strings (labels, annotations); numbers and booleans are written as text, and so
    are lists and objects when `nested` (PagerDuty's custom_details may hold anything)."""
    value = obj.get(key)
    if value is None:
        return {}
    table = _object(value, f"{where}.{key}")
    out = {}
    for k, v in table.items():
        if isinstance(v, (dict, list)) and not nested:
            raise _shape(f"{where}.{key}.{_clean(k)[:60]} must be a string, not {_kind(v)}")
        out[_clean(k)] = _clean("" if v is None else v if isinstance(v, str) else _json_text(v))
    return out


def _json_text(value: Any) -> str:
    """A JSON value as text; one nested too deeply to write is kept as a note saying so."""
    try:
        return json.dumps(value, ensure_ascii=False)[:MAX_TEXT]
    except (RecursionError, ValueError):
        return "(nested too deeply to keep)"


def _time(obj: dict[str, Any], key: str, where: str):
    raw = _text(obj, key, where)
    if not raw:
        return None
    if not TIME.fullmatch(raw):
        raise _shape(f"{where}.{key}: {_shown(raw)} is not an RFC 3339 time like 2026-11-26T09:00:00Z")
    try:
        return parse_time(raw)
    except (ValueError, OverflowError):  # 2026-02-30, or 9999-12-31T23:59:59-23:59 (past year 9999 in UTC)
        raise _shape(f"{where}.{key}: {_shown(raw)} is not a real date and time") from None


def _derived_key(*parts: str) -> str:
    return hashlib.sha256("\x1f".join(parts).encode()).hexdigest()[:32]


# --- Prometheus Alertmanager -------------------------------------------------------------------


def alertmanager(data: Any) -> list[Alert]:
    """An Alertmanager webhook (version 4): one alert per entry of `alerts`, deduplicated by
    fingerprint. The group key ties alerts sent together."""
    body = _object(data, "the body")
    version = body.get("version")
    if version is None:
        raise _shape("version is missing; is this an Alertmanager webhook (version \"4\")?")
    if not isinstance(version, bool) and version in ("1", 1):
        return grafana(body)  # Grafana Alerting's webhook, pointed at the Alertmanager endpoint
    if isinstance(version, bool) or version not in ("4", 4):
        raise _shape(f"payload version {_shown(version)} is not supported; Alertmanager sends \"4\"")
    alerts = body.get("alerts")
    if not isinstance(alerts, list):
        raise _shape("alerts is missing or not a list" if alerts is None else f"alerts must be a list, not {_kind(alerts)}")
    group_key = _text(body, "groupKey", "the body")
    receiver = _text(body, "receiver", "the body")
    common = _strings(body, "commonAnnotations", "the body")
    out = []
    for index, raw in enumerate(alerts):
        where = f"alerts[{index}]"
        entry = _object(raw, where)
        status = _text(entry, "status", where, required=True)
        if status not in ("firing", "resolved"):
            raise _shape(f"{where}.status must be firing or resolved, not {_shown(status)}")
        labels = _strings(entry, "labels", where)
        if not labels:
            raise _shape(f"{where}.labels is missing or empty")
        annotations = {**common, **_strings(entry, "annotations", where)}
        ends_at = _time(entry, "endsAt", where)  # checked while firing too: a bad time is a bad body
        name = labels.get("alertname") or "alert"
        summary = annotations.get("summary") or annotations.get("message") or ""
        out.append(Alert(
            source="alertmanager",
            dedup_key=_text(entry, "fingerprint", where, required=True),
            status=AlertStatus(status),
            name=name,
            summary=summary,
            description=annotations.get("description", ""),
            severity=labels.get("severity", "").lower(),
            labels=labels,
            annotations=annotations,
            starts_at=_time(entry, "startsAt", where),
            ends_at=ends_at if status == "resolved" else None,
            group_key=group_key,
            url=_text(entry, "generatorURL", where),
            sender=f"alertmanager:{receiver}" if receiver else "alertmanager",
        ))
    return out


# --- Grafana Alerting ---------------------------------------------------------------------------

# Per-alert links Grafana sends, kept as annotations of these names so the incident keeps them.
GRAFANA_LINKS = {"dashboardURL": "dashboard_url", "panelURL": "panel_url", "silenceURL": "silence_url",
                 "imageURL": "image_url"}


def grafana(data: Any) -> list[Alert]:
    """A Grafana Alerting webhook (version 1): Alertmanager's shape plus, per alert, the values
    that fired it and links to its dashboard, panel and silence form. Deduplicated by fingerprint;
    alerts of one `groupKey` share an incident. `title`, `state` and `message` (which Grafana is
    deprecating) describe the whole group and are not read: each alert says its own."""
    body = _object(data, "the body")
    version = body.get("version")
    if version is None:
        raise _shape("version is missing; is this a Grafana Alerting webhook (version \"1\")?")
    if isinstance(version, bool) or version not in ("1", 1):
        raise _shape(f"payload version {_shown(version)} is not supported; Grafana Alerting sends \"1\"")
    alerts = body.get("alerts")
    if not isinstance(alerts, list):
        raise _shape("alerts is missing or not a list" if alerts is None else f"alerts must be a list, not {_kind(alerts)}")
    group_key = _text(body, "groupKey", "the body")
    receiver = _text(body, "receiver", "the body")
    common = _strings(body, "commonAnnotations", "the body")
    org = body.get("orgId")
    org_text = str(org) if isinstance(org, (int, str)) and not isinstance(org, bool) else ""
    out = []
    for index, raw in enumerate(alerts):
        where = f"alerts[{index}]"
        entry = _object(raw, where)
        status = _text(entry, "status", where, required=True)
        if status not in ("firing", "resolved"):
            raise _shape(f"{where}.status must be firing or resolved, not {_shown(status)}")
        labels = _strings(entry, "labels", where)
        if not labels:
            raise _shape(f"{where}.labels is missing or empty")
        annotations = {**common, **_strings(entry, "annotations", where)}
        for field, name in GRAFANA_LINKS.items():
            if link := _text(entry, field, where).strip():
                annotations[name] = link
        values = _strings(entry, "values", where)
        if values:
            annotations["values"] = ", ".join(f"{k}={v}" for k, v in sorted(values.items()))[:MAX_TEXT]
        if value_string := _text(entry, "valueString", where).strip():
            annotations["value_string"] = value_string
        if org_text:
            annotations.setdefault("grafana_org", _clean(org_text)[:100])
        ends_at = _time(entry, "endsAt", where)
        summary = annotations.get("summary") or annotations.get("message") or ""
        out.append(Alert(
            source="grafana",
            dedup_key=_text(entry, "fingerprint", where, required=True)[:200],
            status=AlertStatus(status),
            name=labels.get("alertname") or "alert",
            summary=summary,
            description=annotations.get("description", ""),
            severity=labels.get("severity", "").lower(),
            labels=labels,
            annotations=annotations,
            starts_at=_time(entry, "startsAt", where),
            ends_at=ends_at if status == "resolved" else None,
            group_key=group_key,
            url=_text(entry, "generatorURL", where),
            sender=f"grafana:{receiver}"[:100] if receiver else "grafana",
        ))
    return out


# --- PagerDuty Events API v2 -------------------------------------------------------------------

PAGERDUTY_SEVERITIES = ("critical", "error", "warning", "info")


def pagerduty(data: Any) -> list[Alert]:
    """A PagerDuty Events v2 event: trigger, acknowledge or resolve, deduplicated by `dedup_key`.

    A trigger without a key gets one derived from its routing key, source and summary, so the
    same trigger sent twice is one alert (PagerDuty would make up a random one)."""
    body = _object(data, "the body")
    action = _text(body, "event_action", "the body", required=True)
    if action not in ("trigger", "acknowledge", "resolve"):
        raise _shape(f"event_action must be trigger, acknowledge or resolve, not {_shown(action)}")
    routing_key = _text(body, "routing_key", "the body")
    key = _text(body, "dedup_key", "the body").strip()
    url = _text(body, "client_url", "the body")
    if action != "trigger":
        if not key:
            raise _shape(f"dedup_key is missing; an {action} event names the alert it {action}s")
        status = AlertStatus.ACKNOWLEDGED if action == "acknowledge" else AlertStatus.RESOLVED
        return [Alert("pagerduty", key[:200], status, name=key[:200], url=url, sender="pagerduty")]
    payload = _object(body.get("payload"), "payload") if body.get("payload") is not None else None
    if payload is None:
        raise _shape("payload is missing; a trigger needs payload.summary, payload.source and payload.severity")
    summary = _text(payload, "summary", "payload", required=True)
    source = _text(payload, "source", "payload", required=True)
    severity = _text(payload, "severity", "payload", required=True).lower()
    if severity not in PAGERDUTY_SEVERITIES:
        raise _shape(f"payload.severity must be one of {', '.join(PAGERDUTY_SEVERITIES)}, not {_shown(severity)}")
    labels = {"source": source, "severity": severity}
    for name in ("component", "group", "class"):
        if value := _text(payload, name, "payload"):
            labels[name] = value
    details = payload.get("custom_details")
    annotations = _strings(payload, "custom_details", "payload", nested=True) if isinstance(details, dict) else {}
    if details is not None and not isinstance(details, dict):
        annotations = {"details": _clean(details if isinstance(details, str) else _json_text(details))}
    key = key or _derived_key(routing_key, source, summary)
    return [Alert(
        source="pagerduty",
        dedup_key=key[:200],
        status=AlertStatus.FIRING,
        name=summary[:300],
        summary=summary,
        description=annotations.get("description", "") or annotations.get("details", ""),
        severity=severity,
        labels=labels,
        annotations=annotations,
        starts_at=_time(payload, "timestamp", "payload"),
        url=url,
        sender=_text(body, "client", "the body")[:100] or "pagerduty",
    )]


# --- the generic event (docs/ingest.md) ---------------------------------------------------------

GENERIC_OVERRIDES = ("service", "configuration_item", "category", "subcategory", "assignment_group")


def generic(data: Any) -> list[Alert]:
    """eim's own event shape for scripts and tools without a webhook format of their own."""
    body = _object(data, "the body")
    title = _text(body, "title", "the body", required=True)
    status = _text(body, "status", "the body", default="firing")
    if status not in ("firing", "resolved"):
        raise _shape(f"status must be firing or resolved, not {_shown(status)}")
    sender = _text(body, "sender", "the body")[:100]
    key = _text(body, "dedup_key", "the body").strip() or _derived_key(sender, title)
    # The sender's own title and fields win over the routing rule's.
    overrides: dict[str, Any] = {"title": title.strip()[:300]}
    overrides.update({k: v for k in GENERIC_OVERRIDES if (v := _text(body, k, "the body").strip())})
    for level in ("impact", "urgency"):
        if (value := body.get(level)) is not None:
            if isinstance(value, bool) or value not in (1, 2, 3):
                raise _shape(f"{level} must be 1 (high), 2 (medium) or 3 (low), not {_shown(value)}")
            overrides[level] = int(value)  # 1.0 is 1 in JSON
    ended_at = _time(body, "ended_at", "the body")  # checked while firing too
    reporter = body.get("reporter")
    if reporter is not None:
        person = _object(reporter, "reporter")
        for part in ("name", "contact", "department"):
            if value := _text(person, part, "reporter").strip():
                overrides[f"reporter_{part}"] = value[:200]
    return [Alert(
        source="generic",
        dedup_key=key[:200],
        status=AlertStatus(status),
        name=title[:300],
        summary=title,
        description=_text(body, "description", "the body"),
        severity=_text(body, "severity", "the body").lower(),
        labels=_strings(body, "labels", "the body"),
        starts_at=_time(body, "started_at", "the body"),
        ends_at=ended_at if status == "resolved" else None,
        url=_text(body, "url", "the body"),
        sender=sender or "events",
        overrides=overrides,
    )]


ADAPTERS: dict[str, Callable[[Any], list[Alert]]] = {
    "alertmanager": alertmanager,
    "grafana": grafana,
    "pagerduty": pagerduty,
    "generic": generic,
}


def parse(source: str, body: bytes) -> list[Alert]:
    """The alerts in a stored body of `source`; PayloadError if it is not one."""
    return ADAPTERS[source](decode_json(body))
