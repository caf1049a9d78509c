"""Fuzz cases run per `eim` verb (both backends) and per TUI form field, with the crashes counted.

Runs the hypothesis tests (`tests/cli/test_fuzz_verbs.py`, `tests/tui/test_fuzz_forms.py`) in a
pytest process with a larger example count (`EIM_FUZZ_EXAMPLES`, default here 40; give another as
the first argument) and collects the line each example writes to `EIM_FUZZ_LOG`. A crash is an
example whose answer broke the promise (a traceback, a status other than 0/1/2, a message that is
not one `eim: …` line, a broken chain; in the TUI an exception, a silent refusal or a stored value
that differs from what was typed). Hypothesis replays a failing example while shrinking it, so a
crash count above 0 is "some", not an exact figure — the pytest summary names the failures.

    python -m tests.bench.bench_fuzz_cli [EXAMPLES]

Prints one JSON line per figure (`{"metric", "value", "unit"}`), as every bench does.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent.parent
TESTS = ["tests/cli/test_fuzz_verbs.py", "tests/tui/test_fuzz_forms.py"]


def emit(metric: str, value: float, unit: str) -> None:
    print(json.dumps({"metric": metric, "value": round(value, 2), "unit": unit}), flush=True)


def main(argv: list[str]) -> int:
    count = argv[0] if argv else "40"
    with tempfile.TemporaryDirectory(prefix="eim-fuzz-") as tmp:
        log = Path(tmp) / "cases.jsonl"
        env = {**os.environ, "EIM_FUZZ_EXAMPLES": count, "EIM_FUZZ_LOG": str(log)}
        done = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:randomly", "--tb=line", *TESTS],
                              cwd=ROOT, env=env, capture_output=True, text=True)
        lines = [json.loads(line) for line in log.read_text().splitlines()] if log.exists() else []
    runs: Counter[str] = Counter()
    crashes: Counter[str] = Counter()
    for case in lines:
        name = f"{case['kind']}:{case['case']}" + (f"@{case['backend']}" if "backend" in case else "")
        runs[name] += 1
        crashes[name] += case["crash"]
    for name in sorted(runs):
        emit(f"fuzz_cases[{name}]", runs[name], "cases")
        emit(f"fuzz_crashes[{name}]", crashes[name], "crashes")
    cli = [c for c in lines if c["kind"] == "cli"]
    forms = [c for c in lines if c["kind"] == "form"]
    emit("fuzz_cli_cases_total", len(cli), "cases")
    emit("fuzz_cli_crashes_total", sum(c["crash"] for c in cli), "crashes")
    emit("fuzz_form_field_cases_total", len(forms), "cases")
    emit("fuzz_form_crashes_total", sum(c["crash"] for c in forms), "crashes")
    summary = (done.stdout.strip().splitlines() or ["(no output)"])[-1]
    print(f"# pytest exit {done.returncode}: {summary}", file=sys.stderr)
    if done.returncode != 0:
        print(done.stdout[-4000:], file=sys.stderr)
    return done.returncode


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
