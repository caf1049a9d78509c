"""What PostgreSQL itself refuses (issue 13): real login roles on a private cluster, connecting with
psycopg and psql directly — not through eim — to prove the database is the second wall.

The cluster uses trust authentication, so any role name can connect: exactly what is needed to
act as `vera` (viewer), `rory` (responder) and `sally` (responder in security-ops) here.
"""

from __future__ import annotations

import shutil
import subprocess
from collections.abc import Iterator
from datetime import UTC, datetime

import psycopg
import pytest
from psycopg import errors

from eim_tui.bootstrap import open_services
from eim_tui.domain.intake import NewIncident as IncidentReport
from eim_tui.store.access_install import confidential_tables, install
from tests.pg_cluster import PrivateCluster, private_cluster

pytestmark = pytest.mark.e2e  # a private cluster: serial, like the other real servers

OWNER = "postgres"


class Store:
    def __init__(self, cluster: PrivateCluster) -> None:
        self.cluster = cluster
        self.svc = open_services(cluster.url)  # made by the owner: roles, grants and policies installed
        self.svc.upgrade_store()  # `eim db upgrade`: and the owner's login is the first admin

    def connect(self, login: str) -> psycopg.Connection:
        return psycopg.connect(f"host=127.0.0.1 port={self.cluster.port} user={login} dbname=eim", autocommit=True)

    def count(self, login: str, sql: str) -> int:
        with self.connect(login) as conn:
            return conn.execute(sql).fetchone()[0]


@pytest.fixture(scope="module")
def store() -> Iterator[Store]:
    cluster = private_cluster()
    try:
        made = Store(cluster)
        svc = made.svc
        svc.access.add_user(OWNER, "vera", "viewer")
        svc.access.add_user(OWNER, "rory", "responder")
        svc.access.add_user(OWNER, "sally", "responder", groups=["security-ops"])
        public = svc.log_incident(IncidentReport(title="disk full on db01", impact=2, urgency=2), OWNER)
        secret = svc.log_incident(IncidentReport(title="credential stuffing on sso", impact=1, urgency=1,
                                                 category="security"), OWNER)
        assert secret.confidential and not public.confidential
        svc.add_note(secret.number, OWNER, "observation", "attacker IPs 203.0.113.0/24")
        with made.connect(OWNER) as conn:  # a raw alert body that opened the confidential incident
            at = datetime(2026, 12, 5, tzinfo=UTC)
            payload = conn.execute(
                "INSERT INTO inbound_payload (received_at, source, content_type, body, remote, status, error) "
                "VALUES (%s, 'generic', 'application/json', '{\"secret\": 1}', '', 'processed', '') RETURNING id",
                (at,)).fetchone()[0]
            conn.execute(
                "INSERT INTO alert (source, dedup_key, incident_id, status, name, labels, annotations, first_seen, "
                "last_seen, count, payload_id) VALUES ('generic', 'k1', %s, 'firing', 'sso', '{}', '{}', %s, %s, 1, %s)",
                (secret.number, at, at, payload))
        made.public, made.secret = public.number, secret.number
        yield made
        svc.db.dispose()
    finally:
        cluster.cleanup()


def test_a_viewers_update_is_refused_by_the_database(store: Store) -> None:
    with store.connect("vera") as conn, pytest.raises(errors.InsufficientPrivilege):
        conn.execute("UPDATE incident SET title = 'rewritten' WHERE id = %s", (store.public,))
    with store.connect("vera") as conn, pytest.raises(errors.InsufficientPrivilege):
        conn.execute("INSERT INTO diagnosis_note (incident_id, position, kind, text, result, author, created_at, "
                     "version) VALUES (%s, 9, 'observation', 'x', '', 'vera', now(), 1)", (store.public,))
    assert store.count("vera", "SELECT count(*) FROM incident WHERE NOT confidential") == 1  # reading is fine


