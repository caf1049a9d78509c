"""`eim payloads retry [ID…|--failed]`: failed payloads processed again, once each, on both backends."""

from __future__ import annotations

import json

import pytest

from eim_tui.bootstrap import open_services
from eim_tui.cli.main import main
from eim_tui.ingest.processor import AlertProcessor
from eim_tui.ingest.routing import load_alert_routing

from .conftest import events, incident_count, payload
from .samples import generic_event, raw


def _run(args: list[str], capsys) -> tuple[int, str, str]:
    status = main(args)
    out, err = capsys.readouterr()
    return status, out, err


def _store_failed(db_url: str, source: str, body: bytes, error: str = "unknown service 'checkout-web'") -> int:
    """A payload as a receiver leaves one whose processing failed (status failed, with why)."""
    svc = open_services(db_url)
    try:
        return AlertProcessor(svc, load_alert_routing(svc.ref)).intake.store_body(
            source, body, "application/json", "10.0.0.1", status="failed", error=error)
    finally:
        svc.db.dispose()


def test_a_failed_payload_is_processed_again_once(db_url, svc, capsys) -> None:
    first = _store_failed(db_url, "alertmanager", raw("alertmanager_firing.json"))
    status, out, err = _run(["payloads", "retry", str(first), "--db", db_url], capsys)
    assert (status, out, err) == (0, f"payload {first}: processed (INC-000001)\n", "")
    assert payload(svc, first).status == "processed" and payload(svc, first).error == ""
    assert incident_count(svc) == 1 and svc.get(1).alert_count == 1
    assert [kind for kind, _ in events(svc, 1)][:2] == ["created", "alert_received"]
    # Once: it is processed now, so a second retry of it is refused and changes nothing.
    status, out, err = _run(["payloads", "retry", str(first), "--db", db_url], capsys)
    assert status == 2 and out == ""
    assert err == (f"eim: payload {first} is processed, not failed: it was applied already; "
                   "only failed payloads are retried\n")
    assert svc.get(1).alert_count == 1
    assert svc.verify_chain().intact


def test_retry_failed_takes_every_failed_one_and_says_what_became_of_each(db_url, svc, capsys) -> None:
    good = _store_failed(db_url, "generic", generic_event(dedup_key="a", service="checkout-web"))
    still_bad = _store_failed(db_url, "generic", generic_event(dedup_key="b", service="nowhere"))
    unreadable = _store_failed(db_url, "pagerduty", b'{"event_action": "explode"}')
    processed = AlertProcessor(svc, load_alert_routing(svc.ref))
    other = processed.accept("alertmanager", raw("alertmanager_firing.json")).payload_id  # pending: not taken
    status, out, err = _run(["payloads", "retry", "--failed", "--json", "--db", db_url], capsys)
    assert status == 1 and err == ""  # one failed again: a script sees it
    results = {r["payload"]: r for r in json.loads(out)}
    assert list(results) == [good, still_bad, unreadable]
    assert (results[good]["status"], results[good]["incidents"]) == ("processed", ["INC-000001"])
    assert results[still_bad]["status"] == "failed" and "unknown service 'nowhere'" in results[still_bad]["error"]
    assert results[unreadable]["status"] == "rejected" and "event_action must be" in results[unreadable]["error"]
    assert [payload(svc, n).status for n in (good, still_bad, unreadable, other)] == [
        "processed", "failed", "rejected", "pending"]
    assert svc.get(1).service == "checkout-web" and incident_count(svc) == 1
    # Text: one line each. The one that failed again is tried again, once, and fails again.
    status, out, _ = _run(["payloads", "retry", "--failed", "--db", db_url], capsys)
    assert status == 1 and out.splitlines() == [
        f"payload {still_bad}: failed again: unknown service 'nowhere'; add one with eim services add NAME --owner-group GROUP"]
    assert svc.verify_chain().intact


def test_nothing_failed_is_said_and_is_no_error(db_url, svc, capsys) -> None:
    assert _run(["payloads", "retry", "--failed", "--db", db_url], capsys) == (0, "no failed payloads to retry\n", "")
    assert _run(["payloads", "retry", "--failed", "--json", "--db", db_url], capsys) == (0, "[]\n", "")


@pytest.mark.parametrize(
    ("args", "message"),
    [
        ([], "name the payloads to retry (eim payloads retry ID…) or give --failed for every failed one"),
        (["1", "--failed"], "give payload IDs or --failed, not both"),
        (["999"], "there is no payload 999; see eim payloads"),
        (["0"], "'0' is not a payload id (a number from eim payloads)"),
        (["INC-000001"], "'INC-000001' is not a payload id"),
        (["1", "--rules", "/nonexistent/rules.toml"], "rules.toml"),
    ],
)
def test_bad_retries_say_why_in_one_line_and_change_nothing(db_url, svc, capsys, args, message) -> None:
    first = _store_failed(db_url, "alertmanager", raw("alertmanager_firing.json"))
    assert first == 1
    status, out, err = _run(["payloads", "retry", *args, "--db", db_url], capsys)
    assert status == 2 and out == "" and err.startswith("eim: ") and message in err and err.count("\n") == 1
    assert payload(svc, first).status == "failed" and incident_count(svc) == 0


def test_an_unknown_id_among_good_ones_retries_none(db_url, svc, capsys) -> None:
    first = _store_failed(db_url, "alertmanager", raw("alertmanager_firing.json"))
    status, _, err = _run(["payloads", "retry", str(first), "42", "--db", db_url], capsys)
    assert status == 2 and "there is no payload 42" in err
    assert payload(svc, first).status == "failed" and incident_count(svc) == 0
