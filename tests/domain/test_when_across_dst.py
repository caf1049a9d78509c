"""`--detected` and the form's "detected" field across clock changes: a local time is read with
the rules of the day it names, not with today's offset (every other test runs with TZ=UTC)."""

from __future__ import annotations

import os
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest

from eim_tui.domain.intake import parse_when

LONDON = "Europe/London"  # GMT (UTC+0) until 2026-03-29 01:00 UTC, then BST (UTC+1) until 2026-10-25 01:00 UTC
SPRING = datetime(2026, 3, 29, 10, 0, tzinfo=UTC)  # 11:00 BST, the day the clocks went forward
AUTUMN = datetime(2026, 10, 25, 10, 0, tzinfo=UTC)  # 10:00 GMT, the day the clocks went back


@pytest.fixture(params=["system zone", "zone given"])
def zone(request: pytest.FixtureRequest) -> Iterator[ZoneInfo | None]:
    """The same cases with the system's zone set to London, and with London passed explicitly."""
    before = os.environ.get("TZ")
    os.environ["TZ"] = LONDON if request.param == "system zone" else "UTC"
    time.tzset()
    yield None if request.param == "system zone" else ZoneInfo(LONDON)
    if before is None:
        os.environ.pop("TZ", None)
    else:
        os.environ["TZ"] = before
    time.tzset()


CASES = [
    # (now, text, expected instant in UTC)
    (SPRING, "00:30", datetime(2026, 3, 29, 0, 30, tzinfo=UTC)),  # before the change: GMT
    (SPRING, "09:15", datetime(2026, 3, 29, 8, 15, tzinfo=UTC)),  # after it: BST
    (SPRING, "2026-03-29T00:30", datetime(2026, 3, 29, 0, 30, tzinfo=UTC)),
    (SPRING, "2026-03-28 12:00", datetime(2026, 3, 28, 12, 0, tzinfo=UTC)),  # yesterday was GMT
    (SPRING, "23:00", datetime(2026, 3, 28, 23, 0, tzinfo=UTC)),  # still to come today: yesterday, GMT
    (AUTUMN, "00:30", datetime(2026, 10, 24, 23, 30, tzinfo=UTC)),  # before the change: BST
    (AUTUMN, "09:00", datetime(2026, 10, 25, 9, 0, tzinfo=UTC)),  # after it: GMT
    (AUTUMN, "2026-10-24T18:00", datetime(2026, 10, 24, 17, 0, tzinfo=UTC)),
    (SPRING, "2026-03-29T00:30Z", datetime(2026, 3, 29, 0, 30, tzinfo=UTC)),  # an explicit zone wins
    (SPRING, "10m ago", datetime(2026, 3, 29, 9, 50, tzinfo=UTC)),
]


@pytest.mark.parametrize(("now", "text", "expected"), CASES, ids=[f"{c[0]:%m-%d} {c[1]}" for c in CASES])
def test_a_local_time_is_read_with_the_rules_of_its_own_day(zone, now, text, expected) -> None:
    assert parse_when(text, now, zone) == expected


def test_today_in_utc_is_unchanged() -> None:
    now = datetime(2026, 11, 26, 9, 0, tzinfo=UTC)
    assert parse_when("08:05", now, ZoneInfo("UTC")) == datetime(2026, 11, 26, 8, 5, tzinfo=UTC)
    assert parse_when("10:05", now, ZoneInfo("UTC")) == datetime(2026, 11, 25, 10, 5, tzinfo=UTC)
