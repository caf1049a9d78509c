"""Impact × urgency → priority (Severity 1 critical … 5 very low) through a configurable matrix."""

from __future__ import annotations

from dataclasses import dataclass

from eim_tui.domain.errors import ValidationError

LEVELS = (1, 2, 3)  # 1 high … 3 low, for impact and urgency alike
SEVERITIES = (1, 2, 3, 4, 5)

DEFAULT_MATRIX = ((1, 2, 3), (2, 3, 4), (3, 4, 5))


@dataclass(frozen=True, slots=True)
class PriorityMatrix:
    """`rows[impact-1][urgency-1]` is the priority."""

    rows: tuple[tuple[int, ...], ...] = DEFAULT_MATRIX

    def __post_init__(self) -> None:
        if len(self.rows) != 3 or any(len(r) != 3 for r in self.rows):
            raise ValidationError("the priority matrix must have 3 rows (impact) of 3 columns (urgency)")
        for row in self.rows:
            for value in row:
                if not isinstance(value, int) or isinstance(value, bool) or value not in SEVERITIES:
                    raise ValidationError(f"priority {value!r} in the matrix is not a severity 1–5")

    def priority(self, impact: int, urgency: int) -> int:
        check_level("impact", impact)
        check_level("urgency", urgency)
        return self.rows[impact - 1][urgency - 1]


def check_level(name: str, value: object) -> int:
    if not isinstance(value, int) or isinstance(value, bool) or value not in LEVELS:
        raise ValidationError(f"{name} must be 1 (high), 2 (medium) or 3 (low), not {value!r}")
    return value


def check_severity(value: object) -> int:
    if not isinstance(value, int) or isinstance(value, bool) or value not in SEVERITIES:
        raise ValidationError(f"severity must be 1 (critical) … 5 (very low), not {value!r}")
    return value


def decide_priority(
    matrix: PriorityMatrix,
    impact: int,
    urgency: int,
    override: int | None = None,
    reason: str = "",
) -> tuple[int, str]:
    """The priority to record and the override reason kept with it.

    An override that differs from the matrix needs a reason; one equal to it is no override.
    """
    computed = matrix.priority(impact, urgency)
    if override is None or override == computed:
        return computed, ""
    check_severity(override)
    if not reason.strip():
        raise ValidationError(
            f"overriding the matrix (Sev{computed}) with Sev{override} needs a reason; give one"
        )
    return override, reason.strip()
