"""Recurring patterns on a real store (SQLite and PostgreSQL): a planted cluster is found with its
reason; unrelated, linked, duplicate, cancelled, confidential and too-old incidents are not."""

from __future__ import annotations

from datetime import timedelta

import pytest

from eim_tui.domain.errors import ValidationError
from eim_tui.domain.model import format_key
from eim_tui.services.patterns import Patterns, parse_window
from tests.patterns_fixture import REASON, imported_log, plant


@pytest.fixture
def planted(svc, clock):
    return plant(svc, clock)


def test_the_planted_cluster_is_found_with_its_reason(svc, planted) -> None:
    data = Patterns(svc.db, svc.clock).candidates("30d", 5)
    assert [c["reason"] for c in data["candidates"]] == [REASON]
    found = data["candidates"][0]
    assert found["incidents"] == [format_key(n) for n in planted]
    assert found["anchor"] == {"kind": "service", "name": "vpn"} and found["rank"] == 1
    assert (data["window"], data["days"], data["min"]) == ("30d", 30, 5)


def test_linked_duplicate_cancelled_and_confidential_incidents_are_left_out(svc, planted, log) -> None:
    svc.link(planted[0], "alice", problem_ref="PRB-000001")
    svc.link(planted[1], "alice", parent=planted[2])
    svc.cancel(planted[3], "system", "logged twice")  # eim's own processes may
    secret = log(title="Tunnel drops for the security team", service="vpn", category="network", subcategory="vpn",
                 confidential=True)
    data = Patterns(svc.db, svc.clock).candidates("30d", 5)
    assert data["candidates"][0]["reason"].startswith("9 incidents · vpn · ")
    keys = set(data["candidates"][0]["incidents"])
    assert not keys & {format_key(n) for n in (*planted[:2], planted[3], secret.number)}
    seen = Patterns(svc.db, svc.clock).candidates("30d", 5, include_confidential=True)["candidates"][0]
    assert format_key(secret.number) in seen["incidents"]


def test_window_and_minimum_are_respected(svc, planted, clock) -> None:
    patterns = Patterns(svc.db, svc.clock)
    # The last six days hold five of the cluster (one a day), two of them with "tunnel drops".
    assert patterns.candidates("6d", 5)["candidates"][0]["reason"] == \
        '5 incidents · vpn · network/vpn · "tunnel" in 5 titles · last 6 days'
    assert patterns.candidates("5d", 5)["candidates"] == []
    assert patterns.candidates("30d", 13)["candidates"] == []
    clock.advance(timedelta(days=40))
    assert patterns.candidates("30d", 5)["candidates"] == []
    assert patterns.candidates("8w", 5)["candidates"][0]["reason"].endswith("in 9 titles · last 8 weeks")


@pytest.mark.parametrize("bad", ["", "30x", "0d", "-3d", "99999d", "d"])
def test_a_bad_window_says_how_to_write_one(bad: str) -> None:
    with pytest.raises(ValidationError, match="e.g. 30d"):
        parse_window(bad)


def test_window_forms() -> None:
    assert (parse_window("30d"), parse_window("2w"), parse_window("7")) == (30, 14, 7)


def test_imported_history_is_found_in_all_history_by_location(svc, tmp_path) -> None:
    from eim_tui.services.importing import import_history

    assert import_history(svc, imported_log(tmp_path / "log.csv")).new == 17
    patterns = Patterns(svc.db, svc.clock)
    recent = patterns.candidates("30d", 5)
    assert recent["candidates"] == [] and recent["newest"].startswith("2016-03-07")
    data = patterns.candidates("all", 5)
    assert (data["window"], data["days"], data["since"]) == ("all", None, None)
    [found] = data["candidates"]
    assert found["reason"] == ("7 incidents · at Location 143 · Category 26/Subcategory 174/Symptom 491 · "
                               "2016-03-01 to 2016-03-07")
    assert found["anchor"] == {"kind": "location", "name": "Location 143"} and found["phrase"] == ""
    assert len(found["incidents"]) == 7


def test_all_history_leaves_out_linked_incidents_too(svc, planted, clock) -> None:
    svc.link(planted[0], "alice", problem_ref="PRB-000001")
    clock.advance(timedelta(days=400))
    [found] = Patterns(svc.db, svc.clock).candidates("all", 5)["candidates"]
    assert found["reason"].startswith("11 incidents · vpn · network/vpn · \"tunnel drops\" in 8 titles · ")
