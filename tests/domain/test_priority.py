"""Impact × urgency → priority, and overrides."""

from __future__ import annotations

import tomllib
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from eim_tui.domain.errors import ValidationError
from eim_tui.domain.priority import DEFAULT_MATRIX, PriorityMatrix, decide_priority

from .factories import PROPERTY

DEFAULT = PriorityMatrix()
levels = st.integers(min_value=1, max_value=3)
severities = st.integers(min_value=1, max_value=5)

EXPECTED = {
    (1, 1): 1,
    (1, 2): 2, (2, 1): 2,
    (1, 3): 3, (2, 2): 3, (3, 1): 3,
    (2, 3): 4, (3, 2): 4,
    (3, 3): 5,
}  # fmt: skip

BAD_LEVELS = [0, 4, -1, 10, True, False, "1", "high", 1.0, 2.5, None]


@pytest.mark.parametrize(("impact", "urgency"), sorted(EXPECTED))
def test_default_matrix(impact: int, urgency: int) -> None:
    assert DEFAULT.priority(impact, urgency) == EXPECTED[(impact, urgency)]


def test_shipped_priority_data_matches_the_default() -> None:
    data = tomllib.loads((Path(__file__).parents[2] / "data" / "priority.toml").read_text())
    assert tuple(tuple(row) for row in data["matrix"]) == DEFAULT_MATRIX


@PROPERTY
@given(levels, levels, levels, levels)
def test_default_is_monotone(impact: int, urgency: int, impact2: int, urgency2: int) -> None:
    """Higher impact and urgency (lower numbers) never give a less severe (higher) priority."""
    if impact2 <= impact and urgency2 <= urgency:
        assert DEFAULT.priority(impact2, urgency2) <= DEFAULT.priority(impact, urgency)


def test_default_is_strictly_monotone_along_each_axis() -> None:
    for fixed in (1, 2, 3):
        for low in (1, 2):
            assert DEFAULT.priority(low, fixed) < DEFAULT.priority(low + 1, fixed)
            assert DEFAULT.priority(fixed, low) < DEFAULT.priority(fixed, low + 1)


@PROPERTY
@given(levels, levels)
def test_default_is_symmetric(impact: int, urgency: int) -> None:
    assert DEFAULT.priority(impact, urgency) == DEFAULT.priority(urgency, impact)


matrices = st.lists(st.lists(severities, min_size=3, max_size=3).map(tuple), min_size=3, max_size=3).map(tuple)


@PROPERTY
@given(matrices, levels, levels)
def test_any_valid_matrix_gives_a_severity_from_its_cell(rows, impact: int, urgency: int) -> None:
    matrix = PriorityMatrix(rows)
    result = matrix.priority(impact, urgency)
    assert result in range(1, 6)
    assert result == rows[impact - 1][urgency - 1]


@pytest.mark.parametrize("bad", BAD_LEVELS, ids=repr)
def test_invalid_impact_is_refused(bad: object) -> None:
    with pytest.raises(ValidationError, match="impact must be 1"):
        DEFAULT.priority(bad, 2)  # type: ignore[arg-type]


@pytest.mark.parametrize("bad", BAD_LEVELS, ids=repr)
def test_invalid_urgency_is_refused(bad: object) -> None:
    with pytest.raises(ValidationError, match="urgency must be 1"):
        DEFAULT.priority(2, bad)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    "rows",
    [
        ((1, 2, 3), (2, 3, 4)),
        ((1, 2), (2, 3), (3, 4)),
        ((1, 2, 3), (2, 3, 4), (3, 4, 6)),
        ((0, 2, 3), (2, 3, 4), (3, 4, 5)),
        ((True, 2, 3), (2, 3, 4), (3, 4, 5)),
        ((1.0, 2, 3), (2, 3, 4), (3, 4, 5)),
        (("1", 2, 3), (2, 3, 4), (3, 4, 5)),
    ],
)
def test_malformed_matrix_is_refused(rows) -> None:
    with pytest.raises(ValidationError):
        PriorityMatrix(rows)


# --- decide_priority -----------------------------------------------------------------------


def test_no_override_records_the_matrix_priority() -> None:
    assert decide_priority(DEFAULT, 1, 2) == (2, "")


def test_override_needs_a_reason() -> None:
    with pytest.raises(ValidationError, match="needs a reason"):
        decide_priority(DEFAULT, 3, 3, override=1)
    with pytest.raises(ValidationError, match="needs a reason"):
        decide_priority(DEFAULT, 3, 3, override=1, reason="   ")


def test_override_with_reason_is_kept_with_the_reason_trimmed() -> None:
    assert decide_priority(DEFAULT, 3, 3, override=1, reason="  CEO cannot pay  ") == (1, "CEO cannot pay")


def test_override_equal_to_the_matrix_is_no_override() -> None:
    assert decide_priority(DEFAULT, 2, 2, override=3) == (3, "")
    assert decide_priority(DEFAULT, 2, 2, override=3, reason="because") == (3, "")


@pytest.mark.parametrize("bad", [0, 6, -1, True, "2", 2.5])
def test_override_must_be_a_severity(bad: object) -> None:
    with pytest.raises(ValidationError):
        decide_priority(DEFAULT, 3, 3, override=bad, reason="a reason")  # type: ignore[arg-type]


def test_decide_priority_checks_levels_even_with_an_override() -> None:
    with pytest.raises(ValidationError, match="impact"):
        decide_priority(DEFAULT, 4, 1, override=1, reason="a reason")


@PROPERTY
@given(levels, levels, st.none() | severities, st.sampled_from(["", "  ", "major customer down"]))
def test_decide_priority_outcomes(impact: int, urgency: int, override: int | None, reason: str) -> None:
    computed = DEFAULT.priority(impact, urgency)
    if override is not None and override != computed and not reason.strip():
        with pytest.raises(ValidationError):
            decide_priority(DEFAULT, impact, urgency, override, reason)
        return
    priority, kept = decide_priority(DEFAULT, impact, urgency, override, reason)
    if override is None or override == computed:
        assert (priority, kept) == (computed, "")
    else:
        assert (priority, kept) == (override, reason.strip())
