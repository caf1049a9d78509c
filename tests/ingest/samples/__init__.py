"""Payloads as monitoring systems send them: captured ones (see README.md) and builders for more."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
GO_ZERO_TIME = "0001-01-01T00:00:00Z"


def raw(name: str) -> bytes:
    return (HERE / name).read_bytes()


def am_alert(
    name: str = "DiskFull", instance: str = "db01:9100", fingerprint: str = "9292d367436bf9e6",
    status: str = "firing", starts: str = "2026-11-26T08:59:58.426464311Z", ends: str | None = None,
    severity: str = "critical", **labels: str,
) -> dict[str, Any]:
    """One alert of an Alertmanager v4 webhook, as 0.25 writes it."""
    return {
        "status": status,
        "labels": {"alertname": name, "instance": instance, "severity": severity, **labels},
        "annotations": {"summary": f"{name} on {instance}"},
        "startsAt": starts,
        "endsAt": ends or ("2026-11-26T09:04:00Z" if status == "resolved" else GO_ZERO_TIME),
        "generatorURL": "http://prometheus:9090/graph?g0.expr=up",
        "fingerprint": fingerprint,
    }


def am_payload(*alerts: dict[str, Any], receiver: str = "web\\.hook", group_key: str | None = None) -> bytes:
    """A whole webhook body; the group key defaults to the first alert's name and instance."""
    first = alerts[0]["labels"] if alerts else {}
    status = "firing" if any(a["status"] == "firing" for a in alerts) else "resolved"
    body = {
        "receiver": receiver,
        "status": status,
        "alerts": list(alerts),
        "groupLabels": {"alertname": first.get("alertname", "")},
        "commonLabels": {},
        "commonAnnotations": {},
        "externalURL": "http://alertmanager:9093",
        "version": "4",
        "groupKey": group_key or f'{{}}:{{alertname="{first.get("alertname", "")}", instance="{first.get("instance", "")}"}}',
        "truncatedAlerts": 0,
    }
    return json.dumps(body).encode()


def pd_event(action: str = "trigger", dedup_key: str | None = "samplekeyhere", **payload: Any) -> bytes:
    body: dict[str, Any] = {"routing_key": "R015Z4E7NZ5R9T0TZ9ZJZL8G0XHJ7Y3O", "event_action": action}
    if dedup_key is not None:
        body["dedup_key"] = dedup_key
    if action == "trigger":
        body["payload"] = {"summary": "DISK at 99% on prod-datapipe03", "source": "prod-datapipe03.example.com",
                           "severity": "critical", **payload}
    return json.dumps(body).encode()


def generic_event(**fields: Any) -> bytes:
    return json.dumps({"title": "Checkout latency above 2s", **fields}).encode()
