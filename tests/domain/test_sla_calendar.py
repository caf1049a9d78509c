"""SLA clocks on business hours, the moments the scheduler records (warnings, breaches,
escalations), and the policy and escalation files that configure them."""

from __future__ import annotations

import shutil
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from eim_tui.domain import lifecycle, sla
from eim_tui.domain.escalation import EscalationRule, Kind, Recipient, Trigger, escalated, moments, recipients
from eim_tui.domain.model import Group, HoldReason, QueueRow, SlaState
from eim_tui.domain.priority import PriorityMatrix
from eim_tui.domain.work_calendar import business_calendar
from eim_tui.reference import ReferenceError, load_reference
from eim_tui.reference.paths import DATA_DIR
from eim_tui.reference.sla import working_target

from .factories import PROPERTY, make_incident

H, MIN, S = timedelta(hours=1), timedelta(minutes=1), timedelta(seconds=1)
BUSINESS = business_calendar("business", "UTC", ["mon", "tue", "wed", "thu", "fri"], "09:00", "17:00",
                             ["2026-11-30"])
LOW = sla.SlaPolicy(4, 2 * H, 16 * H, 0.75, "Low", BUSINESS)
FRI_16 = datetime(2026, 11, 27, 16, 0, tzinfo=UTC)
TUE_10 = datetime(2026, 12, 1, 10, 0, tzinfo=UTC)


def low_incident(**overrides):
    response, resolution = sla.initial_due(LOW, FRI_16)
    return make_incident(priority=4, reported_at=FRI_16, response_due_at=response, resolution_due_at=resolution,
                         **overrides)


def test_due_instants_come_through_the_calendar() -> None:
    incident = low_incident()
    assert incident.response_due_at == TUE_10  # Fri 16–17, Mon holiday, Tue 09–10
    reading = sla.response_clock(incident, LOW, datetime(2026, 11, 28, 12, 0, tzinfo=UTC))
    assert reading.state is SlaState.OK  # Saturday: one working hour of two left, none passing
    assert sla.warning_at(TUE_10, LOW.response, LOW.warning_fraction, BUSINESS) == datetime(2026, 12, 1, 9, 30,
                                                                                         tzinfo=UTC)
    assert sla.response_clock(incident, LOW, datetime(2026, 12, 1, 9, 29, tzinfo=UTC)).state is SlaState.OK
    assert sla.response_clock(incident, LOW, datetime(2026, 12, 1, 9, 30, tzinfo=UTC)).state is SlaState.WARNING
    assert sla.response_clock(incident, LOW, TUE_10).state is SlaState.BREACHED


def test_a_pause_moves_the_due_by_its_working_time_only() -> None:
    started = low_incident(acknowledged_at=FRI_16, state=lifecycle.State.IN_PROGRESS)
    held = lifecycle.put_on_hold(started, FRI_16 + 30 * MIN, HoldReason.AWAITING_VENDOR)
    # On hold from Friday 16:30 to Tuesday 09:15: 30 minutes on Friday, 15 on Tuesday count.
    resumed = lifecycle.resume(held, datetime(2026, 12, 1, 9, 15, tzinfo=UTC), BUSINESS)
    assert resumed.sla_paused_seconds == 45 * 60
    assert resumed.resolution_due_at == BUSINESS.add(started.resolution_due_at, 45 * MIN)
    # While the pause runs the clock reads paused, and its due moves with the working time.
    reading = sla.resolution_clock(held, LOW, datetime(2026, 11, 29, tzinfo=UTC))
    assert reading.state is SlaState.PAUSED
    assert reading.due_at == BUSINESS.add(started.resolution_due_at, 30 * MIN)


@PROPERTY
@given(st.integers(0, 10 * 24 * 60))
def test_queue_row_and_clock_agree_on_business_hours(minutes: int) -> None:
    incident = low_incident()
    now = FRI_16 + timedelta(minutes=minutes)
    warn = sla.warning_at(incident.response_due_at, LOW.response, LOW.warning_fraction, LOW.calendar)
    row = QueueRow(incident.number, 4, incident.state, "", "", "", "", FRI_16, "response",
                   incident.response_due_at, warn)
    assert row.sla_state(now) is sla.response_clock(incident, LOW, now).state


# --- moments --------------------------------------------------------------------------------------

UNACKED = EscalationRule("sev1-unacked", Trigger.UNACKNOWLEDGED, frozenset({1}), 5 * MIN, (Recipient.SHIFT_LEAD,),
                         mark_escalated=True)
RAISE = EscalationRule("raise", Trigger.RESOLUTION_BREACHED, frozenset({3}), raise_severity=True)


def test_moments_of_a_new_sev1_in_time_order() -> None:
    incident = make_incident(priority=1)
    t0 = incident.reported_at
    found = [(m.at - t0, m.kind, m.clock) for m in moments(incident, sla.DEFAULT_POLICIES[1], [UNACKED, RAISE])]
    assert found == [
        (5 * MIN, Kind.ESCALATION, ""),
        (11 * MIN + 15 * S, Kind.WARNING, "response"),
        (15 * MIN, Kind.BREACH, "response"),
        (3 * H, Kind.WARNING, "resolution"),
        (4 * H, Kind.BREACH, "resolution"),
    ]


