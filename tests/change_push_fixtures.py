"""Two services on one PostgreSQL store — one writes, one watches for pushed changes — shared by
tests/store/test_change_push.py and tests/tui/test_change_push.py (imported there by name)."""

from __future__ import annotations

import pytest

from eim_tui.bootstrap import open_services


@pytest.fixture
def pg_url(postgres) -> str:
    return postgres.with_store()


@pytest.fixture
def writer(pg_url, clock):
    svc = open_services(pg_url, clock)
    yield svc
    svc.db.dispose()


@pytest.fixture
def watcher(pg_url, clock):
    svc = open_services(pg_url, clock)
    yield svc
    svc.db.dispose()