@pytest.mark.parametrize("statement", [
    "DELETE FROM timeline_event",
    "UPDATE timeline_event SET summary = 'nothing happened'",
    "TRUNCATE timeline_event",
])
@pytest.mark.parametrize("login", ["rory", "sally"])
def test_nobody_but_the_owner_rewrites_the_timeline(store: Store, login: str, statement: str) -> None:
    before = store.count(OWNER, "SELECT count(*) FROM timeline_event")
    with store.connect(login) as conn, pytest.raises(errors.InsufficientPrivilege):
        conn.execute(statement)
    assert store.count(OWNER, "SELECT count(*) FROM timeline_event") == before
    assert store.svc.verify_chain().intact


def test_a_responder_still_writes_through_eim(store: Store) -> None:
    """The grants leave eim working for the people it is for: rory's own login logs and acknowledges."""
    from eim_tui.bootstrap import open_services

    rory = open_services(f"postgresql+psycopg://rory@127.0.0.1:{store.cluster.port}/eim")
    try:
        incident = rory.log_incident(IncidentReport(title="vpn flaps", impact=3, urgency=2), "rory")
        rory.acknowledge(incident.number, "rory")
    finally:
        rory.db.dispose()
    assert store.count(OWNER, f"SELECT count(*) FROM timeline_event WHERE incident_id = {incident.number} "
                              "AND actor = 'rory'") >= 2


def test_a_responder_cannot_make_itself_admin_or_join_security(store: Store) -> None:
    with store.connect("rory") as conn, pytest.raises(errors.InsufficientPrivilege):
        conn.execute("UPDATE app_user SET role = 'admin' WHERE name = 'rory'")
    with store.connect("rory") as conn, pytest.raises(errors.InsufficientPrivilege):
        conn.execute("INSERT INTO group_member (group_name, user_name) VALUES ('security-ops', 'rory')")
    with store.connect("rory") as conn, pytest.raises(errors.InsufficientPrivilege):
        conn.execute("SELECT eim_set_login('rory', 'admin', true, true)")


def test_outside_the_security_group_no_table_shows_a_confidential_row(store: Store) -> None:
    with store.connect(OWNER) as conn:
        tables = [r[0] for r in conn.execute(
            "SELECT tablename FROM pg_tables WHERE schemaname = current_schema() AND rowsecurity")]
    assert {"incident", "timeline_event", "diagnosis_note", "alert", "inbound_payload"} <= set(tables)
    assert set(tables) == set(confidential_tables(tables))
    for table in tables:
        where = ("confidential" if table == "incident" else "eim_confidential_payload(id)"
                 if table == "inbound_payload" else "eim_confidential_incident(incident_id)")
        owner_sees = store.count(OWNER, f'SELECT count(*) FROM "{table}" WHERE {where}')
        assert store.count("rory", f'SELECT count(*) FROM "{table}" WHERE {where}') == 0, table
        assert store.count("vera", f'SELECT count(*) FROM "{table}" WHERE {where}') == 0, table
        assert store.count("sally", f'SELECT count(*) FROM "{table}" WHERE {where}') == owner_sees, table
    # The incident, its events, its note and its raw body exist, and sally (security-ops) reads them all.
    assert store.count("sally", f"SELECT count(*) FROM timeline_event WHERE incident_id = {store.secret}") >= 2
    assert store.count("sally", f"SELECT count(*) FROM diagnosis_note WHERE incident_id = {store.secret}") == 1
    assert store.count("sally", "SELECT count(*) FROM inbound_payload") == 1
    assert store.count("rory", "SELECT count(*) FROM inbound_payload") == 0
    assert store.count("rory", f"SELECT count(*) FROM incident WHERE id = {store.public}") == 1


def test_psql_as_a_responder_reads_zero_confidential_incidents(store: Store) -> None:
    psql = shutil.which("psql")
    if psql is None:
        pytest.skip("psql is not installed (Debian: postgresql-client)")
    done = subprocess.run([psql, "-h", "127.0.0.1", "-p", str(store.cluster.port), "-U", "rory", "-d", "eim",
                           "-Atc", "SELECT count(*) FROM incident WHERE category = 'security'"],
                          capture_output=True, text=True, timeout=30, check=False)
    assert (done.returncode, done.stdout.strip()) == (0, "0"), done.stderr


