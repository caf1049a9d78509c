"""Run every `tests/bench/bench_*.py`, one after another, each in its own process.

Each benchmark's output goes straight through (its JSON lines on stdout, its notes on stderr), so
`make bench > figures.jsonl` collects every figure. The exit status is 1 if any benchmark failed;
the others still run.
"""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

BENCH_DIR = Path(__file__).resolve().parent
ROOT = BENCH_DIR.parent.parent


def main(argv: list[str]) -> int:
    only = set(argv)  # `python -m tests.bench.run_all bench_queue` runs just that one
    failed = []
    for script in sorted(BENCH_DIR.glob("bench_*.py")):
        if only and script.stem not in only:
            continue
        print(f"# {script.stem}", file=sys.stderr, flush=True)
        started = time.perf_counter()
        result = subprocess.run([sys.executable, "-m", f"tests.bench.{script.stem}"], cwd=ROOT)
        print(f"# {script.stem}: exit {result.returncode} after {time.perf_counter() - started:.0f} s",
              file=sys.stderr, flush=True)
        if result.returncode != 0:
            failed.append(script.stem)
    if failed:
        print(f"# failed: {', '.join(failed)}", file=sys.stderr)
    return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
