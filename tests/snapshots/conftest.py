"""Shared by the snapshot tests: local time is UTC, and the app on the seeded demo and a fixed clock.

Pictures must be the same on every machine: the clock is fixed (2026-11-26 09:00 UTC), local
times are drawn in UTC, and data comes from the seeded demo or the use cases.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime

import pytest

from eim_tui.domain.clock import FixedClock

SNAPSHOT_NOW = datetime(2026, 11, 26, 9, 0, tzinfo=UTC)


@pytest.fixture(autouse=True)
def utc_local_time() -> Iterator[None]:
    """Every snapshot test draws local times in UTC (headers, "today", due times)."""
    before = os.environ.get("TZ")
    os.environ["TZ"] = "UTC"
    time.tzset()
    yield
    if before is None:
        os.environ.pop("TZ", None)
    else:
        os.environ["TZ"] = before
    time.tzset()


@pytest.fixture
def snapshot_clock() -> FixedClock:
    return FixedClock(SNAPSHOT_NOW)


@pytest.fixture
def fixed_clock_app(tmp_path, snapshot_clock, app_factory) -> Iterator[Callable[..., object]]:
    """`fixed_clock_app(demo=60, user="alice")` → the app (app_factory's) on a fresh SQLite store in
    tmp_path, filled with the seeded demo (seed 7), on the fixed clock; timers that never fire on
    their own (the screens paint their clock and countdowns when mounted), and no SLA scheduler."""
    from eim_tui.bootstrap import open_services
    from eim_tui.config import Config
    from eim_tui.services.demo import generate

    opened = []

    def make(demo: int = 60, user: str = "alice", config: Config | None = None):
        svc = open_services(f"sqlite:///{tmp_path}/snap-{len(opened)}.db", snapshot_clock)
        opened.append(svc)
        if demo:
            generate(svc, incidents=demo, seed=7)
        return app_factory(svc, user, config=config)

    yield make
    for svc in opened:
        svc.db.dispose()
