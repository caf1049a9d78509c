"""The access rules, pure: the role × action table, what a change amounts to, and confidentiality."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime

import pytest

from eim_tui.services.permissions import Permissions
from eim_tui.domain.access import (
    CONFIDENTIAL_TITLE,
    SECURITY_GROUP,
    Action,
    UserContext,
    can_see,
    check,
    named_action,
    parse_role,
    redact_incident,
    redact_row,
    required_actions,
    role_allows,
    system_context,
)
from eim_tui.domain.errors import PermissionDenied, ValidationError
from eim_tui.domain.model import HoldReason, Incident, QueueRow, Role, State

NOW = datetime(2026, 11, 26, 9, 0, tzinfo=UTC)
LEAD_ONLY = {Action.CANCEL, Action.OVERRIDE_PRIORITY, Action.CLOSE_MAJOR, Action.MANAGE_PROBLEMS}


def expected(role: Role, action: Action) -> bool:
    """The rules as the issue states them, written independently of the table under test."""
    if role is Role.VIEWER:
        return False
    if action is Action.MANAGE_USERS:
        return role is Role.ADMIN
    if action in LEAD_ONLY:
        return role in (Role.SHIFT_LEAD, Role.ADMIN)
    return True


@pytest.mark.parametrize("role", list(Role))
@pytest.mark.parametrize("action", list(Action))
def test_every_role_and_action(role: Role, action: Action) -> None:
    assert role_allows(role, action) is expected(role, action)
    user = UserContext("someone", role)
    if expected(role, action):
        check(user, [action])
    else:
        with pytest.raises(PermissionDenied):
            check(user, [action])


def test_a_refusal_names_the_role_needed_and_the_users_role() -> None:
    with pytest.raises(PermissionDenied) as refused:
        check(UserContext("bob", Role.RESPONDER), [Action.CANCEL], "INC-000007")
    assert str(refused.value) == "cancelling INC-000007 needs the shift lead or admin role; bob is a responder"
    with pytest.raises(PermissionDenied, match="responder or shift lead or admin role; yara is a viewer"):
        check(UserContext("yara", Role.VIEWER), [Action.ACKNOWLEDGE])
    with pytest.raises(PermissionDenied, match="needs the admin role; lead is a shift lead"):
        check(UserContext("lead", Role.SHIFT_LEAD), [Action.MANAGE_USERS])


def test_eims_own_processes_are_never_refused_and_see_everything() -> None:
    system = system_context("scheduler")
    check(system, list(Action))
    assert system.sees_confidential


def test_roles_parse_from_what_people_type() -> None:
    assert parse_role("Shift-Lead") is Role.SHIFT_LEAD
    assert parse_role(" shift lead ") is Role.SHIFT_LEAD
    with pytest.raises(ValidationError, match="unknown role 'boss'; use one of: viewer, responder, shift_lead, admin"):
        parse_role("boss")


def incident(**changes) -> Incident:
    base = Incident(number=7, title="Phishing [urgent] to finance", impact=2, urgency=2, priority=3, reported_at=NOW,
                    service="email", assignment_group="security-ops", assignee="rania", category="security",
                    description="mail from evil.example", reporter_name="carol", state=State.IN_PROGRESS,
                    acknowledged_at=NOW)
    return base.replace(**changes)


@pytest.mark.parametrize(
    ("before", "after", "named"),
    [
        (incident(state=State.NEW, acknowledged_at=None), incident(), Action.ACKNOWLEDGE),
        (incident(), incident(state=State.ON_HOLD, hold_reason=HoldReason.AWAITING_USER), Action.HOLD),
        (incident(state=State.ON_HOLD), incident(), Action.RESUME),
        (incident(), incident(state=State.RESOLVED), Action.RESOLVE),
        (incident(state=State.RESOLVED), incident(state=State.CLOSED), Action.CLOSE),
        (incident(state=State.RESOLVED), incident(), Action.REOPEN),
        (incident(), incident(state=State.CANCELLED), Action.CANCEL),
        (incident(), incident(assignee="sven"), Action.ASSIGN),
        (incident(), incident(impact=1, priority=2), Action.PRIORITIZE),
        (incident(), incident(category="network"), Action.CATEGORIZE),
        (incident(), incident(major=True), Action.MAJOR),
        (incident(), incident(problem_ref="PRB-1"), Action.LINK),
        (incident(), incident(description="more"), Action.CHANGE),
    ],
)
def test_a_change_is_named_by_what_it_did(before: Incident, after: Incident, named: Action) -> None:
    assert named_action(before, after) is named


def test_the_special_actions_are_derived_from_the_result() -> None:
    # Sev3 is what the default matrix gives impact 2 × urgency 2.
    assert required_actions(incident(), incident(state=State.CANCELLED), 3) == [Action.CANCEL]
    assert required_actions(incident(state=State.RESOLVED), incident(state=State.CLOSED), 3) == [Action.CLOSE]
    major_closed = required_actions(incident(state=State.RESOLVED, major=True),
                                    incident(state=State.CLOSED, major=True), 3)
    assert major_closed == [Action.CLOSE, Action.CLOSE_MAJOR]
    override = incident(priority=1, priority_override_reason="CEO affected")
    assert required_actions(incident(), override, 3) == [Action.PRIORITIZE, Action.OVERRIDE_PRIORITY]
    # Following the matrix is no override; neither is leaving an existing override alone.
    assert required_actions(incident(), incident(impact=1, urgency=1, priority=1), 1) == [Action.PRIORITIZE]
    assert required_actions(override, override.replace(assignee="sven"), 3) == [Action.ASSIGN]


def row(**changes) -> QueueRow:
    base = QueueRow(number=7, priority=2, state=State.NEW, title="Phishing [urgent] to finance", service="email",
                    assignment_group="security-ops", assignee="rania", reported_at=NOW, clock="response",
                    due_at=NOW, warn_at=NOW, confidential=True, category="security", major=True)
    return dataclasses.replace(base, **changes)


def test_only_the_security_group_sees_a_confidential_incident() -> None:
    member = UserContext("rania", Role.RESPONDER, frozenset({SECURITY_GROUP}))
    admin = UserContext("admin", Role.ADMIN, frozenset({"platform"}))
    assert can_see(member, row()) and can_see(member, incident(confidential=True))
    assert not can_see(admin, row()) and not can_see(admin, incident(confidential=True))
    assert can_see(admin, row(confidential=False))


def test_the_placeholder_row_keeps_severity_category_and_clock_only() -> None:
    shown = redact_row(row())
    assert (shown.title, shown.service, shown.assignment_group, shown.assignee) == (CONFIDENTIAL_TITLE, "", "", "")
    assert (shown.number, shown.priority, shown.category, shown.state, shown.due_at, shown.major) == (
        7, 2, "security", State.NEW, NOW, True)
    assert redact_row(row(confidential=False)).title == "Phishing [urgent] to finance"


def test_the_placeholder_incident_drops_every_detail() -> None:
    secret = incident(confidential=True, root_cause="weak password", resolution_notes="reset", hold_note="x")
    shown = redact_incident(secret)
    text = repr(shown)
    for detail in ("Phishing", "evil.example", "carol", "rania", "security-ops", "weak password", "reset", "email"):
        assert detail not in text
    assert (shown.key, shown.priority, shown.category, shown.state, shown.confidential) == (
        "INC-000007", 3, "security", State.IN_PROGRESS, True)


def test_permissions_grey_out_what_a_role_forbids() -> None:
    responder = Permissions(UserContext("alice", Role.RESPONDER))
    lead = Permissions(UserContext("lead", Role.SHIFT_LEAD))
    viewer = Permissions(UserContext("yara", Role.VIEWER))
    major = incident(state=State.RESOLVED, major=True)
    assert responder.allows("close", incident(state=State.RESOLVED)) and not responder.allows("close", major)
    assert lead.allows("close", major)
    assert responder.forbids("cancel") and not lead.forbids("cancel")
    assert responder.forbids("bulk_cancel") and not responder.forbids("bulk_acknowledge")
    assert viewer.forbids("acknowledge") and viewer.forbids("new_incident") and viewer.forbids("add_note")
    # Actions that change nothing (reading notes included) are never greyed, whoever looks.
    assert not any(viewer.forbids(a) for a in ("back", "filter", "next_view", "timeline", "notes", "help"))
    assert not responder.may_override_priority and lead.may_override_priority
