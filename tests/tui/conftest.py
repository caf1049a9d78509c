"""Fixtures the Pilot tests share: a SQLite store of the test's own, on the fixed clock."""

from __future__ import annotations

import pytest

from eim_tui.bootstrap import open_services


@pytest.fixture
def url(tmp_path) -> str:
    return f"sqlite:///{tmp_path}/x.db"


@pytest.fixture
def store(url, clock):
    svc = open_services(url, clock)
    yield svc
    svc.db.dispose()