def test_users_set_moves_the_login_and_retire_revokes_it(store: Store) -> None:
    def groups(login: str) -> set[str]:
        with store.connect(OWNER) as conn:
            return {r[0] for r in conn.execute(
                "SELECT g.rolname FROM pg_auth_members m JOIN pg_roles g ON g.oid = m.roleid "
                "JOIN pg_roles u ON u.oid = m.member WHERE u.rolname = %s", (login,))}

    access = store.svc.access
    access.add_user(OWNER, "tess", "responder")
    assert groups("tess") == {"eim_responder"}
    access.set_user(OWNER, "tess", "shift_lead", add_groups=["security-ops"])
    assert groups("tess") == {"eim_shift_lead", "eim_security"}
    assert store.count("tess", "SELECT count(*) FROM incident WHERE confidential") == 1
    access.set_user(OWNER, "tess", remove_groups=["security-ops"])
    assert groups("tess") == {"eim_shift_lead"}
    access.retire_user(OWNER, "tess")
    with pytest.raises(psycopg.OperationalError, match="not permitted to log in"):
        store.connect("tess").close()
    access.set_user(OWNER, "tess", "viewer")  # brought back
    assert groups("tess") == {"eim_viewer"}
    store.connect("tess").close()


def test_the_install_is_idempotent_and_refuses_what_it_does_not_manage(store: Store) -> None:
    def snapshot() -> list[tuple]:
        with store.connect(OWNER) as conn:
            return conn.execute(
                "SELECT tablename, policyname, cmd, qual, with_check FROM pg_policies ORDER BY 1, 2").fetchall()

    before = snapshot()
    assert install(store.svc.db) and install(store.svc.db)
    assert snapshot() == before
    with store.connect(OWNER) as conn:
        conn.execute("CREATE ROLE dba_two LOGIN CREATEROLE")
    from eim_tui.domain.errors import PermissionDenied

    with pytest.raises(PermissionDenied, match="powers eim does not manage"):
        store.svc.access.add_user(OWNER, "dba_two", "viewer")
    assert store.svc.access.get_user("dba_two") is None  # nothing written


def test_the_chain_check_outside_the_security_group_goes_by_the_hidden_events_links(store: Store) -> None:
    """The TUI's whole-store check (`c` on a timeline) as rory: the confidential incident's events are
    hidden by row-level security, so they are verified by their links and counted as such; sally
    (security-ops) reads and verifies every event."""
    hidden = store.count(OWNER, f"SELECT count(*) FROM timeline_event WHERE incident_id = {store.secret}")
    total = store.count(OWNER, "SELECT count(*) FROM timeline_event")
    for login, expect_hidden in (("rory", hidden), ("sally", 0)):
        svc = open_services(f"postgresql+psycopg://{login}@127.0.0.1:{store.cluster.port}/eim")
        try:
            report = svc.verify_chain()
        finally:
            svc.db.dispose()
        assert report.intact, (login, report.describe())
        assert (report.events, report.hidden) == (total, expect_hidden), login
    assert hidden >= 2


@pytest.mark.parametrize("statement", [
    "DELETE FROM problem_event",
    "UPDATE problem_event SET summary = 'nothing happened'",
    "TRUNCATE problem_event",
])
def test_nobody_but_the_owner_rewrites_the_problems_timeline(store: Store, statement: str) -> None:
    """The problems' chain is append-only like the incidents': rory may add to it through eim (linking
    an incident writes an event as rory's own login) but not change or remove a row."""
    from eim_tui.services.problems import ProblemCases

    problem = ProblemCases(store.svc).create(OWNER, "disks fill on db hosts")
    rory = open_services(f"postgresql+psycopg://rory@127.0.0.1:{store.cluster.port}/eim")
    try:
        incident = rory.log_incident(IncidentReport(title="disk full on db02", impact=3, urgency=3), "rory")
        ProblemCases(rory).link("rory", incident.number, problem.number)
    finally:
        rory.db.dispose()
    before = store.count(OWNER, "SELECT count(*) FROM problem_event")
    assert store.count(OWNER, f"SELECT count(*) FROM problem_event WHERE actor = 'rory' "
                              f"AND problem_number = {problem.number}") == 1
    with store.connect("rory") as conn, pytest.raises(errors.InsufficientPrivilege):
        conn.execute(statement)
    assert store.count(OWNER, "SELECT count(*) FROM problem_event") == before
    assert ProblemCases(store.svc).verify().intact


