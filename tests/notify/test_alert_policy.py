"""Who hears of an SLA event, de-duplication and rate limiting (a flood becomes one summary),
quiet hours, and the [alerts] settings."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta
from pathlib import Path

import pytest

from eim_tui.config import AlertSettings, ConfigError, load_config
from eim_tui.domain.model import EventKind, Role
from eim_tui.domain.sla_alerts import AlertEvent
from eim_tui.notify.policy import (
    AlertGate,
    Audience,
    SlaNotice,
    in_quiet_hours,
    relevant_alerts,
    summary,
)

T0 = datetime(2026, 11, 26, 9, 0, tzinfo=UTC)


def event(number: int, kind=EventKind.SLA_BREACH, priority=2, assignee="", group="dba", watched=False,
          confidential=False, **data) -> AlertEvent:
    data = {"clock": "resolution", **data}
    return AlertEvent(number, number, T0, kind, f"SLA breached: {data['clock']}", data, priority,
                      f"Title [{number}]", assignee, group, confidential, watched)


def alert(number: int, kind=EventKind.SLA_BREACH) -> SlaNotice:
    return SlaNotice(f"{number}:resolution:{kind.value}", number, kind, 2, f"INC-{number:06d}", "body", T0)


BOB = Audience("bob", Role.RESPONDER, frozenset({"dba"}))
LEAD = Audience("lead", Role.SHIFT_LEAD, frozenset({"service-desk"}))


def test_each_person_hears_of_their_own_incidents_and_leads_of_every_sev1() -> None:
    events = [
        event(1, assignee="bob", group="platform"),  # assigned to bob
        event(2, group="dba"),  # bob's group
        event(3, group="platform", watched=True),  # bob watches it
        event(4, group="platform"),  # none of bob's business
        event(5, group="platform", priority=1),  # a Sev1: leads hear of it
        event(6, kind=EventKind.ESCALATION, group="platform", notify=["lead"], rule="r"),
        event(7, group="security-ops", confidential=True, assignee="bob"),  # bob may not see it
    ]
    assert [a.number for a in relevant_alerts(events, BOB)] == [1, 2, 3]
    # (`watched` is read per person: the lead does not watch number 3)
    assert [a.number for a in relevant_alerts([e for e in events if not e.watched], LEAD)] == [5, 6]
    sev1 = relevant_alerts([event(5, group="platform", priority=1)], LEAD)[0]
    assert sev1.title == "INC-000005 Sev1 resolution SLA breached" and sev1.body.startswith("Title [5]")


def test_severities_not_wanted_are_dropped_but_escalations_to_me_are_not() -> None:
    quiet_bob = Audience("bob", Role.RESPONDER, frozenset({"dba"}), severities=frozenset({1}))
    events = [event(1), event(2, kind=EventKind.ESCALATION, notify=["bob"], rule="r")]
    assert [a.number for a in relevant_alerts(events, quiet_bob)] == [2]


def test_two_hundred_breaches_at_once_are_one_summary() -> None:
    gate = AlertGate()
    out = gate.offer([alert(n) for n in range(1, 201)], T0)
    assert len(out) == 1
    assert out[0].title == "200 incidents breached"
    assert out[0].body == (
        "most severe first: INC-000001 S2, INC-000002 S2, INC-000003 S2, INC-000004 S2, INC-000005 S2 …"
    )
    assert len(out[0].alerts) == 200


def test_a_summary_names_the_most_severe_incidents_first() -> None:
    alerts = [alert(1), alert(2), SlaNotice("3:response:sla_breach", 3, EventKind.SLA_BREACH, 1, "INC-000003", "b", T0)]
    assert summary(alerts).body == "most severe first: INC-000003 S1, INC-000001 S2, INC-000002 S2"


def test_a_few_go_one_by_one_and_the_same_one_only_once() -> None:
    gate = AlertGate(burst=3, window=timedelta(seconds=30), summary_after=3)
    assert [d.title for d in gate.offer([alert(1), alert(2)], T0)] == ["INC-000001", "INC-000002"]
    assert gate.offer([alert(1)], T0 + timedelta(seconds=1)) == []  # a repeat is dropped
    # the limit: one delivery left in this window, so two more become one summary
    out = gate.offer([alert(3), alert(4, EventKind.SLA_WARNING)], T0 + timedelta(seconds=2))
    assert [d.title for d in out] == ["1 incident breached, 1 incident near breach"]
    # the window is full: held, and let out by a later flush as one summary
    assert gate.offer([alert(5)], T0 + timedelta(seconds=3)) == []
    assert gate.flush(T0 + timedelta(seconds=10)) == []
    assert [d.title for d in gate.flush(T0 + timedelta(seconds=31))] == ["INC-000005"]


def test_quiet_hours_may_run_over_midnight() -> None:
    night = (time(22), time(7))
    assert in_quiet_hours(night, time(23, 30)) and in_quiet_hours(night, time(6, 59))
    assert not in_quiet_hours(night, time(7)) and not in_quiet_hours(night, time(12))
    assert in_quiet_hours((time(12), time(13)), time(12, 30)) and not in_quiet_hours(None, time(12))


def test_alert_settings_from_config(tmp_path: Path) -> None:
    path = tmp_path / "config.toml"
    path.write_text('[alerts]\nchannels = ["toast", "terminal"]\nseverities = [1]\nquiet_hours = "22:00-07:30"\n'
                    'escape = "osc99"\n')
    alerts = load_config(path).alerts
    assert alerts == AlertSettings(frozenset({"toast", "terminal"}), frozenset({1}), (time(22), time(7, 30)), "osc99")
    assert load_config(tmp_path / "missing.toml").alerts == AlertSettings()


@pytest.mark.parametrize(
    ("body", "says"),
    [
        ('channels = ["toast", "pager"]', "channels must be a list of toast, bell, terminal, desktop"),
        ("severities = [0]", "severities must be a list of 1 … 5"),
        ('quiet_hours = "late"', 'quiet_hours must be like "22:00-07:00"'),
        ('escape = "osc52"', "escape must be one of osc777, osc9, osc99"),
        ("volume = 11", "unknown setting 'volume'"),
    ],
)
def test_a_malformed_alerts_table_names_file_line_and_fix(tmp_path: Path, body: str, says: str) -> None:
    path = tmp_path / "config.toml"
    path.write_text(f'[keymap]\n"queue.filter" = "f"\n\n[alerts]\n{body}\n')
    with pytest.raises(ConfigError) as caught:
        load_config(path)
    assert str(caught.value).startswith(f"{path}: line 4: [alerts] ")
    assert says in str(caught.value)
