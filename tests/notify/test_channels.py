"""Outbound channels through apprise, against real receivers: an SMTP server, a webhook that fails
and recovers, a port nobody listens on; URLs checked and shown without their secrets; and the
outbox on both backends: each delivery sent once, retried with backoff, recorded once."""

from __future__ import annotations

from datetime import timedelta

import pytest

from eim_tui.domain.intake import NewIncident
from eim_tui.domain.model import EventKind
from eim_tui.notify.channels import check_url, mask, send
from eim_tui.services.notifications import DeliveryPolicy, NotificationCases, Outcome
from eim_tui.services.sla import SlaService

from .receivers import Mailbox, Webhook, free_port

# --- URLs ------------------------------------------------------------------------------------


@pytest.mark.parametrize("url", [
    "mailto://bob:secret@mail.example.com?to=bob@example.com",
    "ntfy://eim-oncall",
    "json://127.0.0.1:9/hook",
    "slack://T1JJ3T3L2/A1BRTD4JD/TIiajkdnlazkcOXrIdevi7FQ/#ops",
])
def test_urls_apprise_can_use_are_accepted(url: str) -> None:
    assert check_url(url) is None


@pytest.mark.parametrize("url", ["bogus://x", "mailto://", "not a url", ""])
def test_urls_apprise_cannot_use_are_refused_in_one_line(url: str) -> None:
    problem = check_url(url)
    assert problem is not None and "\n" not in problem and "URL" in problem


def test_secrets_never_show() -> None:
    assert mask("mailto://bob:s3cret@mail.example.com?to=bob@example.com") == \
        "mailto://bob:****@mail.example.com?to=bob@example.com"
    assert "s3cret" not in mask("json://127.0.0.1/hook?token=s3cret")
    slack = mask("slack://T1JJ3T3L2/A1BRTD4JD/TIiajkdnlazkcOXrIdevi7FQ/#ops")
    assert "TIiajkdnlazkcOXrIdevi7FQ" not in slack and slack.endswith("#ops")
    assert "s3cret" not in (check_url("bogus://bob:s3cret@x") or "")


# --- sending -----------------------------------------------------------------------------------


def test_a_mail_reaches_a_real_smtp_server() -> None:
    with Mailbox() as box:
        result = send(box.url("bob@example.com"), "Sev1 INC-000001 escalated: Core switch down",
                      "INC-000001 · Sev1\nAct: eim ack INC-000001")
        assert result.ok, result.error
        assert len(box.messages) == 1
        mail = box.messages[0]
        assert mail["to"] == "bob@example.com"
        assert "INC-000001 escalated" in mail["subject"]
        assert "eim ack INC-000001" in mail["body"]


def test_a_json_webhook_is_received() -> None:
    with Webhook() as hook:
        assert send(hook.url, "title", "body").ok
        assert [(m["title"], m["message"]) for m in hook.received] == [("title", "body")]


def test_a_refused_connection_fails_with_a_reason() -> None:
    result = send(f"json://127.0.0.1:{free_port()}/hook", "t", "b")
    assert not result.ok
    assert "onnection" in result.error and "\n" not in result.error


def test_a_server_error_fails_with_a_reason() -> None:
    with Webhook(fail_times=1) as hook:
        result = send(hook.url, "t", "b")
        assert not result.ok and "500" in result.error
        assert hook.received == []


# --- the outbox (SQLite and PostgreSQL) ---------------------------------------------------------


def _escalated(svc, clock) -> int:
    """A Sev1 in platform, unacknowledged past the 5-minute rule: the scheduler escalates it to
    platform's shift lead (chen)."""
    incident = svc.log_incident(NewIncident(title="Core switch down in dc1", impact=1, urgency=1,
                                            assignment_group="platform", assignee="bob"), "monitor")
    clock.advance(timedelta(minutes=6))
    sla = SlaService(svc)
    sla.process([incident.number], clock.now(), clock.now() - timedelta(hours=1))
    return incident.number


def _deliver_all(cases: NotificationCases, owner: str = "svc-a") -> list[str]:
    done = []
    for delivery in cases.claim(owner, timedelta(minutes=2), [owner]):
        result = send(delivery.url, delivery.title, delivery.body)
        done.append(cases.finish(delivery, owner, Outcome(result.ok, result.error)))
    return done


def _notifications(svc, number: int):
    return [e for e in svc.details(number).timeline if e.kind is EventKind.NOTIFICATION_SENT]


def test_a_webhook_failing_twice_gets_the_message_once_and_the_timeline_says_so(svc, clock) -> None:
    with Webhook(fail_times=2) as hook:
        cases = NotificationCases(svc, DeliveryPolicy(backoff=timedelta(seconds=10)))
        cases.set_channels("admin", "user", "chen", [hook.url])
        number = _escalated(svc, clock)
        assert cases.enqueue_new().added == 1
        assert cases.enqueue_new().added == 0  # enqueued once, however often asked
        assert _deliver_all(cases) == ["retry"]
        assert _deliver_all(cases) == []  # not before the backoff
        clock.advance(timedelta(seconds=10))
        assert _deliver_all(cases) == ["retry"]
        clock.advance(timedelta(seconds=19))
        assert _deliver_all(cases) == []  # the second wait is twice as long
        clock.advance(timedelta(seconds=1))
        assert _deliver_all(cases) == ["sent"]
        assert _deliver_all(cases) == []
        assert len(hook.received) == 1 and hook.requests == 3
        assert "eim ack INC-000001" in hook.received[0]["message"]
    records = _notifications(svc, number)
    assert [r.data["ok"] for r in records] == [False, True]  # the first failure, then the delivery
    assert "failed" in records[0].summary and "retrying" in records[0].summary
    assert records[1].summary == "notified chen by json"
    assert all(hook.url not in str(r.data) and str(hook.port) not in r.summary for r in records)
    assert cases.outbox_counts() == {"sent": 1}