def test_full_text_never_finds_a_confidential_incident_outside_the_security_group(store: Store) -> None:
    """The index is a column of `incident`, so row-level security hides its words too; the functions
    that read notes for it run as the owner and nobody else may call them — yet a responder's note
    is indexed (a trigger runs them whoever writes)."""
    from eim_tui.domain.filters import parse
    from eim_tui.domain.queue import View

    match = "SELECT count(*) FROM incident WHERE search_document @@ to_tsquery('english', 'attacker')"
    assert store.count(OWNER, match) == 1  # the confidential incident's note
    assert store.count("rory", match) == 0
    assert store.count("sally", match) == 1
    with store.connect("rory") as conn, pytest.raises(errors.InsufficientPrivilege):
        conn.execute("SELECT eim_search_document(1, 'x', 'y', 'z')")
    port = store.cluster.port
    for login, expected in (("rory", []), ("sally", [store.secret])):
        svc = open_services(f"postgresql+psycopg://{login}@127.0.0.1:{port}/eim")
        try:
            assert svc.queue(View.OPEN, parse("text:attacker all"), login, []) == expected, login
        finally:
            svc.db.dispose()
    rory = open_services(f"postgresql+psycopg://rory@127.0.0.1:{port}/eim")
    try:
        rory.add_note(store.public, "rory", "observation", "inode exhaustion under /var/spool")
        assert rory.queue(View.OPEN, parse("text:inode all"), "rory", []) == [store.public]
        assert [s.number for s in rory.similar_resolved(store.public, viewer="rory")] == []
    finally:
        rory.db.dispose()


@pytest.mark.parametrize("statement", [
    "UPDATE search_state SET indexing = false",
    "DELETE FROM search_state",
    "INSERT INTO search_state (id, indexing) VALUES (2, false)",
    "TRUNCATE search_state",
])
def test_nobody_but_the_owner_writes_the_full_text_switch(store: Store, statement: str) -> None:
    """`search_state` says whether the triggers index each change; a responder with psql who turned it
    off would leave every later change unfindable. Only the owner writes it now."""
    with store.connect("rory") as conn, pytest.raises(errors.InsufficientPrivilege):
        conn.execute(statement)
    assert store.count("rory", "SELECT count(*) FROM search_state WHERE id = 1 AND indexing") == 1


def test_the_index_cannot_be_left_paused_even_by_the_owner(store: Store) -> None:
    """A commit that leaves the index off, or without its row, is refused (a deferred constraint
    trigger); inside a transaction that turns it on again, a pause is what bulk loads do."""
    for statement in ("UPDATE search_state SET indexing = false", "DELETE FROM search_state"):
        with store.connect(OWNER) as conn, pytest.raises(errors.RaiseException, match="cannot be left paused"):
            conn.execute(statement)  # autocommit: the statement's commit is refused
    with store.connect(OWNER) as conn, conn.transaction():
        conn.execute("UPDATE search_state SET indexing = false")
        conn.execute("UPDATE search_state SET indexing = true")
    assert store.count("rory", "SELECT count(*) FROM search_state WHERE id = 1 AND indexing") == 1


def test_an_import_on_a_store_with_roles_pauses_and_resumes_the_index(store: Store, tmp_path) -> None:
    """The owner's bulk load (the one way there is on a store with roles) still goes through, and
    what it brought is indexed."""
    from eim_tui.domain.filters import parse
    from eim_tui.domain.queue import View
    from eim_tui.services.importing import import_history
    from tests.importing.conftest import event, write_log

    log = write_log(tmp_path / "log.csv", [event("INC0099001", "New", 0, "1/3/2016 09:05",
                                                 u_symptom="Quasar flux")])
    assert import_history(store.svc, log).new == 1
    [number] = store.svc.queue(View.OPEN, parse("text:quasar all"), OWNER, [])
    assert store.count("rory", "SELECT count(*) FROM search_state WHERE id = 1 AND indexing") == 1
    assert store.count(OWNER, f"SELECT count(*) FROM incident WHERE id = {number} AND search_document <> ''") == 1
