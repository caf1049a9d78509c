"""Run every `tests/bench/bench_*.py`, one after another, each in its own process.

Each benchmark's JSON lines go straight through to stdout (its notes to stderr), so
`make bench > figures.jsonl` collects every figure; they are also written to `.bench/figures.jsonl`,
each marked with its benchmark, after a first line saying when and on what machine the run was made
— what `python -m tests.bench.speed_table` turns into the README's speed table. The exit status is 1
if any benchmark failed; the others still run.
"""

from __future__ import annotations

import json
import os
import platform
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

BENCH_DIR = Path(__file__).resolve().parent
ROOT = BENCH_DIR.parent.parent
FIGURES = ROOT / ".bench" / "figures.jsonl"


def machine() -> dict[str, object]:
    """What the figures were measured on: the run's context, since this machine is shared."""
    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    try:
        memory_gb = round(os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30, 1)
    except (ValueError, OSError):
        memory_gb = None
    return {"cpu": cpu, "cores": os.cpu_count(), "memory_gb": memory_gb, "python": platform.python_version(),
            "system": f"{platform.system()} {platform.release()}"}


def main(argv: list[str]) -> int:
    only = set(argv)  # `python -m tests.bench.run_all bench_queue` runs just that one
    failed = []
    FIGURES.parent.mkdir(exist_ok=True)
    with FIGURES.open("w", encoding="utf-8") as out:
        out.write(json.dumps({"run": datetime.now(UTC).isoformat(timespec="seconds"), "machine": machine(),
                              "load_at_start": round(os.getloadavg()[0], 1), "only": sorted(only)}) + "\n")
        for script in sorted(BENCH_DIR.glob("bench_*.py")):
            if only and script.stem not in only:
                continue
            print(f"# {script.stem}", file=sys.stderr, flush=True)
            started = time.perf_counter()
            load = os.getloadavg()[0]
            with subprocess.Popen([sys.executable, "-m", f"tests.bench.{script.stem}"], cwd=ROOT,
                                  stdout=subprocess.PIPE, text=True) as bench:
                assert bench.stdout is not None
                for line in bench.stdout:
                    sys.stdout.write(line)
                    sys.stdout.flush()
                    try:
                        figure = json.loads(line)
                    except ValueError:
                        continue
                    if isinstance(figure, dict) and "metric" in figure:
                        out.write(json.dumps({"bench": script.stem, "load": round(load, 1), **figure}) + "\n")
                        out.flush()
            print(f"# {script.stem}: exit {bench.returncode} after {time.perf_counter() - started:.0f} s",
                  file=sys.stderr, flush=True)
            if bench.returncode != 0:
                failed.append(script.stem)
    if failed:
        print(f"# failed: {', '.join(failed)}", file=sys.stderr)
    return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
