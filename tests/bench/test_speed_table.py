"""The README's speed table is made from a run's figures file, and only its block changes."""

from __future__ import annotations

import json
from pathlib import Path

from tests.bench import speed_table
from tests.bench.run_all import machine

HEADER = {"run": "2026-12-06T06:00:00+00:00", "machine": machine(), "load_at_start": 1.5, "only": []}
FIGURES = [
    {"bench": "bench_queue", "load": 1.2, "metric": "queue_first_paint_s", "value": 0.53, "unit": "s",
     "floor": 0.35, "ratio": 1.51, "target": 1.5},
    {"bench": "bench_ingest", "load": 2.0, "metric": "ingest_rps", "value": 1234.5, "unit": "events/s", "clients": 16},
]


def _write(tmp_path: Path, lines: list[dict]) -> Path:
    path = tmp_path / "figures.jsonl"
    path.write_text("".join(json.dumps(line) + "\n" for line in lines))
    return path


def test_the_block_between_the_markers_is_replaced_and_nothing_else(tmp_path: Path) -> None:
    readme = tmp_path / "README.md"
    readme.write_text(f"# eim\nbefore\n{speed_table.BEGIN}\nold table\n{speed_table.END}\nafter\n")
    assert speed_table.main(["--figures", str(_write(tmp_path, [HEADER, *FIGURES])), "--readme", str(readme)]) == 0
    text = readme.read_text()
    assert text.startswith("# eim\nbefore\n") and text.endswith(f"{speed_table.END}\nafter\n")
    assert "old table" not in text
    assert "Measured 2026-12-06T06:00:00+00:00 by `make bench`" in text and "load average 1.5" in text
    assert "| queue | `queue_first_paint_s` | 0.53 | s | floor 0.35; ratio 1.51; target 1.5 | 1.2 |" in text
    assert "| ingest | `ingest_rps` | 1,234.5 | events/s | clients 16 | 2.0 |" in text


def test_a_readme_without_the_markers_or_no_run_is_one_line_and_exit_2(tmp_path: Path, capsys) -> None:
    readme = tmp_path / "README.md"
    readme.write_text("# eim\n")
    figures = _write(tmp_path, [HEADER, *FIGURES])
    assert speed_table.main(["--figures", str(figures), "--readme", str(readme)]) == 2
    assert readme.read_text() == "# eim\n"
    assert speed_table.main(["--figures", str(tmp_path / "missing.jsonl"), "--readme", str(readme)]) == 2
    assert speed_table.main(["--figures", str(_write(tmp_path, FIGURES)), "--readme", str(readme)]) == 2
    lines = capsys.readouterr().err.strip().splitlines()
    assert len(lines) == 3 and all(line.startswith("speed_table: ") for line in lines)
