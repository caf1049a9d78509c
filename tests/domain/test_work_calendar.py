"""Working calendars: adding working time to an instant, counting it between two, and the warning
instant before a due — around the clock, on business hours, over weekends, holidays and DST."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from eim_tui.domain.errors import ValidationError
from eim_tui.domain.work_calendar import ALWAYS, WorkCalendar, business_calendar

H, MIN = timedelta(hours=1), timedelta(minutes=1)
# Europe/London is UTC in winter: 2026-11-27 is a Friday.
LONDON = business_calendar("business", "Europe/London", ["mon", "tue", "wed", "thu", "fri"], "09:00", "17:00",
                           ["2026-11-30"])
FRI_16 = datetime(2026, 11, 27, 16, 0, tzinfo=UTC)


def test_friday_afternoon_plus_two_working_hours_skips_the_weekend_and_the_holiday() -> None:
    # Monday 30th is a holiday: Friday 16:00 + 2h → one hour on Friday, one on Tuesday.
    assert LONDON.add(FRI_16, 2 * H) == datetime(2026, 12, 1, 10, 0, tzinfo=UTC)
    assert LONDON.working_between(FRI_16, datetime(2026, 12, 1, 10, 0, tzinfo=UTC)) == 2 * H


def test_time_outside_hours_starts_counting_at_the_next_opening() -> None:
    saturday = datetime(2026, 11, 28, 12, 0, tzinfo=UTC)
    assert LONDON.add(saturday, 30 * MIN) == datetime(2026, 12, 1, 9, 30, tzinfo=UTC)
    assert LONDON.skip_idle(saturday) == datetime(2026, 12, 1, 9, 0, tzinfo=UTC)
    assert not LONDON.is_working(saturday)


def test_a_target_that_ends_exactly_at_closing_is_due_at_closing_not_next_morning() -> None:
    assert LONDON.add(FRI_16, H) == datetime(2026, 11, 27, 17, 0, tzinfo=UTC)


def test_warning_instant_walks_back_over_the_weekend() -> None:
    due = datetime(2026, 12, 1, 10, 0, tzinfo=UTC)  # Tuesday 10:00
    assert LONDON.before(due, 2 * H) == FRI_16
    # One hour left at Tuesday 09:00 — and already all of Friday evening, the weekend and the holiday.
    assert LONDON.before(due, H) == datetime(2026, 11, 27, 17, 0, tzinfo=UTC)


def test_summer_time_moves_the_utc_hours_not_the_local_ones() -> None:
    summer = datetime(2026, 7, 1, 8, 0, tzinfo=UTC)  # Wednesday 09:00 BST
    assert LONDON.is_working(summer)
    assert not LONDON.is_working(summer - MIN)
    # The Friday before the clocks change (29 March 2026) and the Monday after: 8 h days both.
    assert LONDON.working_between(datetime(2026, 3, 27, tzinfo=UTC), datetime(2026, 3, 31, tzinfo=UTC)) == 16 * H


def test_bad_calendars_are_refused_with_the_reason() -> None:
    with pytest.raises(ValidationError, match="unknown weekday"):
        business_calendar("b", "UTC", ["funday"], "09:00", "17:00")
    with pytest.raises(ValidationError, match="end after it starts"):
        business_calendar("b", "UTC", ["mon"], "17:00", "09:00")
    with pytest.raises(ValidationError, match="unknown timezone"):
        business_calendar("b", "Mars/Olympus", ["mon"], "09:00", "17:00")
    with pytest.raises(ValidationError, match="not a date"):
        business_calendar("b", "UTC", ["mon"], "09:00", "17:00", ["25 December"])


# --- properties -------------------------------------------------------------------------------

ZONES = ["UTC", "Europe/London", "America/New_York", "Australia/Sydney", "Asia/Kolkata"]


@st.composite
def calendars(draw) -> WorkCalendar:
    start = draw(st.integers(0, 20))
    end = draw(st.integers(start + 1, 24))
    days = draw(st.sets(st.integers(0, 6), min_size=1))
    holidays = draw(st.sets(st.dates(date(2026, 1, 1), date(2027, 12, 31)), max_size=8))
    return WorkCalendar("c", False, draw(st.sampled_from(ZONES)), frozenset(days), time(start),
                        None if end == 24 else time(end), frozenset(holidays))


instants = st.integers(0, 600 * 24 * 60).map(lambda m: datetime(2026, 1, 1, tzinfo=UTC) + timedelta(minutes=m))
durations = st.integers(1, 40 * 60).map(lambda m: timedelta(minutes=m))
PROPERTY = settings(max_examples=150, deadline=None)


@PROPERTY
@given(instants, durations)
def test_around_the_clock_is_plain_arithmetic(t: datetime, d: timedelta) -> None:
    assert ALWAYS.add(t, d) == t + d
    assert ALWAYS.before(t, d) == t - d
    assert ALWAYS.working_between(t, t + d) == d


@PROPERTY
@given(calendars(), instants, durations)
def test_adding_working_time_gives_exactly_that_much_and_ends_in_working_hours(cal, t, d) -> None:
    due = cal.add(t, d)
    assert due > t
    assert cal.working_between(t, due) == d
    assert cal.is_working(due - timedelta(microseconds=1))  # the last instant counted was working
    # and it is the earliest such instant
    assert cal.working_between(t, due - timedelta(seconds=1)) < d


@PROPERTY
@given(calendars(), instants, durations, durations)
def test_adding_is_monotone_and_adds_up(cal, t, a, b) -> None:
    assert cal.add(t, a + b) == cal.add(cal.add(t, a), b)
    assert cal.add(t, a) <= cal.add(t + b, a)


@PROPERTY
@given(calendars(), instants, durations)
def test_before_is_the_earliest_instant_with_that_much_left(cal, due, d) -> None:
    due = cal.add(due, MIN)  # a due instant as the clocks make them: in working hours
    warn = cal.before(due, d)
    assert cal.working_between(warn, due) == d
    assert cal.working_between(warn - timedelta(seconds=1), due) > d


@PROPERTY
@given(calendars(), instants, durations, instants)
def test_the_schedulers_bound_agrees_with_the_warning_instant(cal, due, lead, t) -> None:
    # sla_queries finds warnings after t as due > skip_idle(add(t, lead)); that must be exact.
    due = cal.add(due, MIN)
    assert (cal.before(due, lead) > t) == (due > cal.skip_idle(cal.add(t, lead)))


@settings(max_examples=40, deadline=None)
@given(calendars(), instants, st.integers(1, 6 * 60).map(lambda m: timedelta(minutes=m)))
def test_adding_agrees_with_counting_minute_by_minute(cal, t, d) -> None:
    # Every calendar boundary here falls on a whole minute (whole-hour windows, minute instants).
    step, counted, at = MIN, timedelta(0), t
    for _ in range(60 * 24 * 40):
        if counted == d:
            break
        if cal.is_working(at):
            counted += step
        at += step
    else:
        return  # a calendar too sparse to reach d in 40 days: not what this checks
    assert cal.add(t, d) == at


@PROPERTY
@given(calendars(), instants)
def test_holidays_and_days_off_count_nothing(cal, t) -> None:
    day = t.astimezone(cal._zone()).date()
    if day.weekday() not in cal.weekdays or day in cal.holidays:
        assert cal.window(day) is None
    start = datetime.combine(day, time(0), tzinfo=cal._zone())
    end = datetime.combine(day + timedelta(days=1), time(0), tzinfo=cal._zone())
    window = cal.window(day)
    expected = timedelta(0) if window is None else window[1] - window[0]
    assert cal.working_between(start.astimezone(UTC), end.astimezone(UTC)) == expected
