"""Drafts: text being typed, kept as it is typed so a killed terminal loses nothing.

A draft belongs to one person (`owner`) and one place (`scope`): the new-incident form, or the
notes of one incident. It is not a change to an incident, so it never reaches the timeline.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from eim_tui.domain.model import format_key

NEW_INCIDENT = "new-incident"


def note_scope(number: int) -> str:
    """The scope of the note being typed on one incident's notes screen: `note:INC-000123`."""
    return f"note:{format_key(number)}"


@dataclass(frozen=True, slots=True)
class Draft:
    owner: str
    scope: str
    saved_at: datetime
    content: dict[str, Any] = field(default_factory=dict)
