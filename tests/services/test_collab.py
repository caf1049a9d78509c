"""Roles, tasks, subscribers and stakeholder updates as use cases, on SQLite and PostgreSQL: each
change is one transaction with its timeline event; bad input writes nothing; the service's
reminders are recorded once however often it sweeps; updates reach the outbox for subscribers."""

from __future__ import annotations

from datetime import timedelta

import pytest

from eim_tui.domain import EventKind, ValidationError
from eim_tui.domain.collab import IncidentRole, TaskKind, TaskStatus, next_update_due
from eim_tui.services.collab import CollabCases
from eim_tui.services.notifications import DeliveryPolicy, NotificationCases

C, S, M, E = IncidentRole.COMMANDER, IncidentRole.SCRIBE, IncidentRole.COMMS, IncidentRole.EXPERT
CADENCE = {1: timedelta(minutes=30), 2: timedelta(minutes=60)}


def _kinds(svc, number: int) -> list[str]:
    return [e.kind.value for e in svc.details(number).timeline]


def test_roles_are_set_shown_and_recorded(svc, log) -> None:
    incident = log()
    collab = CollabCases(svc)
    after = collab.set_roles(incident.number, "alice", {C: ["bob"], S: ["nadia"], E: ["dmitri", "esther"]})
    assert after.role_map() == {"commander": "bob", "scribe": "nadia", "comms": "", "experts": ["dmitri", "esther"]}
    event = svc.details(incident.number).timeline[-1]
    assert event.kind is EventKind.ROLES_CHANGED
    assert "commander — → bob" in event.summary and "experts + dmitri, esther" in event.summary
    # The commander is replaced, experts are added, --clear frees a role.
    again = collab.set_roles(incident.number, "alice", {C: ["chen"], E: ["priya"]}, clear=[S])
    assert again.role_map() == {"commander": "chen", "scribe": "", "comms": "", "experts": ["dmitri", "esther", "priya"]}
    assert svc.details(incident.number).collab.commander == "chen"


def test_a_role_for_an_unknown_user_writes_nothing(svc, log) -> None:
    incident = log()
    collab = CollabCases(svc)
    before = _kinds(svc, incident.number)
    with pytest.raises(ValidationError, match="unknown user 'zed'"):
        collab.set_roles(incident.number, "alice", {C: ["bob"], E: ["zed"]})
    assert collab.collaboration(incident.number).roles == ()
    assert _kinds(svc, incident.number) == before
    with pytest.raises(ValidationError, match="one commander at a time"):
        collab.set_roles(incident.number, "alice", {C: ["bob", "chen"]})


def test_tasks_are_numbered_done_once_and_past_dates_refused(svc, log, clock) -> None:
    incident = log()
    collab = CollabCases(svc)
    now = clock.now()
    first = collab.add_task(incident.number, "alice", "fail over to db02", owner="bob", due_at=now + timedelta(hours=1))
    second = collab.add_task(incident.number, "alice", "tell the call centre")
    assert (first.number, second.number) == (1, 2)
    assert svc.details(incident.number).timeline[-1].kind is EventKind.TASK_ADDED
    done = collab.finish_task(incident.number, 1, "bob")
    assert (done.status, done.done_by) == (TaskStatus.DONE, "bob")
    with pytest.raises(ValidationError, match="already done"):
        collab.finish_task(incident.number, 1, "bob")
    before = _kinds(svc, incident.number)
    with pytest.raises(ValidationError, match="in the past"):
        collab.add_task(incident.number, "alice", "too late", due_at=now - timedelta(minutes=1))
    with pytest.raises(ValidationError, match="unknown user"):
        collab.add_task(incident.number, "alice", "who is this", owner="zed")
    assert _kinds(svc, incident.number) == before
    assert [t.number for t in collab.tasks(incident.number)] == [1, 2]


def test_actions_across_incidents_open_and_mine(svc, log, clock) -> None:
    one, two = log(title="Disk full"), log(title="VPN down")
    collab = CollabCases(svc)
    now = clock.now()
    collab.add_task(one.number, "alice", "add a disk alert", owner="chen", due_at=now + timedelta(days=3),
                    kind=TaskKind.ACTION)
    collab.add_task(two.number, "alice", "renew the VPN cert", owner="alice", due_at=now + timedelta(days=1),
                    kind=TaskKind.ACTION)
    collab.add_task(two.number, "alice", "a task during the incident")  # not an action
    collab.finish_task(one.number, 1, "chen")
    assert [t.what for t in collab.actions("alice")] == ["renew the VPN cert", "add a disk alert"]
    assert [t.what for t in collab.actions("alice", open_only=True)] == ["renew the VPN cert"]
    assert [t.what for t in collab.actions("chen", mine=True)] == ["add a disk alert"]
    with pytest.raises(ValidationError, match="needs an owner"):
        collab.add_task(one.number, "alice", "no owner", kind=TaskKind.ACTION)


