"""Access control at the service layer, whatever the UI does: every role × every action, on both backends.

Each action is tried by a viewer (yara), a responder (alice), a shift lead (lead), an admin (admin)
and a login the store does not know (the default role, responder). A refusal must say which role
is needed and write nothing; an allowed change is attributed to its user in the timeline.
"""

from __future__ import annotations

from collections.abc import Callable

import pytest
from sqlalchemy import func, select, update

from eim_tui.domain.errors import PermissionDenied
from eim_tui.domain.filters import parse
from eim_tui.domain.model import Role
from eim_tui.domain.queue import View
from eim_tui.store.tables import TimelineRow, UserRow
from .conftest import report

ROLES = {"yara": Role.VIEWER, "alice": Role.RESPONDER, "lead": Role.SHIFT_LEAD, "admin": Role.ADMIN,
         "newcomer": Role.RESPONDER}
SYSTEM = "system"  # eim's own processes; used to put incidents in the state an action needs
REVIEW = {"summary": "s", "went_well": "w", "went_badly": "b", "actions": [{"action": "a", "owner": "o"}]}


def _new(svc, **fields) -> int:
    return svc.log_incident(report(**fields), SYSTEM).number


def _acked(svc, **fields) -> int:
    number = _new(svc, **fields)
    svc.acknowledge(number, SYSTEM)
    return number


def _on_hold(svc) -> int:
    number = _acked(svc)
    svc.put_on_hold(number, SYSTEM, "vendor")
    return number


def _resolved(svc, **fields) -> int:
    number = _acked(svc, **fields)
    svc.resolve(number, SYSTEM, next(iter(svc.ref.resolution_codes)), "fixed it")
    return number


def _noted(svc) -> tuple[int, int]:
    number = _acked(svc)
    return number, svc.add_note(number, SYSTEM, "finding", "the disk is full").id


# action → (who may: "all but viewer" / "leads" / "admins", prepare, act). `act(svc, prepared, actor)`.
Prepare = Callable[..., object]
ACTIONS: dict[str, tuple[str, Prepare, Callable]] = {
    "log": ("responders", lambda svc: None, lambda svc, _, a: svc.log_incident(report(), a)),
    "log with an override": ("leads", lambda svc: None,
                             lambda svc, _, a: svc.log_incident(report(priority_override=1, override_reason="CEO"), a)),
    "acknowledge": ("responders", _new, lambda svc, n, a: svc.acknowledge(n, a)),
    "assign": ("responders", _new, lambda svc, n, a: svc.assign(n, a, group="platform", assignee="bob")),
    "prioritize": ("responders", _new, lambda svc, n, a: svc.prioritize(n, a, 1, 1)),
    "override the priority": ("leads", _new, lambda svc, n, a: svc.prioritize(n, a, 2, 2, override=1, reason="CEO")),
    "categorize": ("responders", _new, lambda svc, n, a: svc.categorize(n, a, "network")),
    "hold": ("responders", _acked, lambda svc, n, a: svc.put_on_hold(n, a, "vendor")),
    "resume": ("responders", _on_hold, lambda svc, n, a: svc.resume(n, a)),
    "resolve": ("responders", _acked,
                lambda svc, n, a: svc.resolve(n, a, next(iter(svc.ref.resolution_codes)), "fixed")),
    "close": ("responders", _resolved, lambda svc, n, a: svc.close(n, a)),
    "close a major incident": ("leads", lambda svc: _resolved(svc, major=True),
                               lambda svc, n, a: svc.close(n, a, review=REVIEW)),
    "reopen": ("responders", _resolved, lambda svc, n, a: svc.reopen(n, a, "it came back")),
    "cancel": ("leads", _new, lambda svc, n, a: svc.cancel(n, a, "not an incident")),
    "link": ("responders", _new, lambda svc, n, a: svc.link(n, a, problem_ref="PRB-7")),
    "mark major": ("responders", _new, lambda svc, n, a: svc.set_major(n, a, True)),
    "add a note": ("responders", _acked, lambda svc, n, a: svc.add_note(n, a, "observation", "disk at 100%")),
    "edit a note": ("responders", _noted, lambda svc, p, a: svc.edit_note(p[1], a, "the disk is really full")),
    "mark the root cause": ("responders", _noted, lambda svc, p, a: svc.mark_root_cause(p[1], a)),
    "add a user": ("admins", lambda svc: None, lambda svc, _, a: svc.access.add_user(a, f"new-{a}", "viewer")),
    "change a user": ("admins", lambda svc: None, lambda svc, _, a: svc.access.set_user(a, "bob", "shift_lead")),
}
MAY = {
    "responders": {Role.RESPONDER, Role.SHIFT_LEAD, Role.ADMIN},
    "leads": {Role.SHIFT_LEAD, Role.ADMIN},
    "admins": {Role.ADMIN},
}
NEEDED = {"responders": "responder or shift lead or admin role", "leads": "shift lead or admin role",
          "admins": "admin role"}


