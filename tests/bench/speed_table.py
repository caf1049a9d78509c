"""The README's speed table, regenerated from the last `make bench` run (`.bench/figures.jsonl`).

    python -m tests.bench.speed_table [--figures .bench/figures.jsonl] [--readme README.md] [--print]

Every figure of the run becomes a row — its benchmark, value and unit, and what was measured beside
it in the same run (its floor, the ratio to it, the target, and any other field the benchmark
printed) — under a line saying when the run was made, on what machine, and the load average at the
start of each benchmark (the machine is shared: the ratios are the figures that hold). The table
replaces what is between the README's `speed-table:begin` and `speed-table:end` markers; nothing
else in the README changes.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from tests.bench.run_all import FIGURES, ROOT

BEGIN = "<!-- speed-table:begin (python -m tests.bench.speed_table) -->"
END = "<!-- speed-table:end -->"
SHOWN_FIRST = ("floor", "ratio", "target")


def _value(value: object) -> str:
    if isinstance(value, float):
        return f"{value:,.3f}".rstrip("0").rstrip(".") if abs(value) < 10 else f"{value:,.1f}".removesuffix(".0")
    if isinstance(value, int):
        return f"{value:,}"
    return str(value)


def table(lines: list[str]) -> str:
    """The Markdown for a run's figures (its first line the run's header)."""
    if not lines:
        raise ValueError("no figures: run `make bench` first")
    header = json.loads(lines[0])
    if "run" not in header:
        raise ValueError("not a figures file written by tests/bench/run_all.py")
    m = header["machine"]
    out = [f"Measured {header['run']} by `make bench` on {m['cpu']}, {m['cores']} cores, {m['memory_gb']} GB, "
           f"{m['system']}, Python {m['python']}; load average {header['load_at_start']} at the start "
           "(this machine is shared: read the ratios to the floor measured in the same run).", "",
           "| benchmark | metric | value | unit | beside it, same run | load |", "|---|---|---|---|---|---|"]
    for line in lines[1:]:
        figure = json.loads(line)
        extra = {k: v for k, v in figure.items() if k not in ("bench", "metric", "value", "unit", "load")}
        beside = [f"{k} {_value(extra.pop(k))}" for k in SHOWN_FIRST if k in extra]
        beside += [f"{k} {_value(v)}" for k, v in extra.items()]
        out.append(f"| {figure['bench'].removeprefix('bench_')} | `{figure['metric']}` | {_value(figure['value'])} | "
                   f"{figure['unit']} | {'; '.join(beside).replace('|', '/')} | {figure.get('load', '')} |")
    return "\n".join(out)


def replace_block(readme: str, block: str) -> str:
    start, end = readme.find(BEGIN), readme.find(END)
    if start < 0 or end < start:
        raise ValueError(f"the README has no {BEGIN} … {END} block")
    return readme[: start + len(BEGIN)] + "\n" + block + "\n" + readme[end:]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--figures", type=Path, default=FIGURES)
    parser.add_argument("--readme", type=Path, default=ROOT / "README.md")
    parser.add_argument("--print", action="store_true", help="print the table instead of writing the README")
    args = parser.parse_args(argv)
    try:
        block = table(args.figures.read_text(encoding="utf-8").splitlines())
        if args.print:
            print(block)
            return 0
        args.readme.write_text(replace_block(args.readme.read_text(encoding="utf-8"), block), encoding="utf-8")
    except (OSError, ValueError) as exc:
        print(f"speed_table: {exc}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
