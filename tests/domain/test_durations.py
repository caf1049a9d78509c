"""Durations as people write them and as the queue shows them."""

from __future__ import annotations

from datetime import timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from eim_tui.domain.durations import format_countdown, format_duration, parse_duration

from .factories import PROPERTY


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("15m", timedelta(minutes=15)),
        ("4h", timedelta(hours=4)),
        ("3d", timedelta(days=3)),
        ("45s", timedelta(seconds=45)),
        ("1h30m", timedelta(hours=1, minutes=30)),
        ("1h 30m", timedelta(hours=1, minutes=30)),
        ("  2D ", timedelta(days=2)),
        ("1d2h3m4s", timedelta(days=1, hours=2, minutes=3, seconds=4)),
        ("90m", timedelta(minutes=90)),
        ("0m", timedelta(0)),
    ],
)
def test_parse(text: str, expected: timedelta) -> None:
    assert parse_duration(text) == expected


@pytest.mark.parametrize("text", ["", "   ", "15", "m", "15x", "-5m", "1.5h", "abc", "1h30", "h1", "15 minutes", "99999999999999d"])
def test_bad_input_says_how_to_write_a_duration(text: str) -> None:
    with pytest.raises(ValueError, match="is not a duration; write it like 15m, 4h, 3d or 1h30m"):
        parse_duration(text)


@pytest.mark.parametrize(
    ("seconds", "text"),
    [
        (0, "0s"),
        (45, "45s"),
        (59.9, "59s"),
        (60, "1m"),
        (12 * 60 + 59, "12m"),
        (3599, "59m"),
        (3600, "1h00m"),
        (3 * 3600 + 5 * 60 + 30, "3h05m"),
        (86399, "23h59m"),
        (86400, "1d00h"),
        (2 * 86400 + 4 * 3600 + 59 * 60, "2d04h"),
        (-90, "1m"),
    ],
)
def test_format_duration(seconds: float, text: str) -> None:
    assert format_duration(seconds) == text


@pytest.mark.parametrize(
    ("seconds", "text"),
    [(0, "0m00s"), (59, "0m59s"), (754, "12m34s"), (3599, "59m59s"), (3600, "1h00m"), (-61, "1m01s"), (90000, "1d01h")],
)
def test_format_countdown(seconds: float, text: str) -> None:
    assert format_countdown(seconds) == text


@PROPERTY
@given(st.integers(min_value=0, max_value=400 * 86400))
def test_format_then_parse_keeps_the_two_leading_units(seconds: int) -> None:
    parsed = parse_duration(format_duration(seconds)).total_seconds()
    dropped = seconds - parsed
    granularity = 1 if seconds < 60 else 60 if seconds < 86400 else 3600  # the unit format drops below
    assert 0 <= dropped < granularity


def _canonical(days: int, hours: int, minutes: int, seconds: int) -> int:
    return days * 86400 + hours * 3600 + minutes * 60 + seconds


@PROPERTY
@given(st.integers(0, 400), st.integers(0, 23), st.integers(0, 59), st.integers(0, 59))
def test_round_trip_of_what_format_writes(days: int, hours: int, minutes: int, seconds: int) -> None:
    """A duration that has only the two units format_duration shows survives the round trip."""
    if days:
        total = _canonical(days, hours, 0, 0)
    elif hours:
        total = _canonical(0, hours, minutes, 0)
    elif minutes:
        total = _canonical(0, 0, minutes, 0)
    else:
        total = seconds
    text = format_duration(total)
    assert parse_duration(text) == timedelta(seconds=total)
    assert format_duration(parse_duration(text).total_seconds()) == text


parts = st.lists(st.tuples(st.integers(0, 10_000), st.sampled_from("dhmsDHMS"), st.sampled_from(["", " "])), min_size=1, max_size=4)


@PROPERTY
@given(parts, st.sampled_from(["", " ", "  "]))
def test_parse_adds_up_what_is_written(pieces, pad: str) -> None:
    text = pad + "".join(f"{n}{sep}{unit}{sep}" for n, unit, sep in pieces) + pad
    expected = sum(n * {"d": 86400, "h": 3600, "m": 60, "s": 1}[unit.lower()] for n, unit, _ in pieces)
    assert parse_duration(text) == timedelta(seconds=expected)


@PROPERTY
@given(st.text(max_size=12))
def test_any_text_parses_or_raises_value_error(text: str) -> None:
    try:
        result = parse_duration(text)
    except ValueError as error:
        assert "is not a duration" in str(error)
    else:
        assert result >= timedelta(0)
