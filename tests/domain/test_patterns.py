"""Recurring patterns, pure: what clusters, what does not, the phrase and reason, the ranking."""

from __future__ import annotations

from eim_tui.domain.patterns import PatternIncident, find_patterns, window_label
from tests.patterns_fixture import DROPS, OTHER_TUNNEL, UNRELATED

DAY = 86400.0
NOW = 1_000 * DAY



def incident(number: int, title: str, service: str = "vpn", ci: str = "", category: str = "network",
             subcategory: str = "tunnel", symptom: str = "", severity: int = 3, age_days: float = 1.0) -> PatternIncident:
    return PatternIncident(number, title, service, ci, category, subcategory, symptom, severity, NOW - age_days * DAY)


def planted(start: int = 1, **fields) -> list[PatternIncident]:
    return [incident(start + i, t, **fields) for i, t in enumerate(DROPS + OTHER_TUNNEL)]


def test_a_planted_cluster_is_found_with_its_reason_and_numbers() -> None:
    found = find_patterns(planted(), NOW, 30, minimum=5)
    assert len(found) == 1
    c = found[0]
    assert c.reason == '12 incidents · vpn · network/tunnel · "tunnel drops" in 9 titles · last 30 days'
    assert c.numbers == tuple(range(1, 13)) and c.count == 12
    assert (c.anchor_kind, c.anchor, c.phrase, c.phrase_titles) == ("service", "vpn", "tunnel drops", 9)


def test_unrelated_incidents_on_the_same_service_and_category_are_left_out() -> None:
    noise = [incident(100 + i, t) for i, t in enumerate(UNRELATED)]
    found = find_patterns(planted() + noise, NOW, 30, minimum=5)
    assert [c.numbers for c in found] == [tuple(range(1, 13))]
    assert find_patterns(noise, NOW, 30, minimum=2) == []


def test_the_same_titles_on_other_services_or_categories_do_not_join() -> None:
    spread = [incident(i, t, service=f"svc-{i}") for i, t in enumerate(DROPS)]
    spread += [incident(50 + i, t, subcategory=f"sub-{i}") for i, t in enumerate(DROPS)]
    assert find_patterns(spread, NOW, 30, minimum=2) == []


def test_a_configuration_item_anchors_incidents_without_a_service_and_the_symptom_is_in_the_reason() -> None:
    found = find_patterns(planted(service="", ci="vpn-gw-01", symptom="drops"), NOW, 30, minimum=5)
    assert found[0].anchor_kind == "ci"
    assert found[0].reason.startswith("12 incidents · vpn-gw-01 · network/tunnel/drops · ")


def test_minimum_is_respected() -> None:
    assert len(find_patterns(planted(), NOW, 30, minimum=12)) == 1
    assert find_patterns(planted(), NOW, 30, minimum=13) == []


def test_two_recurring_problems_on_one_service_are_two_candidates() -> None:
    printer = [incident(200 + i, f"Printer jams on floor {i}") for i in range(6)]
    found = find_patterns(planted() + printer, NOW, 30, minimum=5)
    assert sorted(c.phrase for c in found) == ["printer jams floor", "tunnel drops"]
    assert {n for c in found for n in c.numbers} == set(range(1, 13)) | set(range(200, 206))


def test_rank_is_count_times_severity_times_recency() -> None:
    big_old = planted(1, service="vpn", age_days=28)
    small_recent_critical = [incident(100 + i, f"Disk full on db{i}", service="db", category="hardware",
                                      subcategory="storage", severity=1, age_days=0.5) for i in range(5)]
    found = find_patterns(big_old + small_recent_critical, NOW, 30, minimum=5)
    assert [c.anchor for c in found] == ["db", "vpn"]
    same_but_minor = [incident(100 + i, f"Disk full on db{i}", service="db", category="hardware",
                               subcategory="storage", severity=4, age_days=0.5) for i in range(5)]
    assert [c.anchor for c in find_patterns(planted(age_days=0.5) + same_but_minor, NOW, 30, 5)] == ["vpn", "db"]
    assert find_patterns(planted(age_days=1), NOW, 30, 5)[0].score > find_patterns(planted(age_days=20), NOW, 30, 5)[0].score


def test_window_labels() -> None:
    assert window_label(30) == "last 30 days"
    assert window_label(14) == "last 2 weeks"
    assert window_label(1) == "last day"


def imported(number: int, location: str, symptom: str = "Symptom 491", age_days: float = 400.0, ci: str = ""):
    """An incident shaped like the ServiceNow import: no service, rarely a CI, a location, and a
    title that is only its category, subcategory and symptom."""
    title = f"Category 26 · Subcategory 174 · {symptom}"
    return PatternIncident(number, title, "", ci, "Category 26", "Subcategory 174", symptom, 3,
                           NOW - age_days * DAY, location)


def test_imported_history_clusters_by_location_and_its_reason_says_what_is_shared() -> None:
    cluster = [imported(i, "Location 143", age_days=400 - i) for i in range(1, 8)]
    other_symptom = [imported(20 + i, "Location 143", symptom=f"Symptom {i}") for i in range(4)]
    other_places = [imported(30 + i, f"Location {i}") for i in range(6)]
    found = find_patterns(cluster + other_symptom + other_places, NOW, None, minimum=5)
    assert len(found) == 1
    c = found[0]
    assert (c.anchor_kind, c.anchor, c.numbers, c.phrase, c.phrase_titles) == (
        "location", "Location 143", tuple(range(1, 8)), "", 0)
    first, last = window_label(None, NOW - 399 * DAY, NOW - 393 * DAY).split(" to ")
    assert c.reason == f"7 incidents · at Location 143 · Category 26/Subcategory 174/Symptom 491 · {first} to {last}"


def test_a_configuration_item_comes_before_the_location() -> None:
    found = find_patterns([imported(i, f"Location {i}", ci="WSC0001") for i in range(5)], NOW, None, 5)
    assert [(c.anchor_kind, c.anchor) for c in found] == [("ci", "WSC0001")]
    assert found[0].reason.startswith("5 incidents · WSC0001 · Category 26/")


def test_all_history_ranks_by_recency_within_the_history_not_from_today() -> None:
    # A year-old history: measured from its newest incident, the later cluster still ranks first and
    # the older one keeps a score above zero (the half-life is a quarter of the span).
    early = [imported(i, "Location 1", age_days=400) for i in range(1, 11)]
    late = [imported(100 + i, "Location 2", age_days=40) for i in range(8)]
    found = find_patterns(early + late, NOW - 40 * DAY, None, minimum=5)
    assert [c.anchor for c in found] == ["Location 2", "Location 1"]
    assert found[1].score > 0.5


def test_window_label_for_all_history() -> None:
    assert window_label(None) == "all history"
    assert window_label(None, 0.0, 40 * DAY) == "1970-01-01 to 1970-02-10"
    assert window_label(None, 0.0, 3600.0) == "on 1970-01-01"
