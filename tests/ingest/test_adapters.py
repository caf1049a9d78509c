"""Webhook bodies → alerts, with the shapes real senders use, and the refusals bad bodies get."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest

from eim_tui.domain.alerts import AlertStatus, parse_time
from eim_tui.ingest import adapters
from eim_tui.ingest.adapters import PayloadError

from .samples import am_alert, am_payload, generic_event, pd_event, raw


def test_a_real_alertmanager_firing_webhook() -> None:
    (alert,) = adapters.parse("alertmanager", raw("alertmanager_firing.json"))
    assert alert.source == "alertmanager"
    assert alert.dedup_key == "9292d367436bf9e6"
    assert alert.status is AlertStatus.FIRING
    assert (alert.name, alert.severity, alert.summary) == ("DiskFull", "critical", "Disk almost full on db01")
    assert alert.labels == {"alertname": "DiskFull", "instance": "db01:9100", "severity": "critical"}
    # Nine fractional digits are read (to the microsecond), Go's zero end time means "no end yet".
    assert alert.starts_at == datetime(2026, 11, 26, 21, 56, 58, 426464, tzinfo=UTC)
    assert alert.ends_at is None
    assert alert.group_key == '{}:{alertname="DiskFull", instance="db01:9100"}'
    # The receiver name arrives regex-escaped; it is kept as sent, for the record.
    assert alert.sender == "alertmanager:web\\.hook"
    assert alert.fields()["host"] == "db01"


def test_a_real_alertmanager_resolved_webhook() -> None:
    (alert,) = adapters.parse("alertmanager", raw("alertmanager_resolved.json"))
    assert alert.status is AlertStatus.RESOLVED
    assert alert.dedup_key == "9292d367436bf9e6"
    assert alert.ends_at == datetime(2026, 11, 26, 21, 57, 1, tzinfo=UTC)


def test_a_group_of_alertmanager_alerts_shares_its_group_key() -> None:
    body = am_payload(am_alert(instance="db01:9100", fingerprint="aaa"), am_alert(instance="db02:9100", fingerprint="bbb"),
                      group_key='{}:{alertname="DiskFull"}')
    alerts = adapters.parse("alertmanager", body)
    assert [a.dedup_key for a in alerts] == ["aaa", "bbb"]
    assert {a.group_key for a in alerts} == {'{}:{alertname="DiskFull"}'}


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2026-11-26T09:00:00.123456789Z", datetime(2026, 11, 26, 9, 0, 0, 123456, tzinfo=UTC)),
        ("2026-11-26T09:00:00Z", datetime(2026, 11, 26, 9, 0, tzinfo=UTC)),
        ("2015-07-17T08:42:58.315+0000", datetime(2015, 7, 17, 8, 42, 58, 315000, tzinfo=UTC)),
        ("2026-11-26T10:00:00+01:00", datetime(2026, 11, 26, 9, 0, tzinfo=UTC)),
        ("2026-11-26T04:30:00.5-04:30", datetime(2026, 11, 26, 9, 0, 0, 500000, tzinfo=UTC)),
        ("0001-01-01T00:00:00Z", None),
    ],
)
def test_times_as_go_and_pagerduty_write_them(text: str, expected: datetime | None) -> None:
    assert parse_time(text) == expected


@pytest.mark.parametrize("text", ["yesterday", "2026-11-26", "2026-11-26T09:00:00", "2026-02-30T09:00:00Z"])
def test_times_that_are_not_rfc3339_are_refused(text: str) -> None:
    with pytest.raises(ValueError):
        parse_time(text)


def test_pagerduty_trigger_from_the_api_reference() -> None:
    (alert,) = adapters.parse("pagerduty", raw("pagerduty_trigger.json"))
    assert (alert.source, alert.dedup_key, alert.status) == ("pagerduty", "samplekeyhere", AlertStatus.FIRING)
    assert alert.name == "DISK at 99% on machine prod-datapipe03.example.com"
    assert alert.severity == "critical"
    assert alert.labels == {"source": "prod-datapipe03.example.com", "severity": "critical", "component": "mysql",
                            "group": "prod-datapipe", "class": "deploy"}
    assert alert.annotations["load avg"] == "0.75"
    assert alert.starts_at == datetime(2015, 7, 17, 8, 42, 58, 315000, tzinfo=UTC)
    assert alert.sender == "Sample Monitoring Service"


def test_pagerduty_acknowledge_and_resolve_name_the_alert_by_dedup_key() -> None:
    (ack,) = adapters.parse("pagerduty", pd_event("acknowledge", "k1"))
    (res,) = adapters.parse("pagerduty", pd_event("resolve", "k1"))
    assert (ack.dedup_key, ack.status) == ("k1", AlertStatus.ACKNOWLEDGED)
    assert (res.dedup_key, res.status) == ("k1", AlertStatus.RESOLVED)


def test_a_pagerduty_trigger_without_a_key_gets_the_same_derived_key_each_time() -> None:
    (first,) = adapters.parse("pagerduty", pd_event(dedup_key=None))
    (again,) = adapters.parse("pagerduty", pd_event(dedup_key=None))
    (other,) = adapters.parse("pagerduty", pd_event(dedup_key=None, summary="another thing"))
    assert first.dedup_key == again.dedup_key != other.dedup_key


def test_a_generic_event_with_everything() -> None:
    body = generic_event(
        dedup_key="synthetics:checkout", status="firing", severity="Warning", description="p95 2.4s for 10 min",
        sender="synthetics", service="checkout-web", configuration_item="checkout-web-01", impact=2, urgency=1,
        labels={"team": "web", "region": "eu-west-1"}, started_at="2026-11-26T08:50:00Z",
        url="https://synthetics/checks/42", reporter={"name": "Synthetic checks", "contact": "web-oncall@example.com"},
    )
    (alert,) = adapters.parse("generic", body)
    assert (alert.dedup_key, alert.status, alert.severity, alert.sender) == (
        "synthetics:checkout", AlertStatus.FIRING, "warning", "synthetics")
    assert alert.overrides == {"title": "Checkout latency above 2s", "service": "checkout-web",
                               "configuration_item": "checkout-web-01", "impact": 2, "urgency": 1,
                               "reporter_name": "Synthetic checks", "reporter_contact": "web-oncall@example.com"}
    assert alert.labels == {"team": "web", "region": "eu-west-1"}
    assert alert.starts_at == datetime(2026, 11, 26, 8, 50, tzinfo=UTC)


def test_a_minimal_generic_event_keys_itself_by_sender_and_title() -> None:
    (a,) = adapters.parse("generic", generic_event())
    (b,) = adapters.parse("generic", generic_event(sender="cron"))
    assert a.status is AlertStatus.FIRING and a.dedup_key != b.dedup_key


@pytest.mark.parametrize(
    ("source", "body", "status", "reason"),
    [
        ("alertmanager", b"not json {", 400, "the body is not JSON"),
        ("alertmanager", b"\xff\xfe{}", 400, "the body is not UTF-8"),
        ("alertmanager", b"   ", 400, "the body is empty"),
        ("alertmanager", b"[1, 2]", 422, "the body must be a JSON object, not a list"),
        ("alertmanager", b'{"alerts": []}', 422, "version is missing"),
        ("alertmanager", b'{"version": "3", "alerts": []}', 422, "payload version '3' is not supported"),
        ("alertmanager", b'{"version": "4"}', 422, "alerts is missing"),
        ("alertmanager", am_payload({**am_alert(), "fingerprint": None}), 422, "alerts[0].fingerprint is missing"),
        ("alertmanager", am_payload({**am_alert(), "status": "pending"}), 422, "alerts[0].status must be firing or resolved"),
        ("alertmanager", am_payload({**am_alert(), "labels": {}}), 422, "alerts[0].labels is missing or empty"),
        ("alertmanager", am_payload({**am_alert(), "startsAt": "soon"}), 422, "alerts[0].startsAt: 'soon' is not"),
        ("alertmanager", am_payload({**am_alert(), "labels": {"a": ["x"]}}), 422, "alerts[0].labels.a must be a string"),
        ("pagerduty", b'{"event_action": "explode"}', 422, "event_action must be trigger, acknowledge or resolve"),
        ("pagerduty", b'{"event_action": "resolve"}', 422, "dedup_key is missing"),
        ("pagerduty", b'{"event_action": "trigger"}', 422, "payload is missing"),
        ("pagerduty", pd_event(severity="bad"), 422, "payload.severity must be one of critical, error, warning, info"),
        ("pagerduty", json.dumps({"event_action": "trigger", "payload": {"summary": "x", "severity": "info"}}).encode(),
         422, "payload.source is missing"),
        ("generic", b"{}", 422, "the body.title is missing"),
        ("generic", generic_event(status="maybe"), 422, "status must be firing or resolved"),
        ("generic", generic_event(impact=7), 422, "impact must be 1 (high), 2 (medium) or 3 (low)"),
        ("generic", generic_event(labels=["x"]), 422, "the body.labels must be a JSON object"),
        # Found by fuzzing and schemathesis (docs/ingest.openapi.yaml): each was a 5xx or a failed payload.
        ("generic", generic_event(started_at="9999-12-31T23:59:59-23:59"), 422, "is not a real date and time"),
        ("generic", generic_event(title="\u0000 \u0000"), 422, "the body.title is empty"),
        ("generic", b'{"title": "x", "impact": ' + b"1" * 5000 + b"}", 400, "the body is not JSON eim can read"),
        ("alertmanager", am_payload({**am_alert(), "endsAt": "soon"}), 422, "alerts[0].endsAt: 'soon' is not"),
        ("alertmanager", am_payload(am_alert(starts=" 2026-11-26T09:00:00Z")), 422, "is not an RFC 3339 time"),
        ("alertmanager", b'{"version": true, "alerts": []}', 422, "payload version True is not supported"),
        ("pagerduty", pd_event(timestamp="٢٠٢٦-١١-٢٦T09:00:00Z"), 422, "payload.timestamp: '٢٠٢٦-١١-٢٦T09:00:00Z' is not"),
        ("generic", generic_event(status="x" * 5000), 422, "status must be firing or resolved, not 'xxxx"),
    ],
)
def test_bad_bodies_are_refused_with_a_status_and_one_line(source: str, body: bytes, status: int, reason: str) -> None:
    with pytest.raises(PayloadError) as caught:
        adapters.parse(source, body)
    assert caught.value.status == status
    assert reason in str(caught.value)
    assert "\n" not in str(caught.value)


def test_nul_characters_do_not_reach_the_store() -> None:
    (alert,) = adapters.parse("generic", generic_event(title="bad\u0000title", description="x\u0000y"))
    assert "\x00" not in alert.name and "\x00" not in alert.description


def test_lone_surrogates_become_replacement_characters() -> None:
    """JSON can write "\\ud800"; neither SQLite nor PostgreSQL can keep it (the payload failed)."""
    body = b'{"title": "disk \\ud800 full", "labels": {"k\\udfff": "v\\ud800"}}'
    (alert,) = adapters.parse("generic", body)
    assert alert.name == "disk \ufffd full" and alert.labels == {"k\ufffd": "v\ufffd"}


def test_pagerduty_custom_details_may_nest_as_pagerduty_allows() -> None:
    (alert,) = adapters.parse("pagerduty", pd_event(custom_details={"free space": "1%", "disks": {"sda": [99, 98]}}))
    assert alert.annotations == {"free space": "1%", "disks": '{"sda": [99, 98]}'}


def test_json_numbers_that_equal_the_allowed_ones_are_taken() -> None:
    (alert,) = adapters.parse("generic", generic_event(impact=1.0, urgency=2))
    assert alert.overrides["impact"] == 1 and type(alert.overrides["impact"]) is int
    assert adapters.parse("alertmanager", am_payload(am_alert()).replace(b'"version": "4"', b'"version": 4'))


def test_an_error_message_quotes_a_long_value_shortly() -> None:
    with pytest.raises(PayloadError) as caught:
        adapters.parse("generic", generic_event(status="x" * 5000))
    assert len(str(caught.value)) < 120
