"""Working calendars: when an SLA clock runs — around the clock, or business hours with holidays.

A calendar turns a working duration into an instant and back: `add(start, 4h)` is the instant four
working hours after `start`; `working_between(a, b)` is how much working time lies between two
instants; `before(due, 1h)` is when one working hour is left. Around the clock these are plain
datetime arithmetic. Business hours are local times in a named zone (`zoneinfo`), so daylight
saving moves the UTC instants and never the local opening hours. Everything is UTC in and out.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from eim_tui.domain.errors import ValidationError

WEEKDAY_NAMES = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
ZERO = timedelta(0)
# A calendar whose holidays swallow this many days in a row is a mistake, not a schedule.
_MAX_DAYS = 3 * 366


@dataclass(frozen=True, slots=True)
class WorkCalendar:
    """`always` runs around the clock; otherwise the clock runs on `weekdays` (0 = Monday) from
    `start` to `end` local time in `timezone`, except on `holidays` (local dates)."""

    name: str = "24x7"
    always: bool = True
    timezone: str = "UTC"
    weekdays: frozenset[int] = frozenset(range(7))
    start: time = time(0)
    end: time | None = None  # None: midnight at the end of the day
    holidays: frozenset[date] = field(default_factory=frozenset)

    def __post_init__(self) -> None:
        if self.always:
            return
        if not self.weekdays or not self.weekdays <= set(range(7)):
            raise ValidationError(f"calendar {self.name}: give at least one working weekday")
        if self.end is not None and self.end <= self.start:
            raise ValidationError(f"calendar {self.name}: the working day must end after it starts")
        try:
            ZoneInfo(self.timezone)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValidationError(f"calendar {self.name}: unknown timezone {self.timezone!r}") from None

    @property
    def day_length(self) -> timedelta:
        """One working day's length (24 h around the clock)."""
        if self.always:
            return timedelta(days=1)
        end = timedelta(days=1) if self.end is None else _since_midnight(self.end)
        return end - _since_midnight(self.start)

    # --- working windows ------------------------------------------------------------------------

    def _zone(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)  # ZoneInfo caches instances by key

    def _local_day(self, instant: datetime) -> date:
        return instant.astimezone(self._zone()).date()

    def window(self, day: date) -> tuple[datetime, datetime] | None:
        """The UTC instants the clock runs between on local `day`, or None on a day off."""
        if day.weekday() not in self.weekdays or day in self.holidays:
            return None
        zone = self._zone()
        opens = datetime.combine(day, self.start, tzinfo=zone).astimezone(UTC)
        if self.end is None:
            closes = datetime.combine(day + timedelta(days=1), time(0), tzinfo=zone).astimezone(UTC)
        else:
            closes = datetime.combine(day, self.end, tzinfo=zone).astimezone(UTC)
        return (opens, closes) if closes > opens else None

    def _days(self, first: date, step: int = 1):
        for offset in range(_MAX_DAYS):
            yield first + timedelta(days=offset * step)
        raise ValidationError(f"calendar {self.name}: no working time within {_MAX_DAYS} days")

    def is_working(self, instant: datetime) -> bool:
        if self.always:
            return True
        found = self.window(self._local_day(instant))
        return found is not None and found[0] <= instant < found[1]

    def skip_idle(self, instant: datetime) -> datetime:
        """`instant` if the clock runs then, else the next instant it starts running."""
        if self.always:
            return instant
        for day in self._days(self._local_day(instant)):
            found = self.window(day)
            if found and instant < found[1]:
                return max(instant, found[0])
        raise AssertionError("unreachable")  # pragma: no cover

    # --- arithmetic -----------------------------------------------------------------------------

    def add(self, start: datetime, duration: timedelta) -> datetime:
        """The earliest instant by which `duration` of working time has passed since `start`."""
        if self.always:
            return start + duration
        if duration <= ZERO:
            return start
        remaining = duration
        for day in self._days(self._local_day(start)):
            found = self.window(day)
            if found is None or found[1] <= start:
                continue
            begin = max(start, found[0])
            available = found[1] - begin
            if remaining <= available:
                return begin + remaining
            remaining -= available
        raise AssertionError("unreachable")  # pragma: no cover

    def before(self, due: datetime, duration: timedelta) -> datetime:
        """The earliest instant from which at most `duration` of working time is left until `due`
        (when a clock due at `due` has `duration` left: its warning instant)."""
        if self.always:
            return due - duration
        if duration <= ZERO:
            return due
        remaining = duration
        for day in self._days(self._local_day(due), step=-1):
            found = self.window(day)
            if found is None or found[0] >= due:
                continue
            end = min(due, found[1])
            available = end - found[0]
            # Exactly used up at a window's opening: the idle time before it counts nothing, so
            # the earliest such instant is the end of the working window before.
            if remaining < available:
                return end - remaining
            remaining -= available
        raise AssertionError("unreachable")  # pragma: no cover

    def working_between(self, start: datetime, end: datetime) -> timedelta:
        """Working time in [start, end); zero when end is not after start."""
        if end <= start:
            return ZERO
        if self.always:
            return end - start
        total = ZERO
        last = self._local_day(end)
        for day in self._days(self._local_day(start)):
            if day > last:
                return total
            found = self.window(day)
            if found is not None:
                overlap = min(end, found[1]) - max(start, found[0])
                if overlap > ZERO:
                    total += overlap
        raise AssertionError("unreachable")  # pragma: no cover


ALWAYS = WorkCalendar()


def business_calendar(
    name: str,
    timezone: str,
    weekdays: list[str] | tuple[str, ...],
    start: str,
    end: str,
    holidays: list[str] | tuple[str, ...] = (),
) -> WorkCalendar:
    """A business-hours calendar from the words of a policy file; ValidationError says what is wrong."""
    days = set()
    for word in weekdays:
        key = str(word).strip().lower()[:3]
        if key not in WEEKDAY_NAMES:
            raise ValidationError(f"unknown weekday {word!r}; use {', '.join(WEEKDAY_NAMES)}")
        days.add(WEEKDAY_NAMES.index(key))
    opens = _clock_time(start, "start")
    closes = None if end.strip() == "24:00" else _clock_time(end, "end")
    dates = set()
    for text in holidays:
        try:
            dates.add(date.fromisoformat(str(text).strip()))
        except ValueError:
            raise ValidationError(f"holiday {text!r} is not a date; write it like 2026-12-25") from None
    return WorkCalendar(name, False, timezone, frozenset(days), opens, closes, frozenset(dates))


def _clock_time(text: str, what: str) -> time:
    try:
        parsed = time.fromisoformat(text.strip())
    except ValueError:
        raise ValidationError(f"{what} {text!r} is not a time of day; write it like 09:00") from None
    if parsed.tzinfo is not None:
        raise ValidationError(f"{what} {text!r}: give the local time; the zone is `timezone`")
    return parsed


def _since_midnight(value: time) -> timedelta:
    return timedelta(hours=value.hour, minutes=value.minute, seconds=value.second, microseconds=value.microsecond)
