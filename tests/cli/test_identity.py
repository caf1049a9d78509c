"""Who you are is proven (issue 13): the database login on PostgreSQL (a private cluster with real
login roles), the OS login on SQLite (a real second OS user, `postgres`, for the file someone else
owns), and `--ssh-identity` refused outside an SSH session. Each refusal: one line, exit 2."""

from __future__ import annotations

import os
import pwd
import shutil
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest

from tests.pg_cluster import PrivateCluster, private_cluster

from .conftest import Eim

pytestmark = pytest.mark.e2e  # a private cluster and a second OS user: serial

NO_USER = {"EIM_USER": ""}  # the conftest sets EIM_USER=alice; these tests name people themselves


@pytest.fixture(scope="module")
def cluster() -> Iterator[PrivateCluster]:
    made = private_cluster()
    try:
        yield made
    finally:
        made.cleanup()


@pytest.fixture
def pg(cluster: PrivateCluster, tmp_path: Path) -> Iterator[callable]:
    """`pg(login, *args)`: eim as that database login on a fresh store the owner (`postgres`) made."""
    with psycopg.connect(f"host=127.0.0.1 port={cluster.port} user=postgres dbname=postgres",
                         autocommit=True) as conn:
        conn.execute("DROP DATABASE IF EXISTS eim WITH (FORCE)")
        conn.execute("CREATE DATABASE eim")
    cli = Eim(None, tmp_path)

    def run(login: str, *args: str, ok: bool = True, env: dict[str, str] | None = None):
        url = f"postgresql+psycopg://{login}@127.0.0.1:{cluster.port}/eim"
        return cli(*args, ok=ok, db=url, env={**NO_USER, **(env or {})})

    assert run("postgres", "db", "upgrade").out.startswith("schema at revision")  # the owner: first admin
    yield run


def test_the_store_owner_is_its_first_admin_and_upgrade_is_idempotent(pg) -> None:
    assert pg("postgres", "db", "upgrade").status == 0  # a second time changes nothing and fails nothing
    who = pg("postgres", "users", "whoami", "--json").json
    assert (who["name"], who["role"], who["established_by"]) == ("postgres", "admin", "database login postgres")


def test_a_login_is_its_own_user_and_cannot_name_another(pg) -> None:
    pg("postgres", "users", "set", "bob", "--role", "responder")  # bob (reference data) gets his login
    who = pg("bob", "users", "whoami")
    assert who.out.splitlines()[-1] == "you are bob: database login bob"
    refused = pg("bob", "--user", "admin", "users", "whoami", ok=False)
    assert (refused.status, refused.err) == (2, "eim: --user admin refused: you are connected as bob\n")
    refused = pg("bob", "new", "--title", "x", "--impact", "2", "--urgency", "2", ok=False, env={"EIM_USER": "admin"})
    assert refused.err == "eim: --user admin refused: you are connected as bob\n"
    key = pg("bob", "new", "--title", "VPN drops", "--impact", "2", "--urgency", "2").out.strip()
    shown = pg("postgres", "show", key, "--json").json
    assert {e["actor"] for e in shown["timeline"]} == {"bob"}
    # bob's role is checked by the services too: a responder does not manage users.
    assert "needs the admin role" in pg("bob", "users", "add", "eve", "--role", "admin", ok=False).err


def test_a_login_eim_does_not_know_is_one_line_and_exit_2(pg, cluster: PrivateCluster) -> None:
    with psycopg.connect(f"host=127.0.0.1 port={cluster.port} user=postgres dbname=eim", autocommit=True) as conn:
        conn.execute("DO $$ BEGIN CREATE ROLE carol LOGIN; EXCEPTION WHEN duplicate_object THEN NULL; END $$")
        conn.execute("GRANT eim_responder TO carol")  # even with the grants, eim wants to know who she is
    refused = pg("carol", "list", ok=False)
    assert (refused.status, refused.err) == (
        2, ("eim: you are connected as carol, a database login eim does not know; "
            "an admin adds you with `eim users add carol --role ROLE`\n"))


def test_admins_manage_logins_and_a_retired_login_is_refused(pg, cluster: PrivateCluster) -> None:
    pg("postgres", "users", "add", "ann", "--role", "admin")
    pg("ann", "users", "add", "dan", "--role", "viewer")  # ann manages logins without CREATEROLE
    assert "needs the" in pg("dan", "new", "--title", "x", "--impact", "2", "--urgency", "2", ok=False).err
    pg("ann", "users", "set", "dan", "--role", "responder")
    assert pg("dan", "new", "--title", "printer", "--impact", "3", "--urgency", "3").status == 0
    pg("ann", "users", "retire", "dan")
    refused = pg("dan", "list", ok=False)
    assert refused.status == 2 and "not permitted to log in" in refused.err and "Traceback" not in refused.err
    bad = pg("ann", "users", "add", "zed", "--role", "boss", ok=False)
    assert bad.status == 2 and "unknown role 'boss'" in bad.err
    with psycopg.connect(f"host=127.0.0.1 port={cluster.port} user=postgres dbname=eim") as conn:
        assert conn.execute("SELECT count(*) FROM pg_roles WHERE rolname = 'zed'").fetchone()[0] == 0


