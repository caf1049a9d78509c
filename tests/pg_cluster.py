"""A private PostgreSQL cluster that a test can stop and start: the real outage, not a mock.

`PrivateCluster` runs `initdb` and `pg_ctl` as the `postgres` OS user (PostgreSQL refuses to run
as root) in a temporary directory, on a spare loopback port, with trust authentication (the
recipe in TESTING.md). `stop()` is the outage (`pg_ctl stop -m fast`: the server ends every
session, as a crash or a restart would); `start()` brings it back on the same port and data.
`cleanup()` stops it and removes the directory; use it from a fixture's `finally`.

`private_cluster()` skips when the PostgreSQL binaries or the `postgres` user are missing —
except under CI (`CI` set), where that is a failure.
"""

from __future__ import annotations

import os
import pwd
import shlex
import shutil
import socket
import subprocess
import tempfile
import time
from pathlib import Path


class ClusterUnavailable(Exception):
    pass


def spare_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _binary(name: str) -> str:
    found = shutil.which(name)
    if found:
        return found
    for root in sorted(Path("/usr/lib/postgresql").glob("*/bin"), reverse=True):
        if (root / name).exists():
            return str(root / name)
    raise ClusterUnavailable(f"{name} is not installed (Debian: postgresql)")


class PrivateCluster:
    def __init__(self, database: str = "eim") -> None:
        try:
            pwd.getpwnam("postgres")
        except KeyError:
            raise ClusterUnavailable("there is no postgres OS user to run a private cluster as") from None
        self.initdb = _binary("initdb")
        self.pg_ctl = _binary("pg_ctl")
        self.database = database
        self.dir = Path(tempfile.mkdtemp(prefix="eim-pg-"))
        self.port = spare_port()
        self.running = False
        self.last_start_s = 0.0  # how long the last `pg_ctl start` took (a floor for reconnect figures)

    @property
    def url(self) -> str:
        return f"postgresql+psycopg://postgres@127.0.0.1:{self.port}/{self.database}"

    def _as_postgres(self, command: str, check: bool = True) -> subprocess.CompletedProcess[str]:
        argv = ["su", "postgres", "-c", command] if os.geteuid() == 0 else ["sh", "-c", command]
        done = subprocess.run(argv, capture_output=True, text=True, timeout=120)
        if check and done.returncode != 0:
            raise ClusterUnavailable(f"{command!r} failed: {done.stderr.strip() or done.stdout.strip()}")
        return done

    def create(self) -> PrivateCluster:
        if os.geteuid() == 0:
            shutil.chown(self.dir, "postgres")
        self._as_postgres(f"{self.initdb} -D {self.dir}/data -A trust -U postgres --no-sync -E UTF8")
        # fsync off: a test cluster need not survive a power cut, and the machine is shared.
        with open(self.dir / "data" / "postgresql.conf", "a") as conf:
            conf.write("\nfsync = off\nsynchronous_commit = off\nfull_page_writes = off\n")
        self.start()
        import psycopg

        with psycopg.connect(f"host=127.0.0.1 port={self.port} user=postgres dbname=postgres",
                             autocommit=True) as conn:
            conn.execute(f'CREATE DATABASE "{self.database}"')
        return self

    def start(self) -> float:
        """Start the server; returns how long `pg_ctl start -w` took (it waits until connections are taken)."""
        options = shlex.quote(f"-p {self.port} -k {self.dir} -c listen_addresses=127.0.0.1")
        began = time.monotonic()
        self._as_postgres(f"{self.pg_ctl} -D {self.dir}/data -o {options} -l {self.dir}/log -w start")
        self.last_start_s = time.monotonic() - began
        self.running = True
        return self.last_start_s

    def stop(self) -> None:
        self._as_postgres(f"{self.pg_ctl} -D {self.dir}/data -w stop -m fast")
        self.running = False

    def cleanup(self) -> None:
        try:
            if self.running:
                self._as_postgres(f"{self.pg_ctl} -D {self.dir}/data -w stop -m immediate", check=False)
        finally:
            self.running = False
            shutil.rmtree(self.dir, ignore_errors=True)


def private_cluster(database: str = "eim") -> PrivateCluster:
    """A created and running cluster; skips the test when none can be made (fails under CI)."""
    import pytest

    try:
        cluster = PrivateCluster(database)
    except ClusterUnavailable as exc:
        if os.environ.get("CI"):
            pytest.fail(f"a private PostgreSQL cluster is needed under CI: {exc}")
        pytest.skip(str(exc))
    try:
        return cluster.create()
    except BaseException as exc:
        cluster.cleanup()
        if isinstance(exc, ClusterUnavailable) and not os.environ.get("CI"):
            pytest.skip(str(exc))
        raise