def test_a_refused_connection_is_recorded_failed_retried_and_given_up(svc, clock) -> None:
    url = f"json://127.0.0.1:{free_port()}/hook"
    cases = NotificationCases(svc, DeliveryPolicy(attempts=2, backoff=timedelta(seconds=5)))
    cases.set_channels("admin", "user", "chen", [url])
    number = _escalated(svc, clock)
    cases.enqueue_new()
    assert _deliver_all(cases) == ["retry"]
    clock.advance(timedelta(seconds=5))
    assert _deliver_all(cases) == ["failed"]
    records = _notifications(svc, number)
    assert len(records) == 2 and not any(r.data["ok"] for r in records)
    assert "after 2 attempts" in records[1].summary and "onnection" in records[1].summary
    assert cases.outbox_counts() == {"failed": 1}


def test_a_claim_of_a_service_that_stopped_beating_is_taken_over_once(svc, clock) -> None:
    with Webhook() as hook:
        cases = NotificationCases(svc)
        cases.set_channels("admin", "user", "chen", [hook.url])
        _escalated(svc, clock)
        cases.enqueue_new()
        # Service A claims and dies before sending: B takes it over only once A is not live.
        assert len(cases.claim("svc-a", timedelta(minutes=2), ["svc-a", "svc-b"])) == 1
        assert cases.claim("svc-b", timedelta(minutes=2), ["svc-a", "svc-b"]) == []
        taken = cases.claim("svc-b", timedelta(minutes=2), ["svc-b"])
        assert len(taken) == 1 and taken[0].attempt == 2
        assert cases.finish(taken[0], "svc-b", Outcome(send(taken[0].url, taken[0].title, taken[0].body).ok)) == "sent"
        assert len(hook.received) == 1


def test_people_without_channels_are_reached_through_the_defaults_once(svc, clock) -> None:
    with Webhook() as hook:
        cases = NotificationCases(svc, DeliveryPolicy(defaults=(hook.url,)))
        # high-unassigned alerts every member of platform: none has a channel, the default gets it once.
        incident = svc.log_incident(NewIncident(title="Storage array degraded", impact=1, urgency=1,
                                                assignment_group="platform"), "monitor")
        clock.advance(timedelta(minutes=11))
        SlaService(svc).process([incident.number], clock.now(), clock.now() - timedelta(hours=1))
        cases.enqueue_new()
        _deliver_all(cases)
        titles = sorted(m["title"] for m in hook.received)
        # two escalations (not acknowledged; unassigned) and the response breach is not yet due
        assert len(titles) == 2 and all("INC-000001 escalated" in t for t in titles)


def test_breaches_below_the_threshold_reach_nobody_escalations_still_do(svc, clock) -> None:
    cases = NotificationCases(svc, DeliveryPolicy(severities=frozenset({1})))
    cases.set_channels("admin", "user", "bob", ["json://127.0.0.1:9/hook"])
    incident = svc.log_incident(NewIncident(title="Printer jam", impact=3, urgency=3,
                                            assignment_group="platform", assignee="bob"), "monitor")
    clock.advance(timedelta(days=30))
    recorded = SlaService(svc).process([incident.number], clock.now(), clock.now() - timedelta(days=60)).recorded
    assert any(r.event.kind is EventKind.SLA_BREACH for r in recorded)
    done = cases.enqueue_new()
    # the Sev5 breaches reach nobody; the resolution-breached escalation (it alerts the assignee) does
    assert done.lines == ["INC-000001 escalation: to bob (json)"]


def test_an_escalation_rule_reaches_the_people_and_groups_it_names_from_the_store(svc, clock) -> None:
    """`reach` in the store's rule (set with `eim catalog apply`): the escalation goes to those
    people's and groups' channels as well as the shift lead's."""
    from eim_tui.reference.catalogue_file import write_catalogue_file

    current = write_catalogue_file(svc.catalogue.snapshot())
    wanted = current.replace('after = "5m"\nnotify = ["shift_lead"]\nreach = []',
                             'after = "5m"\nnotify = ["shift_lead"]\nreach = ["dmitri", "group:network-ops"]')
    assert wanted != current
    svc.catalogue.apply_file("admin", wanted)
    cases = NotificationCases(svc)
    for kind, name in (("user", "chen"), ("user", "dmitri"), ("group", "network-ops")):
        cases.set_channels("admin", kind, name, [f"json://127.0.0.1:9/{name}"])
    _escalated(svc, clock)
    done = cases.enqueue_new()
    assert done.lines == ["INC-000001 escalation: to chen (json), dmitri (json), group:network-ops (json)"]
