"""A large store made quickly from a smaller demo one, for measuring reads at a size whose `eim
demo` takes too long on a busy machine (the README's 1,000,000-incident figures were measured so):

    python -m tests.bench.scaled_store SOURCE.db TARGET.db 10

copies SOURCE's incidents, diagnosis notes, timeline events and state visits FACTOR-1 times under
new numbers (SQL only, secondary indexes made again at the end, the full-text index filled for the
copies). Once-keys are renumbered, so a store swept before copying stays swept. The copies' hash
chain is NOT valid (`eim audit verify` fails): this is for timing reads, never for anything else.
No ANALYZE: a demo store has no statistics either, so the query plans are the same.
"""

from __future__ import annotations

import shutil
import sqlite3
import sys
import time

LOADED = ("incident", "timeline_event", "state_visit", "diagnosis_note")


def scale(source: str, target: str, factor: int) -> None:
    shutil.copyfile(source, target)
    db = sqlite3.connect(target, isolation_level=None)
    db.execute("PRAGMA cache_size=-65536")
    started = time.perf_counter()
    n = db.execute("SELECT max(id) FROM incident").fetchone()[0]
    s = db.execute("SELECT max(seq) FROM timeline_event").fetchone()[0]

    def columns(table: str) -> list[str]:
        return [r[1] for r in db.execute(f"PRAGMA table_info({table})")]

    def copy(table: str, moved: dict[str, str], where: str, skip: str = "") -> None:
        names = [c for c in columns(table) if c != skip]
        db.execute(f"INSERT INTO {table} ({', '.join(names)}) SELECT {', '.join(moved.get(c, c) for c in names)} "
                   f"FROM {table} WHERE {where}")

    db.execute("BEGIN")
    indexes = db.execute("SELECT name, sql FROM sqlite_master WHERE type = 'index' AND sql IS NOT NULL AND tbl_name IN "
                         f"({', '.join('?' * len(LOADED))})", LOADED).fetchall()
    for name, _ in indexes:
        db.execute(f'DROP INDEX "{name}"')
    db.execute("UPDATE search_state SET indexing = 0")
    for k in range(1, factor):
        number = f"incident_id + {k * n}"
        once = (f"CASE WHEN once_key IS NULL THEN NULL ELSE substr(once_key, 1, instr(once_key, ':')) || ({number}) "
                "|| substr(once_key, instr(once_key, ':') + length(incident_id) + 1) END")
        copy("incident", {"id": f"id + {k * n}"}, f"id <= {n}")
        copy("diagnosis_note", {"incident_id": number}, f"incident_id <= {n}", skip="id")
        copy("timeline_event", {"seq": f"seq + {k * s}", "incident_id": number, "once_key": once,
                                "hash": f"substr(hash, 1, 60) || printf('%04d', {k})"}, f"seq <= {s}")
        copy("state_visit", {"incident_id": number, "seq": f"seq + {k * s}"}, f"incident_id <= {n}", skip="id")
        print(f"# copy {k} of {factor - 1}: {time.perf_counter() - started:.0f} s", file=sys.stderr, flush=True)
    for _, statement in indexes:
        db.execute(statement)
    db.execute("UPDATE chain_head SET seq = (SELECT max(seq) FROM timeline_event)")
    db.execute(f"DELETE FROM incident_fts WHERE rowid > {n}")
    db.execute(
        "INSERT INTO incident_fts (rowid, title, description, notes, resolution) "
        "SELECT i.id, i.title, i.description, coalesce(t.notes, ''), i.resolution_notes FROM incident i "
        "LEFT JOIN (SELECT incident_id, group_concat(text, ' ') AS notes FROM "
        f"(SELECT incident_id, text FROM diagnosis_note WHERE incident_id > {n} ORDER BY incident_id, position) "
        f"GROUP BY incident_id) t ON t.incident_id = i.id WHERE i.id > {n}")
    db.execute("UPDATE search_state SET indexing = 1")
    db.execute("COMMIT")
    db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    total, opened = db.execute("SELECT count(*), sum(is_open) FROM incident").fetchone()
    print(f"# {total:,} incidents, {opened:,} open, in {time.perf_counter() - started:.0f} s", file=sys.stderr)
    db.close()


if __name__ == "__main__":
    scale(sys.argv[1], sys.argv[2], int(sys.argv[3]))
