"""The filter language of the queue's `/` bar and `eim list --filter`."""

from __future__ import annotations

import shlex
from dataclasses import dataclass

import pytest
from hypothesis import given
from hypothesis import strategies as st

from eim_tui.domain.filters import Filter, FilterError, matches, parse
from eim_tui.domain.model import OPEN_STATES, Incident, State

from .factories import PROPERTY, make_incident

# --- parsing ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "sev_min", "sev_max"),
    [
        ("sev<=2", 1, 2),
        ("sev<2", 1, 1),
        ("sev=1", 1, 1),
        ("sev:3", 3, 3),
        ("sev>=4", 4, 5),
        ("sev>3", 4, 5),
        ("SEV<=2", 1, 2),
        ("severity<=3", 1, 3),
        ("priority=2", 2, 2),
        ("p<=2", 1, 2),
        ("sev>=2 sev<=3", 2, 3),
        ("sev<=4 sev<3", 1, 2),
        ("", 1, 5),
    ],
)
def test_severity_terms(text: str, sev_min: int, sev_max: int) -> None:
    f = parse(text)
    assert (f.sev_min, f.sev_max) == (sev_min, sev_max)


@pytest.mark.parametrize(
    ("text", "states"),
    [
        ("state:new,on_hold", {State.NEW, State.ON_HOLD}),
        ("state:open", set(OPEN_STATES)),
        ("state:OPEN", set(OPEN_STATES)),
        ("state:resolved", {State.RESOLVED}),
        ("state:hold", {State.ON_HOLD}),
        ("state:in-progress", {State.IN_PROGRESS}),
        ("state:new state:closed", {State.NEW, State.CLOSED}),
        ("state:open,cancelled", set(OPEN_STATES) | {State.CANCELLED}),
        ('state:"on hold"', {State.ON_HOLD}),
        ("open", set(OPEN_STATES)),
        ("state:resolved open", set(OPEN_STATES) | {State.RESOLVED}),
    ],
)
def test_state_terms(text: str, states: set[State]) -> None:
    assert parse(text).states == frozenset(states)


def test_no_state_term_leaves_the_states_to_the_view() -> None:
    assert parse("disk").states is None
    assert parse("all").include_closed is True
    assert parse("disk").include_closed is False


@pytest.mark.parametrize(
    ("text", "field", "values"),
    [
        ("service:payments", "services", ("payments",)),
        ("service:Payments,CRM", "services", ("payments", "crm")),
        ('service:"Core Banking"', "services", ("core banking",)),
        ("group:network", "groups", ("network",)),
        ("group:network group:database", "groups", ("network", "database")),
        ("category:security", "categories", ("security",)),
        ("Category:Security", "categories", ("security",)),
        ("assignee:me", "assignees", ("me",)),
        ("assignee:none", "assignees", ("none",)),
        ("assignee:alice,none", "assignees", ("alice", "none")),
    ],
)
def test_field_terms(text: str, field: str, values: tuple[str, ...]) -> None:
    assert getattr(parse(text), field) == values


def test_flags() -> None:
    f = parse("breached major")
    assert (f.breached, f.major, f.include_closed) == (True, True, False)
    assert parse("BREACHED").breached is True


@pytest.mark.parametrize(
    ("text", "words"),
    [
        ("disk db01", ("disk", "db01")),
        ("Disk DB01", ("disk", "db01")),
        ('"disk full" db01', ("disk full", "db01")),
        ("'Disk Full'", ("disk full",)),
        ("DB01:5432", ("db01:5432",)),
        ('"error: disk full"', ("error: disk full",)),
        ('"state:new"', ("state:new",)),
        ('"major"', ("major",)),
        (":colon", (":colon",)),
    ],
)
def test_free_words_and_quoted_phrases(text: str, words: tuple[str, ...]) -> None:
    assert parse(text).words == words


def test_a_combination() -> None:
    text = 'disk "db01 down" sev<=2 state:new,on_hold service:payments group:network assignee:me category:security breached major'
    f = parse(text)
    assert f == Filter(
        words=("disk", "db01 down"),
        sev_min=1,
        sev_max=2,
        states=frozenset({State.NEW, State.ON_HOLD}),
        services=("payments",),
        groups=("network",),
        categories=("security",),
        assignees=("me",),
        breached=True,
        major=True,
    )
    assert f.text == text
    assert not f.is_empty