def _events(svc) -> list[tuple[int, str]]:
    with svc.db.read() as session:
        return [tuple(r) for r in session.execute(select(TimelineRow.seq, TimelineRow.actor).order_by(TimelineRow.seq))]


@pytest.mark.parametrize("name", list(ACTIONS))
def test_every_role_for_every_action(svc, name: str) -> None:
    who, prepare, act = ACTIONS[name]
    for actor, role in ROLES.items():
        prepared = prepare(svc)
        before = _events(svc)
        if role in MAY[who]:
            act(svc, prepared, actor)
            after = _events(svc)
            if who != "admins":  # an incident change: recorded, and attributed to whoever made it
                assert len(after) > len(before) and {a for _, a in after[len(before):]} == {actor}, (name, actor)
        else:
            with pytest.raises(PermissionDenied) as refused:
                act(svc, prepared, actor)
            assert NEEDED[who] in str(refused.value), (name, actor, str(refused.value))
            assert f"{actor} is a {role.value.replace('_', ' ')}" in str(refused.value)
            assert _events(svc) == before, f"{name} refused to {actor} but something was written"


def test_a_refused_change_leaves_the_incident_as_it_was(svc) -> None:
    number = _new(svc)
    before = svc.get(number)
    with pytest.raises(PermissionDenied, match="cancelling INC-000001 needs the shift lead or admin role"):
        svc.cancel(number, "alice", "duplicate")
    with pytest.raises(PermissionDenied, match="yara is a viewer"):
        svc.acknowledge(number, "yara", expected_version=before.version)
    assert svc.get(number) == before


def test_an_unknown_login_gets_the_configured_default_role(db_url, clock, monkeypatch) -> None:
    from dataclasses import replace

    from eim_tui.bootstrap import open_services
    from eim_tui.config import load_config

    monkeypatch.setenv("EIM_DEFAULT_ROLE", "viewer")
    svc = open_services(replace(load_config(), db_url=db_url), clock)
    try:
        number = svc.log_incident(report(), "alice").number  # known: a responder
        with pytest.raises(PermissionDenied, match="stranger is a viewer"):
            svc.acknowledge(number, "stranger")
        monkeypatch.setenv("EIM_DEFAULT_ROLE", "shift-lead")
        lead_by_default = open_services(replace(load_config(), db_url=db_url), clock)
        lead_by_default.cancel(number, "stranger", "test")
        lead_by_default.db.dispose()
    finally:
        svc.db.dispose()


def test_a_role_change_takes_effect_here_at_once_and_elsewhere_after_the_cache(svc, db_url, clock) -> None:
    from eim_tui.bootstrap import open_services

    other = open_services(db_url, clock)  # another process's view of the same store
    try:
        number = _new(svc)
        with pytest.raises(PermissionDenied):
            other.cancel(number, "alice", "x")  # caches alice as a responder
        svc.access.set_user("admin", "alice", Role.SHIFT_LEAD)
        with pytest.raises(PermissionDenied):
            other.cancel(number, "alice", "x")  # still cached there…
        other.access.ttl = 0  # …until the cache expires
        other.cancel(number, "alice", "x")
    finally:
        other.db.dispose()


def test_users_are_managed_by_admins_only_until_no_admin_exists(svc) -> None:
    with pytest.raises(PermissionDenied, match="managing users needs the admin role; lead is a shift lead"):
        svc.access.add_user("lead", "zoe", Role.RESPONDER)
    with pytest.raises(Exception, match="admin is the only admin"):
        svc.access.set_user("admin", "admin", Role.VIEWER)
    with svc.db.write() as session:  # a store whose admins were all removed by hand
        session.execute(update(UserRow).where(UserRow.role == "admin").values(role="responder"))
    if not svc.db.is_sqlite:  # a PostgreSQL store is never open to "anyone may" (issue 13)
        with pytest.raises(PermissionDenied, match="managing users needs the admin role; alice is a responder"):
            svc.access.add_user("alice", "zoe", Role.ADMIN)
        return
    made = svc.access.add_user("alice", "zoe", Role.ADMIN, ["platform", "dba"])
    assert (made.role, made.groups) == (Role.ADMIN, ("dba", "platform"))
    with pytest.raises(PermissionDenied):  # now there is an admin again, so alice is a responder once more
        svc.access.add_user("alice", "zack", Role.ADMIN)