def test_update_reminders_and_misses_are_recorded_once(svc, log, clock) -> None:
    incident = log(impact=1, urgency=1)  # Sev1: every 30 min
    collab = CollabCases(svc)
    collab.set_roles(incident.number, "alice", {C: ["bob"]})
    start = clock.now()
    assert collab.remind(CADENCE) == []
    clock.set(start + timedelta(minutes=31))
    lines = collab.remind(CADENCE)
    assert len(lines) == 1 and "update due" in lines[0] and "reminded bob" in lines[0]
    assert collab.remind(CADENCE) == []  # once
    clock.set(start + timedelta(minutes=38))  # a quarter of the cadence after it was due
    assert ["update missed" in line for line in collab.remind(CADENCE)] == [True]
    assert collab.remind(CADENCE) == []
    kinds = _kinds(svc, incident.number)
    assert (kinds.count("update_due"), kinds.count("update_missed")) == (1, 1)
    # An update moves the next due time by a cadence.
    collab.post_update(incident.number, "bob", "failing over; payments degraded")
    details = svc.details(incident.number)
    assert next_update_due(details.incident, details.collab, CADENCE) == clock.now() + timedelta(minutes=30)
    assert collab.remind(CADENCE) == []


def test_overdue_action_is_recorded_once(svc, log, clock) -> None:
    incident = log()
    collab = CollabCases(svc)
    collab.add_task(incident.number, "alice", "write the runbook", owner="chen", due_at=clock.now() + timedelta(hours=2),
                    kind=TaskKind.ACTION)
    clock.set(clock.now() + timedelta(hours=3))
    assert ["action #1 overdue" in line for line in collab.remind(CADENCE)] == [True]
    assert collab.remind(CADENCE) == []


def test_updates_reach_subscribers_through_the_outbox_and_resolution_sends_a_final_one(svc, log, clock) -> None:
    incident = log()
    collab = CollabCases(svc)
    NotificationCases(svc).set_channels("admin", "user", "bob", ["json://127.0.0.1:9/bob"])
    collab.subscribe(incident.number, "alice", "user", "bob")
    collab.subscribe(incident.number, "alice", "url", "json://127.0.0.1:9/status-page?token=s3cret")
    with pytest.raises(Exception, match="no user 'zed'"):
        collab.subscribe(incident.number, "alice", "user", "zed")
    assert "s3cret" not in " ".join(e.summary + str(e.data) for e in svc.details(incident.number).timeline)
    policy = DeliveryPolicy()
    collab.enqueue_new(policy)  # the cursor starts here
    collab.post_update(incident.number, "alice", "What is happening: 502s on checkout")
    done = collab.enqueue_new(policy)
    assert done.added == 2
    assert collab.enqueue_new(policy).added == 0  # each delivery once
    svc.acknowledge(incident.number, "alice")
    svc.resolve(incident.number, "alice", "fixed", "restarted the pool", communication="checkout works again")
    final = collab.enqueue_new(policy)
    assert final.lines and "final stakeholder update" in final.lines[0]
    last = [e for e in svc.details(incident.number).timeline if e.kind is EventKind.STAKEHOLDER_UPDATE][-1]
    assert last.data["final"] and "restarted the pool" in last.data["text"]
    assert collab.enqueue_new(policy).added == 2  # the final update goes to both
    counts = NotificationCases(svc).outbox_counts()
    assert counts.get("pending") == 4


def test_closing_with_a_review_turns_its_actions_into_post_incident_actions(svc, log, clock) -> None:
    incident = log()
    svc.set_major(incident.number, "alice", True)
    svc.acknowledge(incident.number, "alice")
    svc.resolve(incident.number, "alice", "fixed", "restarted the pool")
    due = (clock.now() + timedelta(days=7)).isoformat()
    review = {"summary": "pool exhausted", "went_well": "fast failover", "went_badly": "no alert",
              "actions": [{"action": "alert on pool saturation", "owner": "chen", "due": due},
                          {"action": "document the failover", "owner": "bob"}]}
    svc.close(incident.number, "admin", review=review)  # a major incident: a shift lead or admin closes it
    found = CollabCases(svc).actions("alice", open_only=True)
    assert [(t.what, t.owner, t.kind) for t in found] == [("alert on pool saturation", "chen", TaskKind.ACTION),
                                                         ("document the failover", "bob", TaskKind.ACTION)]
    assert found[0].due_at == clock.now() + timedelta(days=7) and found[1].due_at is None
    added = [e.summary for e in svc.details(incident.number).timeline if e.kind is EventKind.TASK_ADDED]
    assert added[0].startswith("post-incident action #1 from the review: alert on pool saturation (who: chen)")
