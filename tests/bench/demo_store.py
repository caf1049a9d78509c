"""A 100,000-incident demo store for the benchmarks, built once and reused.

`cached_store()` returns a SQLite file under `.bench/` made by a real `eim demo --incidents N`.
Its name carries a fingerprint of the schema and of the demo generator, so a store made before
either changed is never reused (it would lack columns, or hold other data). `timed_demo()` runs
`eim demo` into a fresh store and says how long it took, in wall and CPU seconds.
"""

from __future__ import annotations

import hashlib
import os
import resource
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
CACHE_DIR = ROOT / ".bench"


def _fingerprint() -> str:
    from sqlalchemy.dialects import sqlite
    from sqlalchemy.schema import CreateIndex, CreateTable

    from eim_tui.services import demo
    from eim_tui.store import bulk_load, search
    from eim_tui.store.tables import Base

    digest = hashlib.sha256()
    for table in Base.metadata.sorted_tables:
        digest.update(str(CreateTable(table).compile(dialect=sqlite.dialect())).encode())
        for index in sorted(table.indexes, key=lambda i: i.name or ""):
            digest.update(str(CreateIndex(index).compile(dialect=sqlite.dialect())).encode())
    for module in (demo, bulk_load, search):  # what the demo writes, how it writes it, and its index
        digest.update(Path(module.__file__).read_bytes())
    return digest.hexdigest()[:10]


def timed_demo(path: Path, incidents: int) -> tuple[float, float]:
    """`eim demo --incidents N` into a new store at `path`: (wall seconds, CPU seconds)."""
    for suffix in ("", "-wal", "-shm"):
        Path(f"{path}{suffix}").unlink(missing_ok=True)
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    subprocess.run(
        [sys.executable, "-m", "eim_tui", "--db", f"sqlite:///{path}", "demo", "--incidents", str(incidents)],
        check=True, stdout=subprocess.DEVNULL,
    )
    wall = time.perf_counter() - started
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return wall, cpu


def cached_path(incidents: int) -> Path:
    """Where the current demo store of `incidents` incidents is cached (it may not exist yet)."""
    CACHE_DIR.mkdir(exist_ok=True)
    return CACHE_DIR / f"demo-{incidents}-{_fingerprint()}.db"


def cached_store(incidents: int = 100_000) -> Path:
    """The demo store of `incidents` incidents, made now if no current one is cached."""
    path = cached_path(incidents)
    if not path.exists():
        _forget_stale(incidents)
        print(f"# building {path.name} with eim demo --incidents {incidents}", file=sys.stderr, flush=True)
        partial = path.with_suffix(f".{os.getpid()}.tmp")
        timed_demo(partial, incidents)
        _checkpoint(partial)
        partial.rename(path)  # whole or not at all: an interrupted build is never reused
    return path


def adopt(fresh: Path, incidents: int) -> Path:
    """Keep a store `timed_demo` just made as the cache (saves building it a second time)."""
    path = cached_path(incidents)
    if not path.exists():
        _forget_stale(incidents)
        _checkpoint(fresh)
        fresh.rename(path)
    return path


def _forget_stale(incidents: int) -> None:
    """Remove stores made for another schema or generator, and what was kept beside them."""
    for pattern in ("*.db", "*.build.json"):
        for stale in CACHE_DIR.glob(f"demo-{incidents}-{pattern}"):
            stale.unlink()


def _checkpoint(path: Path) -> None:
    """Fold the WAL into the file, so the file alone is the whole store before it is renamed."""
    import sqlite3

    connection = sqlite3.connect(path)
    try:
        connection.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    finally:
        connection.close()
    for suffix in ("-wal", "-shm"):
        Path(f"{path}{suffix}").unlink(missing_ok=True)
