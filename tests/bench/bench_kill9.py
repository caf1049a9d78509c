"""Kill -9 figures: the scenarios of tests/e2e/test_kill9.py, run once each, with what they found.

Prints one JSON line per scenario and backend ({"metric", "value", "unit"} as every benchmark,
plus the counts): `kill9_<scenario>_<backend>` with value 1 when nothing was lost or doubled and
the chain verified, and `kills`, `acknowledged`, `lost`, `doubled` beside it. PostgreSQL runs use
a database of their own on 127.0.0.1:5432 (made and dropped here); without a reachable server
they are left out with a note on stderr.

Run as `python -m tests.bench.bench_kill9 [--only SCENARIO…]`.
"""

from __future__ import annotations

import argparse
import json
import secrets
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

TESTS = Path(__file__).resolve().parents[1]
PG_SERVER = "postgresql+psycopg://postgres@127.0.0.1:5432"


@contextmanager
def postgres_database() -> Iterator[str | None]:
    from sqlalchemy import create_engine, text
    from sqlalchemy.pool import NullPool

    admin = create_engine(f"{PG_SERVER}/test", isolation_level="AUTOCOMMIT", poolclass=NullPool,
                          connect_args={"connect_timeout": 5})
    name = f"eim_bench_kill9_{secrets.token_hex(4)}"
    try:
        with admin.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{name}"'))
    except Exception as exc:  # noqa: BLE001 - no server: those runs are left out
        print(f"# PostgreSQL not reachable, its runs left out: {str(exc).splitlines()[0]}", file=sys.stderr)
        yield None
        return
    try:
        yield f"{PG_SERVER}/{name}"
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", nargs="*", default=None, help="scenario names: ingest sweep new_incident note bulk")
    args = parser.parse_args(argv)
    sys.path[:0] = [str(TESTS / "e2e"), str(TESTS)]
    import test_kill9 as kill9

    scenarios: list[tuple[str, Callable, tuple[str, ...]]] = [
        ("ingest", kill9.ingest_burst, ("sqlite", "postgresql")),
        ("sweep", kill9.sla_sweep, ("sqlite", "postgresql")),
        ("new_incident", kill9.tui_new_incident, ("sqlite",)),
        ("note", kill9.tui_note, ("sqlite",)),
        ("bulk", kill9.tui_bulk, ("sqlite",)),
    ]
    failed = 0
    for name, run, backends in scenarios:
        if args.only and name not in args.only:
            continue
        for backend in backends:
            with tempfile.TemporaryDirectory(prefix=f"eim-bench-kill9-{name}-") as tmp:
                if backend == "sqlite":
                    context = _nothing(f"sqlite:///{tmp}/eim.db")
                else:
                    context = postgres_database()
                with context as url:
                    if url is None:
                        continue
                    started = time.perf_counter()
                    outcome = run(url, Path(tmp))
                    clean = not outcome.lost and not outcome.doubled and outcome.chain_ok
                    failed += not clean
                    print(json.dumps({
                        "metric": f"kill9_{name}_{backend}", "value": 1 if clean else 0, "unit": "clean",
                        "kills": outcome.kills, "acknowledged": outcome.acknowledged,
                        "lost": len(outcome.lost), "doubled": len(outcome.doubled), "chain_ok": outcome.chain_ok,
                        "seconds": round(time.perf_counter() - started, 1),
                    }), flush=True)
    return 1 if failed else 0


@contextmanager
def _nothing(url: str) -> Iterator[str]:
    yield url


if __name__ == "__main__":
    raise SystemExit(main())
