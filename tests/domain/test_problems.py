"""Problem records' rules: keys, the life open → known error → resolved → closed, and which known
errors an incident matches (same service or CI, same category, a similar title)."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from eim_tui.domain.errors import ValidationError
from eim_tui.domain.intake import NewIncident
from eim_tui.domain.problems import (
    Problem,
    ProblemState,
    ProblemStep,
    advance,
    check_title,
    format_problem_key,
    match_known_errors,
    parse_problem_key,
    parse_state,
)

NOW = datetime(2026, 12, 6, 2, 0, tzinfo=UTC)


def known(number: int = 12, title: str = "VPN tunnel drops every few minutes", service: str = "vpn",
          ci: str = "", category: str = "network", workaround: str = "Reconnect with the TCP profile") -> Problem:
    return Problem(number, title, ProblemState.KNOWN_ERROR, service=service, configuration_item=ci,
                   category=category, workaround=workaround)


def report(title: str = "vpn tunnel drops for the sales team", service: str = "vpn", ci: str = "",
           category: str = "network") -> NewIncident:
    return NewIncident(title=title, impact=2, urgency=2, service=service, configuration_item=ci, category=category)


def test_keys_read_and_written() -> None:
    assert format_problem_key(123) == "PRB-000123"
    assert parse_problem_key("PRB-000123") == parse_problem_key("prb-123") == parse_problem_key(" 123 ") == 123
    for bad in ("PRB-", "PRB-0", "INC-000001", "PRB-12x", "", "-4", "1234567890"):
        with pytest.raises(ValueError, match="is not a problem key; use the form PRB-000123"):
            parse_problem_key(bad)


def test_the_life_of_a_problem() -> None:
    p = Problem(1, "Disks fill on the db hosts")
    with pytest.raises(ValidationError, match="needs its workaround"):
        advance(p, ProblemStep.KNOWN_ERROR, NOW)
    with pytest.raises(ValidationError, match=r"cannot close PRB-000001: it is open; allowed: known-error, resolve"):
        advance(p, ProblemStep.CLOSE, NOW)
    ke = advance(p, ProblemStep.KNOWN_ERROR, NOW, workaround="  rotate logs by hand ")
    assert (ke.state, ke.workaround, ke.root_cause, ke.updated_at) == (ProblemState.KNOWN_ERROR, "rotate logs by hand", "", NOW)
    better = advance(ke, ProblemStep.KNOWN_ERROR, NOW, root_cause="logrotate disabled", workaround="run logrotate -f")
    assert (better.workaround, better.root_cause) == ("run logrotate -f", "logrotate disabled")
    with pytest.raises(ValidationError, match=r"say what the root cause of PRB-000001 was"):
        advance(ke, ProblemStep.RESOLVE, NOW)
    resolved = advance(better, ProblemStep.RESOLVE, NOW)  # the root cause recorded before is enough
    assert (resolved.state, resolved.resolved_at, resolved.workaround) == (ProblemState.RESOLVED, NOW, "run logrotate -f")
    closed = advance(resolved, ProblemStep.CLOSE, NOW)
    assert closed.state is ProblemState.CLOSED and closed.closed_at == NOW
    for step in ProblemStep:
        with pytest.raises(ValidationError, match="allowed: nothing \\(the problem is closed\\)"):
            advance(closed, step, NOW, root_cause="x", workaround="y")


def test_titles_and_states_from_people() -> None:
    assert check_title("  disks \n fill  ") == "disks fill"
    with pytest.raises(ValidationError, match="needs a title"):
        check_title("   ")
    with pytest.raises(ValidationError, match="keep it under 300"):
        check_title("x" * 301)
    assert parse_state("known-error") is parse_state("Known Error") is ProblemState.KNOWN_ERROR
    with pytest.raises(ValidationError, match="unknown problem state 'fixed'; use one of: open, known_error"):
        parse_state("fixed")


def test_a_similar_incident_on_the_same_service_and_category_matches_with_its_reason() -> None:
    [match] = match_known_errors(report(), [known()])
    assert match.problem.number == 12
    assert match.reason.startswith("same service vpn, category network, ")
    assert "drops tunnel vpn" in match.reason
    assert match.line() == "Known error PRB-000012 — workaround: Reconnect with the TCP profile"


def test_the_same_ci_is_enough_without_the_service() -> None:
    problem = known(service="", ci="vpn-gw-01")
    assert [m.problem.key for m in match_known_errors(report(service="", ci="vpn-gw-01"), [problem])] == ["PRB-000012"]
    assert match_known_errors(report(service="", ci="vpn-gw-02"), [problem]) == []


@pytest.mark.parametrize("incident", [
    report(service="email"),  # another service
    report(category="software"),  # another category
    report(title="VPN client licence expired"),  # the same place, another fault
    report(title=""),
])
def test_what_does_not_match(incident: NewIncident) -> None:
    assert match_known_errors(incident, [known()]) == []


def test_only_known_errors_match_and_the_best_comes_first() -> None:
    open_one = known(number=3).replace(state=ProblemState.OPEN)
    resolved = known(number=4).replace(state=ProblemState.RESOLVED)
    close = known(number=5, title="vpn tunnel drops for sales")
    far = known(number=6, title="tunnel drops at night")
    middle = known(number=7, title="vpn tunnel drops in the evening")
    found = match_known_errors(report(), [open_one, resolved, far, close, middle])
    assert [m.problem.number for m in found] == [5, 7, 6]  # 85%, 73%, 54% alike; open and resolved ones never
    assert [m.problem.number for m in match_known_errors(report(), [far, close, middle], limit=1)] == [5]


def test_a_known_error_without_a_category_matches_any() -> None:
    assert match_known_errors(report(category="hardware"), [known(category="")])