def test_users_set_changes_role_and_groups(svc) -> None:
    changed = svc.access.set_user("admin", "bob", "shift_lead", add_groups=["security-ops"], remove_groups=["dba"])
    assert (changed.role, changed.groups) == (Role.SHIFT_LEAD, ("platform", "security-ops"))
    assert svc.access.context("bob").sees_confidential
    listed = {u.name: u for u in svc.access.list_users()}
    assert listed["bob"] == changed and listed["yara"].role is Role.VIEWER


# --- confidential incidents ---------------------------------------------------------------------


@pytest.fixture
def secret(svc) -> int:
    svc.log_incident(report(title="Disk full on db01", service="payments"), "alice")
    return svc.log_incident(
        report(title="Phishing [urgent] at finance", category="security", service="email",
               assignment_group="security-ops", assignee="rania", description="from evil.example"),
        "alice",
    ).number


def test_a_security_incident_is_confidential_and_only_the_security_group_reads_it(svc, secret) -> None:
    assert svc.get(secret).confidential
    assert svc.details(secret, viewer="rania").incident.title == "Phishing [urgent] at finance"
    for outsider in ("alice", "lead", "admin", "newcomer"):
        with pytest.raises(PermissionDenied, match="INC-000002 is confidential"):
            svc.details(secret, viewer=outsider)


def test_queue_rows_are_placeholders_outside_the_security_group(svc, secret) -> None:
    (shown,) = svc.rows([secret], viewer="alice")
    assert (shown.title, shown.service, shown.assignment_group, shown.assignee) == ("confidential", "", "", "")
    assert (shown.priority, shown.category, shown.confidential) == (3, "security", True)
    (full,) = svc.rows([secret], viewer="rania")
    assert (full.title, full.assignee) == ("Phishing [urgent] at finance", "rania")


@pytest.mark.parametrize(
    ("text", "alice_sees", "rania_sees"),
    [
        ("phishing", [], [2]),
        ('"urgent] at"', [], [2]),
        ("email", [], [2]),
        ("service:email", [], [2]),
        ("group:security-ops", [], [2]),
        ("assignee:rania", [], [2]),
        ("inc-000002", [2], [2]),
        ("confidential", [2], []),
        ("category:security", [2], [2]),
        ("disk", [1], [1]),
    ],
)
def test_filters_never_reveal_a_confidential_title(svc, secret, text, alice_sees, rania_sees) -> None:
    assert svc.queue(View.OPEN, parse(text), "alice", []) == alice_sees
    assert svc.queue(View.OPEN, parse(text), "rania", ["security-ops"]) == rania_sees


def test_every_change_names_its_user(svc) -> None:
    number = _new(svc)
    svc.acknowledge(number, "alice")
    svc.set_major(number, "bob", True)
    svc.cancel(number, "lead", "duplicate")
    with svc.db.read() as session:
        actors = list(session.execute(
            select(TimelineRow.actor).where(TimelineRow.incident_id == number).order_by(TimelineRow.seq)).scalars())
        assert session.execute(select(func.count()).select_from(TimelineRow)).scalar_one() == len(actors)
    runs = [a for i, a in enumerate(actors) if i == 0 or actors[i - 1] != a]  # one change may write several events
    assert runs == [SYSTEM, "alice", "bob", "lead"]


def test_the_duplicate_check_never_suggests_a_confidential_incident_to_others(svc, secret) -> None:
    def found(viewer: str) -> list[int]:
        return [s.number for s in svc.similar_open("email", "", "Phishing urgent at finance", viewer=viewer)]

    assert found("rania") == [secret]
    assert found("alice") == []


def test_a_refused_step_lists_only_what_this_actor_may_do(svc) -> None:
    """A responder may not cancel, so a refusal does not offer it; a shift lead is offered it."""
    from eim_tui.domain.errors import TransitionError

    number = _new(svc)
    svc.acknowledge(number, "alice")
    with pytest.raises(TransitionError) as as_responder:
        svc.acknowledge(number, "alice")
    assert str(as_responder.value) == "cannot acknowledge an incident that is in progress; allowed: hold, resolve"
    svc.access.add_user("admin", "lena", Role.SHIFT_LEAD)
    with pytest.raises(TransitionError) as as_lead:
        svc.acknowledge(number, "lena")
    assert str(as_lead.value) == "cannot acknowledge an incident that is in progress; allowed: hold, resolve, cancel"
