"""The rules of the incident process, in plain Python (standard library only).

The names below are re-exported lazily (PEP 562): `import eim_tui.domain.clock` loads only the
clock, which `eim status` (100 ms, run by tmux every few seconds) depends on.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

_WHERE = {
    "Category": "eim_tui.domain.model",
    "Clock": "eim_tui.domain.clock",
    "ClockReading": "eim_tui.domain.sla",
    "ConflictError": "eim_tui.domain.errors",
    "DiagnosisNote": "eim_tui.domain.model",
    "DomainError": "eim_tui.domain.errors",
    "EventKind": "eim_tui.domain.model",
    "FieldChange": "eim_tui.domain.model",
    "Filter": "eim_tui.domain.filters",
    "FilterError": "eim_tui.domain.filters",
    "FixedClock": "eim_tui.domain.clock",
    "Group": "eim_tui.domain.model",
    "HoldReason": "eim_tui.domain.model",
    "HypothesisStatus": "eim_tui.domain.model",
    "Incident": "eim_tui.domain.model",
    "NotFoundError": "eim_tui.domain.errors",
    "NoteKind": "eim_tui.domain.model",
    "OPEN_STATES": "eim_tui.domain.model",
    "PermissionDenied": "eim_tui.domain.errors",
    "PriorityMatrix": "eim_tui.domain.priority",
    "Role": "eim_tui.domain.model",
    "SEVERITY_NAMES": "eim_tui.domain.model",
    "Service": "eim_tui.domain.model",
    "SlaPolicy": "eim_tui.domain.sla",
    "SlaState": "eim_tui.domain.model",
    "Source": "eim_tui.domain.model",
    "State": "eim_tui.domain.model",
    "Step": "eim_tui.domain.lifecycle",
    "SystemClock": "eim_tui.domain.clock",
    "TimelineEvent": "eim_tui.domain.model",
    "TransitionError": "eim_tui.domain.errors",
    "User": "eim_tui.domain.model",
    "ValidationError": "eim_tui.domain.errors",
    "allowed_steps": "eim_tui.domain.lifecycle",
    "decide_priority": "eim_tui.domain.priority",
    "diff": "eim_tui.domain.model",
    "ensure_utc": "eim_tui.domain.clock",
    "format_key": "eim_tui.domain.model",
    "parse_key": "eim_tui.domain.model",
}

__all__ = list(_WHERE)


def __getattr__(name: str) -> Any:
    module = _WHERE.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


if TYPE_CHECKING:
    from eim_tui.domain.clock import Clock, FixedClock, SystemClock, ensure_utc  # noqa: F401
    from eim_tui.domain.errors import (  # noqa: F401
        ConflictError,
        DomainError,
        NotFoundError,
        PermissionDenied,
        TransitionError,
        ValidationError,
    )
    from eim_tui.domain.filters import Filter, FilterError  # noqa: F401
    from eim_tui.domain.lifecycle import Step, allowed_steps  # noqa: F401
    from eim_tui.domain.model import (  # noqa: F401
        OPEN_STATES,
        SEVERITY_NAMES,
        Category,
        DiagnosisNote,
        EventKind,
        FieldChange,
        Group,
        HoldReason,
        HypothesisStatus,
        Incident,
        NoteKind,
        Role,
        Service,
        SlaState,
        Source,
        State,
        TimelineEvent,
        User,
        diff,
        format_key,
        parse_key,
    )
    from eim_tui.domain.priority import PriorityMatrix, decide_priority  # noqa: F401
    from eim_tui.domain.sla import ClockReading, SlaPolicy  # noqa: F401
