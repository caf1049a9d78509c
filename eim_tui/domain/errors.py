"""Errors the rules raise. Each message says what is wrong and how to put it right."""

from __future__ import annotations


class DomainError(Exception):
    """Something the incident process does not allow; the message is shown to the user as is."""


class ValidationError(DomainError):
    """Bad input: a field is missing or out of range."""


class TransitionError(DomainError):
    """A lifecycle step the state machine forbids from the current state."""

    def __init__(self, action: str, state: str, allowed: list[str], nothing: str = "the incident is final") -> None:
        self.action = action
        self.state = state
        self.allowed = allowed
        hint = ", ".join(allowed) if allowed else f"nothing ({nothing})"
        super().__init__(f"cannot {action} an incident that is {state}; allowed: {hint}")


class ConflictError(DomainError):
    """The incident changed since it was read; nothing was written."""

    def __init__(self, key: str, expected: int, actual: int, by: str = "", what: str = "") -> None:
        self.key = key
        self.expected = expected
        self.actual = actual
        detail = f" by {by}" if by else ""
        changed = f" ({what})" if what else ""
        super().__init__(
            f"{key} was changed{detail} since you opened it (version {expected} → {actual}){changed}; "
            "reload and try again"
        )


class NotFoundError(DomainError):
    pass


class PermissionDenied(DomainError):
    pass