def test_empty_filter() -> None:
    assert parse("").is_empty
    assert parse("   ").is_empty
    assert Filter().is_empty
    assert not parse("sev<=4").is_empty


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("colour:red", r"unknown field 'colour' in 'colour:red'; use one of: sev, state, service, group, assignee"),
        ("sev<=9", r"'sev<=9': severity must be a number 1–5, e\.g\. sev<=2"),
        ("sev=x", r"severity must be a number 1–5"),
        ("sev=", r"severity must be a number 1–5"),
        ("sev<=²", r"severity must be a number 1–5"),
        ("sev=0", r"severity must be a number 1–5"),
        ('sev:"1 2"', r"'sev:1 2': severity must be a number 1–5"),
        ("state:pending", r"unknown state 'pending'; use one of: new, in_progress, on_hold, resolved, closed"),
        ("state:new,bogus", r"unknown state 'bogus'"),
        ('"disk full', r"unbalanced quotes"),
        ("title:'it is", r"unbalanced quotes"),
        ("sev<1", r"no severity satisfies 'sev<1'"),
        ("sev>5", r"severity must be a number|no severity satisfies"),
        ("sev>=4 sev<=2", r"no severity satisfies 'sev>=4 sev<=2' \(Sev4 … Sev2\)"),
        ("service:", r"'service:' needs a value after the colon"),
        ("state:,", r"needs a value"),
    ],
)
def test_errors_say_what_is_wrong(text: str, message: str) -> None:
    with pytest.raises(FilterError, match=message):
        parse(text)


@PROPERTY
@given(st.text(max_size=40) | st.lists(st.sampled_from(['sev', "<=", "state:", ":", '"', "'", "²", " ", "x", "1", ",", "open", '"1 2"']), max_size=12).map("".join))
def test_any_text_parses_or_raises_a_filter_error(text: str) -> None:
    try:
        parse(text)
    except FilterError as error:
        assert str(error)


# --- with_user --------------------------------------------------------------------------------


def test_with_user_puts_the_person_in_place_of_me() -> None:
    f = parse("assignee:me,bob").with_user("alice")
    assert f.assignees == ("alice", "bob")
    assert parse("disk").with_user("alice") == parse("disk")


def test_with_user_matches_whatever_the_case_of_the_login() -> None:
    f = parse("assignee:me").with_user("Alice")
    assert matches(f, make_incident(assignee="Alice"), False)
    assert matches(f, make_incident(assignee="alice"), False)
    assert not matches(f, make_incident(assignee="bob"), False)


# --- matching ---------------------------------------------------------------------------------


def test_matching_examples() -> None:
    disk = make_incident(number=42, title="Disk full on DB01", service="Payments", priority=2, assignee="")
    assert matches(parse("disk db01"), disk, False)
    assert matches(parse('"full on db01"'), disk, False)
    assert not matches(parse('"db01 full"'), disk, False)
    assert matches(parse("inc-000042"), disk, False)
    assert matches(parse("payments"), disk, False)
    assert matches(parse("sev<=2 service:payments assignee:none"), disk, False)
    assert not matches(parse("sev<2"), disk, False)
    assert not matches(parse("assignee:alice"), disk, False)
    assert not matches(parse("breached"), disk, False)
    assert matches(parse("breached"), disk, True)
    assert not matches(parse("major"), disk, False)
    assert matches(parse("major"), disk.replace(major=True), False)


def test_closed_incidents_show_only_when_asked() -> None:
    closed = make_incident(state=State.CLOSED)
    assert not matches(parse(""), closed, False)
    assert matches(parse("all"), closed, False)
    assert matches(parse("state:closed"), closed, False)
    assert not matches(parse("open"), closed, False)
    assert not matches(parse("state:new"), closed, False)


# --- matches agrees with a brute-force reading of the filter ----------------------------------

SERVICES = ["payments", "Payments", "crm", "core banking"]
GROUPS = ["network", "database", "Service Desk"]
CATEGORIES = ["security", "network", "software"]
PEOPLE = ["alice", "Alice", "bob", ""]
TITLE_WORDS = ["disk", "full", "DB01", "login", "slow", "error:", "vpn"]
WORDS = ["disk", "db01", "full on", "payments", "inc-0001", "slow", "error:", "banking", "vpn down"]
OPS = ["<", "<=", "=", ":", ">=", ">"]


@dataclass
class Spec:
    """What a user means by a filter, kept apart from the parser."""

    words: list[str]
    sev: list[tuple[str, int]]
    states: list[str]
    services: list[str]
    groups: list[str]
    categories: list[str]
    assignees: list[str]
    breached: bool
    major: bool
    everything: bool
    open: bool

    def text(self, order: list[int]) -> str:
        terms = [f'"{w}"' if " " in w or ":" in w else w for w in self.words]
        terms += [f"sev{op}{value}" for op, value in self.sev]
        for name, values in (
            ("state", self.states),
            ("service", self.services),
            ("group", self.groups),
            ("category", self.categories),
            ("assignee", self.assignees),
        ):
            if values:
                terms.append(f"{name}:" + shlex.quote(",".join(values)))
        terms += [flag for flag, on in (("breached", self.breached), ("major", self.major), ("all", self.everything), ("open", self.open)) if on]
        return " ".join(terms[i] for i in sorted(range(len(terms)), key=order.__getitem__))


