"""Running `eim` as a real process: `python -m eim_tui …` with a clean environment."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest


@dataclass
class Result:
    args: list[str]
    status: int
    out: str
    err: str

    @property
    def json(self) -> Any:
        return json.loads(self.out)

    def __str__(self) -> str:
        return f"eim {' '.join(self.args)} → {self.status}\nstdout: {self.out}\nstderr: {self.err}"


class Eim:
    """`eim(*args)` runs the command line against one store, as `EIM_USER=alice` unless told otherwise."""

    def __init__(self, db: str | None, home: Path) -> None:
        self.db = db
        self.env = {k: v for k, v in os.environ.items() if not k.startswith("EIM_")}
        self.env.update(EIM_USER="alice", HOME=str(home), XDG_DATA_HOME=str(home / "data"), PYTHONWARNINGS="ignore")

    def __call__(self, *args: str, ok: bool = True, env: dict[str, str] | None = None, db: str | None = None,
                 stdin: str | None = None) -> Result:
        db = db or self.db
        argv = [*(["--db", db] if db else []), *args]
        done = subprocess.run(
            [sys.executable, "-m", "eim_tui", *argv], capture_output=True, text=True, timeout=60,
            env={**self.env, **(env or {})}, input=stdin,
        )
        result = Result(argv, done.returncode, done.stdout, done.stderr)
        if ok:
            assert result.status == 0, str(result)
        return result

    def new(self, title: str = "Payments API returns 502", *extra: str) -> str:
        return self("new", "--title", title, "--impact", "1", "--urgency", "2", "--service", "payments",
                    *extra).out.strip()


@pytest.fixture
def eim(tmp_path: Path) -> Eim:
    return Eim(f"sqlite:///{tmp_path}/x.db", tmp_path)


@pytest.fixture
def eim_on(db_url: str, tmp_path: Path) -> Eim:
    """The command line on each backend (see `db_url` in tests/conftest.py)."""
    return Eim(db_url, tmp_path)
