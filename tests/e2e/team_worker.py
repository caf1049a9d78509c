"""One writer of the team-mode test: a separate process incrementing shared counters on PostgreSQL.

    python team_worker.py URL USER COUNTERS STEPS SEED      (then "GO <epoch>" on standard input)

Each step is a read-modify-write of one incident's title ("Shared counter N" → N+1) guarded by the
version it read; a `ConflictError` (someone wrote in between) makes it read again and retry, so no
increment is lost and none is applied twice. Every worker connects, says READY and waits for GO;
its first step targets the first counter and, after reading, waits for the instant GO names, so
all the writers collide for certain.

Prints one line per event, flushed at once, for the test to follow:
    READY · WROTE number value version committed_at · CONFLICT number · DONE writes conflicts
"""

from __future__ import annotations

import random
import sys
import time

from eim_tui.bootstrap import open_services
from eim_tui.domain.errors import ConflictError

PREFIX = "Shared counter "


def say(*parts: object) -> None:
    print(*parts, flush=True)


def increment(svc, user: str, number: int, pause_until: float | None = None) -> tuple[int, int, int]:
    """Add one to the counter; returns (new value, new version, conflicts met on the way)."""
    conflicts = 0
    while True:
        current = svc.get(number)
        value = int(current.title.removeprefix(PREFIX)) + 1
        if pause_until is not None:
            time.sleep(max(0.0, pause_until - time.time()))
            pause_until = None
        try:
            saved = svc.change(
                number, user, lambda i, now, value=value: i.replace(title=f"{PREFIX}{value}"),
                expected_version=current.version,
            )
        except ConflictError:
            conflicts += 1
            say("CONFLICT", number)
            time.sleep(random.uniform(0.0, 0.02))
            continue
        return value, saved.version, conflicts


def main(url: str, user: str, counters: list[int], steps: int, seed: int) -> int:
    rng = random.Random(seed)
    svc = open_services(url)
    svc.get(counters[0])  # connect before the start, so start-up cost does not skew the collision
    say("READY")
    word, collide_at = sys.stdin.readline().split()
    assert word == "GO"
    writes = conflicts = 0
    for step in range(steps):
        number = counters[0] if step == 0 else rng.choice(counters)
        value, version, met = increment(svc, user, number, float(collide_at) if step == 0 else None)
        writes += 1
        conflicts += met
        say("WROTE", number, value, version, time.time())
        time.sleep(rng.uniform(0.05, 0.25))  # people do not type at machine speed
    svc.db.dispose()
    say("DONE", writes, conflicts)
    return 0


if __name__ == "__main__":
    url, user, counters, steps, seed = sys.argv[1:6]
    raise SystemExit(main(url, user, [int(c) for c in counters.split(",")], int(steps), int(seed)))