def test_a_paused_or_closed_incident_has_no_clock_moments() -> None:
    incident = make_incident(priority=3, paused_since=make_incident().reported_at)
    assert moments(incident, sla.DEFAULT_POLICIES[3], [RAISE]) == []
    closed = make_incident(priority=3, state=lifecycle.State.CANCELLED)
    assert moments(closed, sla.DEFAULT_POLICIES[3], [RAISE]) == []


def test_once_keys_name_the_incident_clock_kind_and_due() -> None:
    incident = make_incident(priority=1)
    keys = [m.once_key for m in moments(incident, sla.DEFAULT_POLICIES[1], [UNACKED])]
    assert keys[0] == "esc:123:sev1-unacked"
    assert keys[2] == f"sla:123:response:breach:{incident.response_due_at.isoformat()}"


def test_escalation_raises_one_severity_with_a_reason_and_retargets() -> None:
    matrix = PriorityMatrix(((1, 2, 3), (2, 3, 4), (3, 4, 5)))
    incident = make_incident(priority=3)
    after = escalated(incident, RAISE, matrix, sla.DEFAULT_POLICIES)
    assert after.priority == 2 and "raise" in after.priority_override_reason
    assert after.resolution_due_at == incident.reported_at + sla.DEFAULT_POLICIES[2].resolution
    top = make_incident(priority=1)
    assert escalated(top, RAISE, matrix, sla.DEFAULT_POLICIES).priority == 1  # nothing above Sev1


def test_recipients_come_from_the_group() -> None:
    group = Group("dba", shift_lead="esther", members=("esther", "bob"))
    rule = EscalationRule("r", Trigger.UNASSIGNED, frozenset({1}),
                          notify=(Recipient.SHIFT_LEAD, Recipient.ASSIGNEE, Recipient.GROUP))
    assert recipients(rule, make_incident(priority=1, assignee="priya"), group) == ("esther", "priya", "bob")
    assert recipients(rule, make_incident(priority=1), None) == ()


def test_the_commander_is_a_recipient_only_when_one_is_named() -> None:
    group = Group("dba", shift_lead="esther", members=("esther", "bob"))
    rule = EscalationRule("r", Trigger.RESPONSE_BREACHED, frozenset({1}),
                          notify=(Recipient.COMMANDER, Recipient.SHIFT_LEAD))
    assert recipients(rule, make_incident(priority=1), group, commander="dmitri") == ("dmitri", "esther")
    assert recipients(rule, make_incident(priority=1), group) == ("esther",)
    assert recipients(rule, make_incident(priority=1), group, commander="esther") == ("esther",)  # once


# --- the files ------------------------------------------------------------------------------------


@pytest.fixture
def data_copy(tmp_path: Path) -> Path:
    target = tmp_path / "data"
    shutil.copytree(DATA_DIR, target)
    return target


def _set_hours(path: Path, severity: int, hours: str) -> None:
    text = path.read_text()
    head, _, tail = text.partition(f"[severity.{severity}]")
    path.write_text(head + f"[severity.{severity}]" + tail.replace('hours = "24x7"', f'hours = "{hours}"', 1))


def _line(path: Path, text: str) -> int:
    return next(n for n, line in enumerate(path.read_text().splitlines(), 1) if text in line)


def test_shipped_files_load_with_the_business_calendar_and_rules() -> None:
    ref = load_reference()
    assert all(p.calendar.always for p in ref.policies.values())  # every severity 24x7 as shipped
    assert {r.name for r in ref.escalation_rules} >= {"sev1-not-acknowledged", "resolution-breached"}


def test_lower_severities_can_run_on_business_hours(data_copy: Path) -> None:
    path = data_copy / "sla_policies.toml"
    _set_hours(path, 4, "business")
    policy = load_reference(data_copy).policies[4]
    assert policy.calendar.name == "business" and policy.calendar.timezone == "Europe/London"
    assert policy.response == 8 * H  # "1d" is one working day
    assert working_target("1d2h", policy.calendar) == 10 * H


def test_a_policy_naming_an_unknown_calendar_names_file_and_line(data_copy: Path) -> None:
    path = data_copy / "sla_policies.toml"
    _set_hours(path, 5, "office")
    with pytest.raises(ReferenceError) as caught:
        load_reference(data_copy)
    assert str(caught.value).startswith(f"sla_policies.toml: line {_line(path, '[severity.5]')}: [severity.5]")
    assert "'office'" in str(caught.value) and "business" in str(caught.value)


def test_a_bad_calendar_names_file_and_line(data_copy: Path) -> None:
    path = data_copy / "sla_policies.toml"
    path.write_text(path.read_text().replace('timezone = "Europe/London"', 'timezone = "Europe/Londn"'))
    with pytest.raises(ReferenceError) as caught:
        load_reference(data_copy)
    assert str(caught.value).startswith(f"sla_policies.toml: line {_line(path, '[calendar.business]')}: ")
    assert "Europe/Londn" in str(caught.value)


def test_a_bad_escalation_rule_names_file_and_line(data_copy: Path) -> None:
    path = data_copy / "escalation.toml"
    path.write_text(path.read_text().replace('notify = ["group"]', 'notify = ["everyone"]'))
    with pytest.raises(ReferenceError) as caught:
        load_reference(data_copy)
    line = _line(path, 'name = "high-unassigned"') - 1
    assert str(caught.value).startswith(f"escalation.toml: line {line}: rule 2 ('high-unassigned'): ")
    assert "unknown recipient 'everyone'" in str(caught.value)