def test_payload_bodies_of_confidential_incidents_only_for_the_security_group(pg, cluster: PrivateCluster) -> None:
    pg("postgres", "users", "add", "sec", "--role", "responder", "--group", "security-ops")
    pg("postgres", "users", "add", "rex", "--role", "responder")
    key = pg("postgres", "new", "--title", "phishing wave", "--impact", "1", "--urgency", "1",
             "--category", "security").out.strip()
    with psycopg.connect(f"host=127.0.0.1 port={cluster.port} user=postgres dbname=eim", autocommit=True) as conn:
        payload = conn.execute(
            "INSERT INTO inbound_payload (received_at, source, content_type, body, remote, status, error) "
            "VALUES (now(), 'generic', 'application/json', '{\"victim\": \"cfo\"}', '', 'processed', '') "
            "RETURNING id").fetchone()[0]
        conn.execute("INSERT INTO alert (source, dedup_key, incident_id, status, name, labels, annotations, "
                     "first_seen, last_seen, count, payload_id) VALUES ('generic', 'p1', %s, 'firing', 'x', '{}', "
                     "'{}', now(), now(), 1, %s)", (int(key.split("-")[1]), payload))
    assert [p["body"] for p in pg("sec", "payloads", "--json").json] == ['{"victim": "cfo"}']
    assert pg("rex", "payloads", "--json").json == []  # the database hides the row itself
    # The owner's login bypasses row-level security; eim still hides the body from a non-member it names.
    pg("postgres", "users", "add", "owen", "--role", "responder")
    assert [p["body"] for p in pg("postgres", "--user", "owen", "payloads", "--json").json] == ["confidential"]


# --- SQLite: the OS login ------------------------------------------------------------------------


def _as_other_os_user(login: str, argv: list[str], config: Path) -> tuple[int, str, str]:
    """`eim argv` in a child of this process that has become the OS user `login` (setuid): a real
    second user, who owns nothing here. (The child runs code this process already imported: the
    interpreter lives where only root may read.)"""
    from eim_tui.cli.main import main

    entry = pwd.getpwnam(login)
    out_r, out_w = os.pipe()
    err_r, err_w = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child: never returns into pytest
        status = 1
        try:
            os.dup2(out_w, 1)
            os.dup2(err_w, 2)
            sys.stdout = open(1, "w", closefd=False)  # noqa: SIM115 - the child's stdout until os._exit
            sys.stderr = open(2, "w", closefd=False)  # noqa: SIM115
            os.setgid(entry.pw_gid)
            os.setuid(entry.pw_uid)
            os.environ.update(USER="root", LOGNAME="root", EIM_USER="", HOME=entry.pw_dir, EIM_CONFIG=str(config))  # $USER is no proof
            status = main(argv)
        finally:
            sys.stdout.flush()
            sys.stderr.flush()
            os._exit(status)
    os.close(out_w)
    os.close(err_w)
    with open(out_r) as out, open(err_r) as err:
        stdout, stderr = out.read(), err.read()
    _, wait_status = os.waitpid(pid, 0)
    return os.waitstatus_to_exitcode(wait_status), stdout, stderr


def test_sqlite_only_the_file_owner_may_name_someone_else(eim, tmp_path: Path) -> None:
    if os.geteuid() != 0:
        pytest.skip("needs root to run eim as a second OS user")
    try:
        pwd.getpwnam("postgres")
    except KeyError:
        pytest.skip("no second OS user (postgres) to run eim as")
    shared = Path(tempfile.mkdtemp(prefix="eim-id-"))
    try:
        shared.chmod(0o755)
        store = shared / "team.db"
        argv = ["--db", str(store), "--user", "admin", "users", "whoami"]
        # root makes it (root owns the file), and this process has imported what the child needs.
        assert "named by the owner of the store file (root)" in eim(*argv[2:], db=str(store)).out
        store.chmod(0o644)
        status, out, err = _as_other_os_user("postgres", argv, shared / "none.toml")
        assert (status, err) == (2, (f"eim: --user admin refused: you are postgres, and only the owner of {store} "
                                     "may act as someone else on it\n")), out
        status, out, err = _as_other_os_user("postgres", argv[:2] + ["users", "whoami"], shared / "none.toml")
        assert status == 0, err
        assert out.splitlines()[-1] == "you are postgres: OS login postgres"
    finally:
        shutil.rmtree(shared, ignore_errors=True)


def test_ssh_identity_typed_in_a_normal_shell_is_refused(eim, tmp_path: Path) -> None:
    account = pwd.getpwuid(os.geteuid()).pw_name
    config = tmp_path / "config.toml"
    env = {**NO_USER, "EIM_CONFIG": str(config)}
    config.write_text(f'[ssh]\naccount = "{account}"\n')
    refused = eim("--ssh-identity", "alice", "users", "whoami", ok=False, env=env)
    assert refused.status == 2
    assert refused.err == (f"eim: --ssh-identity refused: eim trusts it only when sshd starts it for {account}; "
                           "this runs outside an SSH session\n")
    config.write_text('[ssh]\naccount = "oncall-elsewhere"\n')
    refused = eim("--ssh-identity", "alice", "users", "whoami", ok=False,
                  env={**env, "SSH_CONNECTION": "127.0.0.1 5 127.0.0.1 22"})
    assert "not the [ssh] account oncall-elsewhere" in refused.err and refused.status == 2
    config.write_text("")
    refused = eim("--ssh-identity", "alice", "users", "whoami", ok=False, env=env)
    assert refused.err == "eim: --ssh-identity refused: no [ssh] account is configured for it in config.toml\n"
    assert "Traceback" not in refused.err


@pytest.mark.parametrize("host", ["0.0.0.0", "192.0.2.10", "::"])
def test_eim_serve_refuses_anything_but_loopback(eim, host: str) -> None:
    refused = eim("serve", "--host", host, "--port", "8765", ok=False)
    assert refused.status == 2
    assert refused.err == (f"eim: eim serve listens on loopback only (127.0.0.1, ::1, localhost), not {host}: it has "
                           "no login of its own; reach it through SSH: ssh -L 8765:127.0.0.1:8765 HOST\n")
