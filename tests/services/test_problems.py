"""Problem use cases on both backends: the life of a problem with its chained timeline, linking an
incident (both timelines, one transaction), who may do what, known errors on matching incidents,
and a linked confidential incident shown only as the placeholder."""

from __future__ import annotations

import pytest
from sqlalchemy import text

from eim_tui.domain.errors import (
    ConflictError,
    NotFoundError,
    PermissionDenied,
    ValidationError,
)
from eim_tui.domain.intake import NewIncident
from eim_tui.domain.model import EventKind
from eim_tui.domain.problems import ProblemState
from eim_tui.services.problems import ProblemCases

LEAD, RESPONDER = "chen", "alice"


def slow_checkout(svc, title: str = "checkout page slow, p99 above 2s", **extra):
    return svc.log_incident(NewIncident(title=title, impact=2, urgency=2, service="checkout-web",
                                        category="software", **extra), RESPONDER)


def test_a_problem_from_open_to_closed_with_its_timeline(svc) -> None:
    cases = ProblemCases(svc)
    made = cases.create(LEAD, "  Checkout slow under load ", service="checkout-web", configuration_item="redis-cart-01",
                        category="software", subcategory="performance", owner_group="app-support")
    assert (made.key, made.state, made.title, made.version) == ("PRB-000001", ProblemState.OPEN, "Checkout slow under load", 1)
    assert cases.create(LEAD, "Second").key == "PRB-000002"
    ke = cases.mark_known_error(LEAD, 1, "restart the cart cache", root_cause="cache eviction storm", expected_version=1)
    assert (ke.state, ke.version, ke.workaround) == (ProblemState.KNOWN_ERROR, 2, "restart the cart cache")
    with pytest.raises(ConflictError):
        cases.resolve(LEAD, 1, expected_version=1)
    cases.resolve(LEAD, 1)
    closed = cases.close(LEAD, 1)
    assert closed.state is ProblemState.CLOSED and closed.closed_at is not None
    again = cases.get(1)
    assert (again.state, again.root_cause, again.owner_group, again.configuration_item) == (
        ProblemState.CLOSED, "cache eviction storm", "app-support", "redis-cart-01")
    details = cases.details(1)
    assert [e.kind for e in details.events] == ["created", "state_changed", "state_changed", "state_changed"]
    assert details.events[1].summary.startswith("state open → known error; root cause: cache eviction storm")
    assert cases.verify().intact and cases.verify().events == 5
    assert [s.problem.key for s in cases.list([ProblemState.OPEN])] == ["PRB-000002"]


def test_bad_names_and_unknown_problems_are_refused(svc) -> None:
    cases = ProblemCases(svc)
    with pytest.raises(ValidationError, match="unknown category 'weather'"):
        cases.create(LEAD, "x", category="weather")
    with pytest.raises(ValidationError, match="unknown configuration item 'nope-01'"):
        cases.create(LEAD, "x", configuration_item="nope-01")
    with pytest.raises(NotFoundError, match="no problem PRB-000009; see eim problem list"):
        cases.resolve(LEAD, 9, "x")
    assert cases.list() == []


def test_responders_link_but_only_leads_and_admins_manage(svc) -> None:
    cases = ProblemCases(svc)
    with pytest.raises(PermissionDenied, match="managing problem records needs the shift lead or admin role; alice is a responder"):
        cases.create(RESPONDER, "x")
    problem = cases.create(LEAD, "Checkout slow", service="checkout-web")
    with pytest.raises(PermissionDenied):
        cases.mark_known_error(RESPONDER, problem.number, "w")
    incident = slow_checkout(svc)
    linked = cases.link(RESPONDER, incident.number, problem.number)
    assert linked.problem_ref == "PRB-000001"
    timeline = svc.details(incident.number).timeline
    assert timeline[-1].kind is EventKind.LINKED and "PRB-000001" in timeline[-1].summary
    details = cases.details(problem.number)
    assert [i.key for i in details.incidents] == [incident.key]
    assert details.events[-1].summary == f"linked {incident.key}" and details.events[-1].actor == RESPONDER
    assert cases.list()[0].incidents == 1
    with pytest.raises(ValidationError, match="is already linked to PRB-000001"):
        cases.link(RESPONDER, incident.number, problem.number)
    with pytest.raises(PermissionDenied, match="grace is a responder"):
        cases.resolve("grace", problem.number, "y")


