"""Full-text search over the 100,000-incident demo store (issue 11: similar incidents ≤ 50 ms,
`text:` filter ≤ 100 ms).

Prints one JSON line per figure ({"metric", "value", "unit"}), each beside its floor measured in
the same run, since this machine is shared (median of `--runs`, after one warm run):
- fulltext_100k_floor_ms: one incident read by its key (`Services.get`), the least any look-up costs;
- similar_100k_ms: `eim similar`'s use case for open incidents of the demo (their title's words all
  found in resolved ones: the first stage answers), the median over 20 incidents;
- similar_fallback_100k_ms: the same for a report whose words never occur together (the second
  stage: any word, over tens of thousands of matches);
- text_filter_100k_ms: the queue's numbers for `text:"…" all`, a narrow phrase (`wal slot`) and a
  broad word (`disk`), with how many each found (a sanity figure).

`--db URL` measures another store (a PostgreSQL one filled with `eim demo --incidents 100000`);
by default the cached SQLite demo store (tests/bench/demo_store.py).

Run as `python -m tests.bench.bench_fulltext [--runs N] [--db URL]`.
"""

from __future__ import annotations

import argparse
import statistics

from tests.bench.bench_reports import emit, median_ms
from tests.bench.demo_store import cached_store


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--db", default=None, help="a store URL (default: the cached 100,000-incident SQLite demo)")
    args = parser.parse_args(argv)

    from eim_tui.bootstrap import open_services
    from eim_tui.domain.filters import parse
    from eim_tui.domain.model import Incident
    from eim_tui.domain.queue import View
    from eim_tui.services.similar import similar_resolved

    url = args.db or f"sqlite:///{cached_store()}"
    svc = open_services(url)
    backend = svc.db.dialect
    try:
        total = len(svc.queue(View.OPEN, parse("all"), "alice", []))
        open_ones = [r.number for r in svc.rows(svc.queue(View.OPEN, parse(""), "alice", [])) if not r.confidential]
        sample = open_ones[:: max(1, len(open_ones) // 20)][:20]
        emit("fulltext_100k_floor_ms", median_ms(lambda: svc.get(sample[0]), args.runs), "ms",
             backend=backend, incidents=total)
        per_incident = [median_ms(lambda n=n: svc.similar_resolved(n, viewer="alice"), args.runs) for n in sample]
        found = len(svc.similar_resolved(sample[-1], viewer="alice"))
        emit("similar_100k_ms", statistics.median(per_incident), "ms", backend=backend,
             worst_ms=round(max(per_incident), 2), found=found, target_ms=50)
        odd = Incident(0, "Printer latency after the VPN backup rollout", 3, 3, 4, svc.clock.now(),
                       description="badge readers and payroll exports also mentioned")
        emit("similar_fallback_100k_ms", median_ms(lambda: similar_resolved(svc.db, odd), args.runs), "ms",
             backend=backend, found=len(similar_resolved(svc.db, odd)), target_ms=50)
        for name, query in (("narrow", 'text:"wal slot" all'), ("broad", "text:disk all")):
            f = parse(query)
            matched = len(svc.queue(View.OPEN, f, "alice", []))
            emit(f"text_filter_{name}_100k_ms", median_ms(lambda f=f: svc.queue(View.OPEN, f, "alice", []), args.runs),
                 "ms", backend=backend, query=query, matched=matched, target_ms=100)
    finally:
        svc.db.dispose()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
