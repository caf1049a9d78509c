"""Access control for the UI and the command line: what the person running eim may see and do.

On top of the pure rules of `domain/access.py`: `Permissions`, the object screens ask
(`app.permissions.allows("cancel", incident)`) to grey out what a role forbids, and
`visible_incidents`. The service layer enforces the same rules whatever the UI does.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass

from eim_tui.domain.access import (
    Action,
    UserContext,
    can_see,
    redact_incident,
    visible_rows,
)
from eim_tui.domain.model import Incident, QueueRow, Role

# The names screens use for their actions (binding action names) → the rule that governs them.
SCREEN_ACTIONS = {
    "acknowledge": Action.ACKNOWLEDGE,
    "assign": Action.ASSIGN,
    "prioritize": Action.PRIORITIZE,
    "categorize": Action.CATEGORIZE,
    "hold": Action.HOLD,
    "resume": Action.RESUME,
    "resolve": Action.RESOLVE,
    "close": Action.CLOSE,
    "reopen": Action.REOPEN,
    "cancel": Action.CANCEL,
    "link": Action.LINK,
    "major": Action.MAJOR,
    "add_note": Action.NOTE,
    "note": Action.NOTE,
    "new_incident": Action.LOG,
    "log": Action.LOG,
    "bulk": Action.CHANGE,  # the bulk menu: each incident is still checked as it is changed
}


def visible_incidents(user: UserContext, incidents: Iterable[Incident]) -> Iterator[Incident]:
    """Incidents as `user` may see them: confidential ones outside the security group as placeholders."""
    for incident in incidents:
        yield incident if can_see(user, incident) else redact_incident(incident)


def to_action(name: str | Action) -> Action:
    if isinstance(name, Action):
        return name
    name = name.removeprefix("bulk_")  # a bulk action needs what the single one needs
    try:
        return Action(name)
    except ValueError:
        return SCREEN_ACTIONS.get(name, Action.CHANGE)


@dataclass(frozen=True, slots=True)
class Permissions:
    """What one user may do. `allows` is cheap and pure: call it from `check_action`."""

    user: UserContext

    @property
    def role(self) -> Role:
        return self.user.role

    def allows(self, action: str | Action, incident: Incident | QueueRow | None = None) -> bool:
        wanted = to_action(action)
        if wanted is Action.CLOSE and incident is not None and incident.major:
            wanted = Action.CLOSE_MAJOR
        return self.user.allows(wanted)

    def forbids(self, action: str, incident: Incident | QueueRow | None = None) -> bool:
        """True when `action` names a change (see SCREEN_ACTIONS) this user's role does not allow.

        Screen actions that change nothing (back, filter, open…) are never forbidden, so a
        `check_action` can ask about every action it sees.
        """
        name = action.removeprefix("bulk_")
        governed = name in SCREEN_ACTIONS or name in Action.__members__.values()
        return governed and not self.allows(action, incident)

    def can_see(self, item: Incident | QueueRow) -> bool:
        return can_see(self.user, item)

    def visible(self, rows: list[QueueRow]) -> list[QueueRow]:
        return visible_rows(self.user, rows)

    @property
    def may_override_priority(self) -> bool:
        return self.user.allows(Action.OVERRIDE_PRIORITY)