def _sev_ok(op: str, value: int, severity: int) -> bool:
    return {
        "<": severity < value,
        "<=": severity <= value,
        "=": severity == value,
        ":": severity == value,
        ">=": severity >= value,
        ">": severity > value,
    }[op]


def brute_force(spec: Spec, incident, breached: bool, user: str) -> bool:
    if spec.states or spec.open:
        allowed = {State(s) for s in spec.states if s != "open"}
        if "open" in spec.states or spec.open:
            allowed |= OPEN_STATES
        if incident.state not in allowed:
            return False
    elif not spec.everything and incident.state not in OPEN_STATES:
        return False
    if not all(_sev_ok(op, value, incident.priority) for op, value in spec.sev):
        return False
    haystack = f"{incident.key} {incident.title} {incident.service}".lower()
    if not all(word.lower() in haystack for word in spec.words):
        return False
    for wanted, actual in (
        (spec.services, incident.service),
        (spec.groups, incident.assignment_group),
        (spec.categories, incident.category),
    ):
        if wanted and actual.lower() not in [w.lower() for w in wanted]:
            return False
    if spec.assignees:
        who = incident.assignee.lower()
        if not any(
            (a == "none" and not who) or (a == "me" and who == user.lower()) or (a not in ("none", "me") and a.lower() == who)
            for a in spec.assignees
        ):
            return False
    if spec.breached and not breached:
        return False
    return not (spec.major and not incident.major)


incidents = st.builds(
    lambda number, words, priority, state, service, group, category, assignee, major: make_incident(
        number=number,
        title=" ".join(words),
        priority=priority,
        state=state,
        service=service,
        assignment_group=group,
        category=category,
        assignee=assignee,
        major=major,
    ),
    number=st.sampled_from([1, 10, 123]),
    words=st.lists(st.sampled_from(TITLE_WORDS), min_size=1, max_size=5),
    priority=st.integers(1, 5),
    state=st.sampled_from(list(State)),
    service=st.sampled_from(SERVICES),
    group=st.sampled_from(GROUPS),
    category=st.sampled_from(CATEGORIES),
    assignee=st.sampled_from(PEOPLE),
    major=st.booleans(),
)


@st.composite
def cases(draw: st.DrawFn) -> tuple[Spec, Incident]:
    """An incident and a filter that often, but not always, fits it: each term is left out, taken
    from the incident, or drawn at random."""
    incident = draw(incidents)

    def term(own: list[str], options: list[str]) -> list[str]:
        how = draw(st.sampled_from(["leave out", "leave out", "own", "random"]))
        if how == "leave out":
            return []
        picked = draw(st.lists(st.sampled_from(options), max_size=2, unique=True))
        return [*own, *picked] if how == "own" else picked

    title_words = [w.lower() for w in incident.title.split()]
    sev_own = draw(st.sampled_from([("<=", incident.priority), ("=", incident.priority), (">=", incident.priority)]))
    return (
        Spec(
            words=term([draw(st.sampled_from(title_words))], WORDS),
            sev=[sev_own] if draw(st.booleans()) else draw(st.lists(st.tuples(st.sampled_from(OPS), st.integers(1, 5)), max_size=2)),
            states=term([incident.state.value], [s.value for s in State] + ["open"]),
            services=term([incident.service], SERVICES),
            groups=term([incident.assignment_group], GROUPS),
            categories=term([incident.category], CATEGORIES),
            assignees=term([incident.assignee or "none"], ["alice", "bob", "none", "me"]),
            breached=draw(st.booleans()),
            major=draw(st.booleans()),
            everything=draw(st.booleans()),
            open=draw(st.sampled_from([False, False, False, True])),
        ),
        incident,
    )


@PROPERTY
@given(cases(), st.permutations(list(range(20))), st.booleans(), st.sampled_from(["alice", "Alice", "bob"]))
def test_matches_agrees_with_a_brute_force_reading(case, order, breached: bool, user: str) -> None:
    spec, incident = case
    text = spec.text(order)
    low = max([1] + [v + 1 if op == ">" else v for op, v in spec.sev if op in (">", ">=", "=", ":")])
    high = min([5] + [v - 1 if op == "<" else v for op, v in spec.sev if op in ("<", "<=", "=", ":")])
    if low > high:
        with pytest.raises(FilterError):
            parse(text)
        return
    f = parse(text).with_user(user)
    assert matches(f, incident, breached) == brute_force(spec, incident, breached, user), text
