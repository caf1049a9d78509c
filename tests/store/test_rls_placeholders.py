"""Confidential placeholders on PostgreSQL (issue 13): row-level security hides a confidential incident
from a login outside the security group, yet the queue, the wall, `eim status` and the exports still
show its placeholder — key, severity, category, state, SLA clock — as they do on SQLite, and the
security group still sees everything, once. Real login roles on a private cluster.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime

import pytest

from eim_tui.bootstrap import open_services
from eim_tui.cli.main import main
from eim_tui.domain.access import CONFIDENTIAL_TITLE
from eim_tui.domain.board import BoardScope
from eim_tui.domain.errors import PermissionDenied
from eim_tui.domain.filters import parse as parse_filter
from eim_tui.domain.intake import NewIncident as IncidentReport
from eim_tui.domain.model import format_key
from eim_tui.domain.queue import Sort, View
from eim_tui.store.placeholders import SHOWN, VIEW
from eim_tui.store.status_counts import read_counts
from tests.pg_cluster import private_cluster
from tests.store.test_rls import Store as RlsStore

pytestmark = pytest.mark.e2e  # a private cluster: serial, like the other real servers

OWNER = "postgres"
SECRET_TITLE = "credential stuffing on sso"
SECRET_NOTE = "attacker IPs 203.0.113.0/24"


class Store(RlsStore):
    """The store of test_rls.py (made by the owner, roles installed), with a URL per login."""

    def url(self, login: str) -> str:
        return f"postgresql+psycopg://{login}@127.0.0.1:{self.cluster.port}/eim"

    def services(self, login: str):
        return open_services(self.url(login))


@pytest.fixture(scope="module")
def store() -> Iterator[Store]:
    cluster = private_cluster()
    try:
        made = Store(cluster)
        svc = made.svc
        svc.access.add_user(OWNER, "rory", "responder")
        svc.access.add_user(OWNER, "sally", "responder", groups=["security-ops"])
        first = svc.log_incident(IncidentReport(title="disk full on db01", impact=2, urgency=2), OWNER)
        secret = svc.log_incident(IncidentReport(title=SECRET_TITLE, impact=1, urgency=1, category="security",
                                                 reporter_name="Erin Example"), OWNER)
        last = svc.log_incident(IncidentReport(title="printer jam floor 3", impact=3, urgency=3), OWNER)
        mine = svc.log_incident(IncidentReport(title="phishing mail to finance", impact=2, urgency=1,
                                               category="security"), OWNER)
        svc.assign(mine.number, OWNER, assignee="rory")
        svc.add_note(secret.number, OWNER, "observation", SECRET_NOTE)
        assert secret.confidential and mine.confidential and not first.confidential
        made.first, made.secret, made.last, made.mine = first.number, secret.number, last.number, mine.number
        yield made
        svc.db.dispose()
    finally:
        cluster.cleanup()


def _queue(svc, login: str, view: View = View.OPEN, text: str = "", sort: Sort = Sort.SLA) -> list:
    numbers = svc.queue(view, parse_filter(text), login, svc.user_groups(login), sort=sort)
    rows = {r.number: r for r in svc.rows(numbers, viewer=login)}
    assert set(rows) == set(numbers)
    return [rows[n] for n in numbers]


def test_the_view_shows_only_placeholder_columns_and_only_to_those_rls_hides_them_from(store: Store) -> None:
    with store.connect(OWNER) as conn:
        columns = {r[0] for r in conn.execute(
            "SELECT column_name FROM information_schema.columns WHERE table_name = %s", (VIEW,))}
        assert columns == set(SHOWN)
        assert not columns & {"title", "description", "reporter_name", "reporter_contact", "service",
                              "configuration_item", "resolution_notes", "root_cause"}
        assert conn.execute(f"SELECT count(*) FROM {VIEW}").fetchone()[0] == 0  # the owner reads the table
    with store.connect("sally") as conn:
        assert conn.execute(f"SELECT count(*) FROM {VIEW}").fetchone()[0] == 0  # security: no duplicates
    with store.connect("rory") as conn:
        assert conn.execute("SELECT count(*) FROM incident WHERE confidential").fetchone()[0] == 0
        rows = conn.execute(f"SELECT id, assignee FROM {VIEW} ORDER BY id").fetchall()
        # rory's own confidential incident says it is his (for "mine"); who holds another is hidden.
        assert rows == [(store.secret, ""), (store.mine, "rory")]
        assert conn.execute("SELECT eim_reads_confidential()").fetchone()[0] is False


def test_a_responder_outside_security_sees_placeholders_in_the_queue_in_their_place(store: Store) -> None:
    rory = store.services("rory")
    try:
        rows = _queue(rory, "rory")
        newest = _queue(rory, "rory", sort=Sort.NEWEST)
        mine = _queue(rory, "rory", View.MINE)
        unassigned = _queue(rory, "rory", View.UNASSIGNED)
        found = _queue(rory, "rory", text="sev<=1")
        by_word = _queue(rory, "rory", text="stuffing")
        by_key = _queue(rory, "rory", text=format_key(store.secret).lower())
        by_service = _queue(rory, "rory", text="service:sso")
    finally:
        rory.db.dispose()
    assert [r.number for r in rows] == [store.secret, store.mine, store.first, store.last]  # by severity, as SQLite
    assert [r.number for r in newest] == [store.mine, store.last, store.secret, store.first]
    placeholder = rows[0]
    assert (placeholder.title, placeholder.service, placeholder.assignee, placeholder.priority) == (
        CONFIDENTIAL_TITLE, "", "", 1)
    assert placeholder.category == "security" and placeholder.due_at is not None
    assert [r.number for r in mine] == [store.mine]
    assert store.secret in {r.number for r in unassigned} and store.mine not in {r.number for r in unassigned}
    assert [r.number for r in found] == [store.secret]
    assert by_word == [] and by_service == []  # no filter finds a confidential title
    assert [r.number for r in by_key] == [store.secret]


def test_the_security_group_sees_every_incident_once_in_full(store: Store) -> None:
    sally = store.services("sally")
    try:
        rows = _queue(sally, "sally")
        board = sally.board(BoardScope(), viewer="sally")
        with sally.all_incidents("sally") as incidents:
            exported = list(incidents)
        details = sally.details(store.secret, viewer="sally")
    finally:
        sally.db.dispose()
    assert [r.number for r in rows] == [store.secret, store.mine, store.first, store.last]
    assert rows[0].title == SECRET_TITLE
    assert sum(s.open for s in board.severities if s.severity) == 4
    assert sorted(i.number for i in exported) == sorted([store.first, store.secret, store.last, store.mine])
    assert details.incident.title == SECRET_TITLE and details.notes[0].text == SECRET_NOTE


def _severities(board) -> dict[int, tuple[int, int, int]]:
    return {s.severity: (s.open, s.unacknowledged, s.breached) for s in board.severities}


def test_the_wall_counts_and_lists_placeholders(store: Store) -> None:
    rory, sally = store.services("rory"), store.services("sally")
    try:
        board = rory.board(BoardScope(), viewer="rory")
        filtered = rory.board(BoardScope(filter=parse_filter("stuffing")), viewer="rory")
        full = sally.board(BoardScope(), viewer="sally")
    finally:
        rory.db.dispose()
        sally.db.dispose()
    assert _severities(board) == _severities(full) and sum(s.open for s in board.severities) == 4  # counted, as SQLite
    listed = {r.number: r for r in (*board.newest, *board.closest)}
    assert {store.secret, store.mine} <= set(listed) and listed[store.secret].title == CONFIDENTIAL_TITLE
    assert [g.open for g in board.groups] == [g.open for g in full.groups]
    assert SECRET_TITLE not in repr(board)
    assert sum(s.open for s in filtered.severities) == 0


def test_eim_status_counts_placeholders(store: Store) -> None:
    now = datetime.now(UTC)
    rory = read_counts(store.url("rory"), "rory", now)
    sally = read_counts(store.url("sally"), "sally", now)
    owner = read_counts(store.url(OWNER), OWNER, now)
    assert rory.open_by_severity == sally.open_by_severity == owner.open_by_severity and rory.open == 4
    with store.connect("rory") as conn:  # what the table alone gives rory: the two public ones
        assert conn.execute("SELECT count(*) FROM incident WHERE is_open").fetchone()[0] == 2
    assert rory.mine == 1  # his confidential incident is his


@pytest.mark.parametrize("fmt", ["csv", "json"])
def test_exports_carry_placeholders_and_no_secret(store: Store, fmt: str, capsys) -> None:
    assert main(["export", "--format", fmt, "--db", store.url("rory")]) == 0
    out = capsys.readouterr().out
    assert format_key(store.secret) in out and format_key(store.first) in out
    assert SECRET_TITLE not in out and "Erin Example" not in out and SECRET_NOTE not in out
    assert main(["export", "--format", fmt, "--db", store.url("sally")]) == 0
    assert SECRET_TITLE in capsys.readouterr().out
    if fmt == "json":
        lines = [json.loads(line) for line in out.splitlines() if line.strip()]
        placeholder = next(r for r in lines if r["key"] == format_key(store.secret))
        assert len(lines) == 4 and placeholder["title"] == CONFIDENTIAL_TITLE and placeholder["category"] == "security"


def test_opening_a_placeholder_is_refused_with_the_reason(store: Store, capsys) -> None:
    assert main(["show", format_key(store.secret), "--db", store.url("rory")]) == 2
    err = capsys.readouterr().err.strip()
    assert err.endswith(f"{format_key(store.secret)} is confidential: only the security group sees its details")
    assert len(err.splitlines()) == 1
    rory = store.services("rory")
    try:
        with pytest.raises(PermissionDenied, match="is confidential"):
            rory.details(store.secret, viewer="rory")
        assert rory.details(store.first, viewer="rory").incident.title == "disk full on db01"
    finally:
        rory.db.dispose()
    assert main(["export", format_key(store.secret), "--format", "md", "--db", store.url("rory")]) == 2
    assert "is confidential" in capsys.readouterr().err
    assert main(["show", "INC-999999", "--db", store.url("rory")]) == 2
    assert "no incident INC-999999" in capsys.readouterr().err


def test_a_migration_of_the_incident_table_still_runs_and_the_view_comes_back(store: Store) -> None:
    """The view reads the incident table: an upgrade drops it first and `eim db upgrade` remakes it."""
    from eim_tui.store.schema import HEAD_REVISION, current_revision, downgrade

    previous = f"{int(HEAD_REVISION) - 1:04d}"
    downgrade(store.svc.db, previous)
    assert current_revision(store.svc.db) == previous
    with store.connect(OWNER) as conn:
        assert conn.execute(f"SELECT to_regclass('{VIEW}')").fetchone()[0] is None  # dropped by the step back
    assert store.svc.upgrade_store() == HEAD_REVISION
    with store.connect("rory") as conn:
        assert conn.execute(f"SELECT count(*) FROM {VIEW}").fetchone()[0] == 2


def test_eim_report_counts_confidential_incidents_for_everyone(store: Store) -> None:
    from eim_tui.services.reports import Reports

    totals = {}
    for login in ("rory", "sally", OWNER):
        svc = store.services(login)
        try:
            made = Reports(svc.db, svc.clock).report(by="severity")
        finally:
            svc.db.dispose()
        totals[login] = (made["total"]["opened"], made["total"]["backlog"],
                         sorted((g["key"], g["opened"]) for g in made["groups"]))
    assert totals["rory"] == totals["sally"] == totals[OWNER] and totals["rory"][0] == 4


def test_eim_list_shows_the_placeholders_in_severity_order(store: Store, capsys) -> None:
    assert main(["list", "--json", "--db", store.url("rory")]) == 0
    rory = json.loads(capsys.readouterr().out)
    assert main(["list", "--json", "--db", store.url("sally")]) == 0
    sally = json.loads(capsys.readouterr().out)
    assert [r["key"] for r in rory] == [r["key"] for r in sally]  # the same incidents, the same order, once
    hidden = {r["key"]: r for r in rory}[format_key(store.secret)]
    assert hidden["title"] == CONFIDENTIAL_TITLE and SECRET_TITLE not in json.dumps(rory)
    assert {r["key"]: r for r in sally}[format_key(store.secret)]["title"] == SECRET_TITLE