def test_a_refused_link_writes_neither_timeline(svc) -> None:
    """The incident's change is version-guarded: a stale version fails and the problem's chain is untouched."""
    cases = ProblemCases(svc)
    problem = cases.create(LEAD, "Checkout slow")
    incident = slow_checkout(svc)
    with pytest.raises(ConflictError):
        cases.link(RESPONDER, incident.number, problem.number, expected_version=incident.version + 5)
    assert [e.kind for e in cases.details(problem.number).events] == ["created"]
    assert svc.get(incident.number).problem_ref == ""


def test_a_closed_problem_takes_no_more_incidents(svc) -> None:
    cases = ProblemCases(svc)
    problem = cases.create(LEAD, "x")
    cases.resolve(LEAD, problem.number, "y")
    cases.close(LEAD, problem.number)
    with pytest.raises(ValidationError, match="PRB-000001 is closed; open a new problem"):
        cases.link(RESPONDER, slow_checkout(svc).number, problem.number)


def test_known_errors_come_back_on_matching_open_incidents(svc) -> None:
    cases = ProblemCases(svc)
    problem = cases.create(LEAD, "Checkout slow, p99 above 2s", service="checkout-web", category="software")
    same = slow_checkout(svc)
    assert cases.known_error_of(same) is None  # not a known error yet
    cases.mark_known_error(LEAD, problem.number, "scale the checkout pods to 6")
    match = cases.known_error_of(svc.get(same.number))
    assert match is not None and match.line() == "Known error PRB-000001 — workaround: scale the checkout pods to 6"
    draft = NewIncident(title="checkout slow again p99 2s", impact=3, urgency=3, service="checkout-web", category="software")
    assert [m.problem.key for m in cases.known_errors_for(draft)] == ["PRB-000001"]
    other = slow_checkout(svc, title="checkout button colour wrong")
    assert cases.known_error_of(other) is None
    svc.acknowledge(same.number, RESPONDER)
    svc.resolve(same.number, RESPONDER, "fixed", "scaled")
    assert cases.known_error_of(svc.get(same.number)) is None  # only open incidents are told


def test_a_confidential_linked_incident_is_a_placeholder_for_others(svc) -> None:
    cases = ProblemCases(svc)
    problem = cases.create(LEAD, "Credential stuffing on SSO")
    secret = svc.log_incident(NewIncident(title="credential stuffing from 203.0.113.7", impact=1, urgency=1,
                                          category="security"), "admin")
    assert secret.confidential
    cases.link("admin", secret.number, problem.number)
    assert [i.title for i in cases.details(problem.number, viewer=RESPONDER).incidents] == ["confidential"]
    assert [i.title for i in cases.details(problem.number).incidents] == ["credential stuffing from 203.0.113.7"]


def test_an_altered_problem_event_is_found(svc) -> None:
    cases = ProblemCases(svc)
    cases.create(LEAD, "x")
    cases.mark_known_error(LEAD, 1, "y")
    with svc.db.write() as session:
        session.execute(text("UPDATE problem_event SET summary = 'nothing' WHERE seq = 2"))
    report = cases.verify()
    assert not report.intact and report.broken_at == 2
    assert "problem event 2 (PRB-000001, state_changed) was altered after it was written" in report.reason


def test_moving_an_incident_to_another_problem_tells_the_one_it_left(svc) -> None:
    cases = ProblemCases(svc)
    first, second = cases.create(LEAD, "first guess"), cases.create(LEAD, "the real cause")
    incident = slow_checkout(svc)
    cases.link(RESPONDER, incident.number, first.number)
    cases.link(RESPONDER, incident.number, second.number)
    assert cases.details(first.number).incidents == []
    assert cases.details(first.number).events[-1].summary == f"unlinked {incident.key}: now linked to PRB-000002"
    assert [i.key for i in cases.details(second.number).incidents] == [incident.key]
    assert cases.verify().intact


def test_the_problems_marker_moves_with_problems_and_links_only(svc) -> None:
    """What the problems screen polls: a problem created or changed, or an incident linked from
    either side, says "changed"; an incident's other changes do not (no re-read of the list)."""
    cases = ProblemCases(svc)
    incident = slow_checkout(svc)
    start = cases.marker()
    assert cases.changed_since(start) == (start, False)
    cases.create("chen", "Checkout slow", service="checkout-web")
    marker, changed = cases.changed_since(start)
    assert changed and marker[0] > start[0]
    svc.acknowledge(incident.number, "alice")
    after_ack, changed = cases.changed_since(marker)
    assert not changed and after_ack[1] > marker[1]
    svc.link(incident.number, "alice", problem_ref="PRB-000001")
    assert cases.changed_since(after_ack)[1]
    summaries, listed = cases.list_marked()
    assert listed == cases.marker() and summaries[0].incidents == 1
