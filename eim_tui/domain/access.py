"""Who may do what: roles, the actions they allow, and who may see a confidential incident.

Pure rules (stdlib only). The service layer asks `required_actions` what a change amounts to and
`check` whether the actor's role allows it; the UI asks `allows` to grey out what a role forbids.
Confidentiality gates *reading* (only the security group sees a confidential incident's title and
details); roles gate *writing*.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable
from dataclasses import dataclass
from enum import StrEnum

from eim_tui.domain.errors import PermissionDenied
from eim_tui.domain.model import Incident, QueueRow, State
from eim_tui.domain.roles import Role, parse_role  # noqa: F401 - parse_role re-exported

SECURITY_GROUP = "security-ops"
CONFIDENTIAL_TITLE = "confidential"

# eim's own processes act under these names; they are never refused (they are not people).
SYSTEM_ACTORS = frozenset({"system", "scheduler", "sla-clock", "ingest", "eim"})


class Action(StrEnum):
    LOG = "log"
    ACKNOWLEDGE = "acknowledge"
    ASSIGN = "assign"
    PRIORITIZE = "prioritize"
    OVERRIDE_PRIORITY = "override_priority"
    CATEGORIZE = "categorize"
    HOLD = "hold"
    RESUME = "resume"
    RESOLVE = "resolve"
    CLOSE = "close"
    CLOSE_MAJOR = "close_major"
    REOPEN = "reopen"
    CANCEL = "cancel"
    LINK = "link"
    MAJOR = "major"
    NOTE = "note"
    CHANGE = "change"  # any other change to an incident
    MANAGE_USERS = "manage_users"
    MANAGE_PROBLEMS = "manage_problems"  # problem records: make, mark a known error, resolve, close

    @property
    def phrase(self) -> str:
        return ACTION_PHRASES.get(self, self.value.replace("_", " "))


ACTION_PHRASES = {
    Action.LOG: "logging an incident",
    Action.ACKNOWLEDGE: "acknowledging",
    Action.ASSIGN: "assigning",
    Action.PRIORITIZE: "prioritizing",
    Action.OVERRIDE_PRIORITY: "overriding the priority matrix",
    Action.CATEGORIZE: "categorizing",
    Action.HOLD: "putting on hold",
    Action.RESUME: "resuming",
    Action.RESOLVE: "resolving",
    Action.CLOSE: "closing",
    Action.CLOSE_MAJOR: "closing a major incident",
    Action.REOPEN: "reopening",
    Action.CANCEL: "cancelling",
    Action.LINK: "linking",
    Action.MAJOR: "marking a major incident",
    Action.NOTE: "adding a diagnosis note",
    Action.CHANGE: "changing an incident",
    Action.MANAGE_USERS: "managing users",
    Action.MANAGE_PROBLEMS: "managing problem records",
}

LEAD_ONLY = frozenset({Action.CANCEL, Action.OVERRIDE_PRIORITY, Action.CLOSE_MAJOR, Action.MANAGE_PROBLEMS})
ADMIN_ONLY = frozenset({Action.MANAGE_USERS})

ROLE_LABELS = {Role.VIEWER: "viewer", Role.RESPONDER: "responder", Role.SHIFT_LEAD: "shift lead", Role.ADMIN: "admin"}


def role_allows(role: Role, action: Action) -> bool:
    """The whole table: a viewer changes nothing; leads and admins also cancel, override and close majors."""
    if role is Role.ADMIN:
        return True
    if role is Role.VIEWER:
        return False
    if action in ADMIN_ONLY:
        return False
    if action in LEAD_ONLY:
        return role is Role.SHIFT_LEAD
    return True


def roles_allowing(action: Action) -> list[Role]:
    return [r for r in Role if role_allows(r, action)]


@dataclass(frozen=True, slots=True)
class UserContext:
    """Who is acting or looking: the login, the role the store gives it, and its groups."""

    name: str
    role: Role = Role.RESPONDER
    groups: frozenset[str] = frozenset()
    system: bool = False

    def allows(self, action: Action) -> bool:
        return self.system or role_allows(self.role, action)

    @property
    def sees_confidential(self) -> bool:
        return self.system or SECURITY_GROUP in self.groups


def system_context(name: str) -> UserContext:
    return UserContext(name, Role.ADMIN, frozenset(), system=True)


def is_system_actor(name: str) -> bool:
    return name in SYSTEM_ACTORS


def check(user: UserContext, actions: Iterable[Action], what: str = "") -> None:
    """Raise `PermissionDenied` naming the role needed for the first action the user's role forbids."""
    for action in actions:
        if user.allows(action):
            continue
        needed = " or ".join(ROLE_LABELS[r] for r in roles_allowing(action))
        subject = f" {what}" if what else ""
        raise PermissionDenied(
            f"{action.phrase}{subject} needs the {needed} role; {user.name} is a {ROLE_LABELS[user.role]}"
        )


def named_action(before: Incident, after: Incident) -> Action:
    """The lifecycle step a change is, in the words of the process (for messages and the UI)."""
    if after.state is not before.state:
        steps = {
            State.CANCELLED: Action.CANCEL, State.CLOSED: Action.CLOSE, State.RESOLVED: Action.RESOLVE,
            State.ON_HOLD: Action.HOLD,
        }
        if after.state in steps:
            return steps[after.state]
        if after.state is State.IN_PROGRESS:
            if before.state is State.ON_HOLD:
                return Action.RESUME
            if before.state is State.RESOLVED:
                return Action.REOPEN
            return Action.ACKNOWLEDGE
    if after.acknowledged_at != before.acknowledged_at:
        return Action.ACKNOWLEDGE
    fields = {
        Action.PRIORITIZE: ("impact", "urgency", "priority", "priority_override_reason"),
        Action.CATEGORIZE: ("category", "subcategory"),
        Action.ASSIGN: ("assignment_group", "assignee"),
        Action.MAJOR: ("major",),
        Action.LINK: ("parent_number", "problem_ref", "change_ref"),
    }
    for action, names in fields.items():
        if any(getattr(before, n) != getattr(after, n) for n in names):
            return action
    return Action.CHANGE


def required_actions(
    before: Incident, after: Incident, matrix_priority: int, named: Action | None = None
) -> list[Action]:
    """What a change from `before` to `after` amounts to, whatever method made it.

    `matrix_priority` is what the matrix gives for `after`'s impact and urgency. Deriving the
    special actions from the result means no path through the service layer can slip past them.
    """
    actions = [named or named_action(before, after)]
    if after.state is State.CANCELLED and before.state is not State.CANCELLED:
        actions.append(Action.CANCEL)
    if after.state is State.CLOSED and before.state is not State.CLOSED and (before.major or after.major):
        actions.append(Action.CLOSE_MAJOR)
    priority_touched = (before.priority, before.impact, before.urgency, before.priority_override_reason) != (
        after.priority, after.impact, after.urgency, after.priority_override_reason
    )
    if priority_touched and after.priority != matrix_priority:
        actions.append(Action.OVERRIDE_PRIORITY)
    return list(dict.fromkeys(actions))


def can_see(user: UserContext, item: Incident | QueueRow) -> bool:
    """A confidential incident's title and details are for the security group (and eim itself)."""
    return not item.confidential or user.sees_confidential


def redact_row(row: QueueRow) -> QueueRow:
    """The placeholder a non-member sees: key, severity, category, state and SLA clock — no details."""
    if not row.confidential:
        return row
    return dataclasses.replace(row, title=CONFIDENTIAL_TITLE, service="", assignment_group="", assignee="")


def redact_incident(incident: Incident) -> Incident:
    """The same placeholder for a whole incident (exports): only what the placeholder row shows."""
    if not incident.confidential:
        return incident
    keep = {
        "number", "impact", "urgency", "priority", "reported_at", "category", "state", "major",
        "confidential", "response_due_at", "resolution_due_at", "paused_since", "sla_paused_seconds",
        "acknowledged_at", "resolved_at", "closed_at", "version", "updated_at",
    }
    blank = Incident(number=incident.number, title=CONFIDENTIAL_TITLE, impact=incident.impact,
                     urgency=incident.urgency, priority=incident.priority, reported_at=incident.reported_at)
    return blank.replace(**{name: getattr(incident, name) for name in keep})


def visible_rows(user: UserContext, rows: Iterable[QueueRow]) -> list[QueueRow]:
    return [r if can_see(user, r) else redact_row(r) for r in rows]
