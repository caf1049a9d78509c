"""Running `eim`: in this process through `eim_tui.cli.main.main(argv)` (`eim`, `eim_on`), or as a
real process, `python -m eim_tui …` (`eim_process`), for what only a process shows: the exit
status it hands the shell, no traceback on stderr, stdin piped in, the start of `eim --help`.

Both see the same environment: no `EIM_*` variable but `EIM_USER=alice`, `HOME` and the XDG data
directory under `tmp_path`, and whatever the test passes as `env=`.
"""

from __future__ import annotations

import contextlib
import io
import json
import logging
import os
import subprocess
import sys
import traceback
import warnings
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from eim_tui.cli.main import main


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
        self.home = home

    def environment(self, extra: dict[str, str] | None) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items() if not k.startswith("EIM_")}
        env.update(EIM_USER="alice", HOME=str(self.home), XDG_DATA_HOME=str(self.home / "data"),
                   PYTHONWARNINGS="ignore")
        return {**env, **(extra or {})}

    def __call__(self, *args: str, ok: bool = True, env: dict[str, str] | None = None, db: str | None = None,
                 stdin: str | None = None) -> Result:
        db = db or self.db
        argv = [*(["--db", db] if db else []), *args]
        status, out, err = self.run(argv, self.environment(env), stdin)
        result = Result(argv, status, out, err)
        if ok:
            assert result.status == 0, str(result)
        return result

    def run(self, argv: list[str], env: dict[str, str], stdin: str | None) -> tuple[int, str, str]:
        """`main(argv)` in this process, with `env` as the whole environment for the while."""
        out, err = _Stream(), _Stream()
        with _environment(env), _root_logging(), warnings.catch_warnings(), \
                contextlib.redirect_stdout(out.text), contextlib.redirect_stderr(err.text), \
                _stdin(stdin or ""):
            warnings.simplefilter("ignore")  # as PYTHONWARNINGS=ignore does for the process
            try:
                status = main(argv)
            except SystemExit as exc:  # --help and --version: argparse exits itself
                status = _exit_status(exc)
            except BaseException:  # what Python would print on its way out of a real process
                traceback.print_exc(file=sys.stderr)
                status = 1
        return status, out.value(), err.value()

    def new(self, title: str = "Payments API returns 502", *extra: str) -> str:
        return self("new", "--title", title, "--impact", "1", "--urgency", "2", "--service", "payments",
                    *extra).out.strip()


class EimProcess(Eim):
    """`eim_process(*args)`: the same, as a real `python -m eim_tui` process."""

    def run(self, argv: list[str], env: dict[str, str], stdin: str | None) -> tuple[int, str, str]:
        done = subprocess.run([sys.executable, "-m", "eim_tui", *argv], capture_output=True, text=True,
                              timeout=60, env=env, input=stdin)
        return done.returncode, done.stdout, done.stderr


class _Stream:
    """A text stream over bytes, as a pipe is: read back with universal newlines, like `text=True`."""

    def __init__(self) -> None:
        self.raw = io.BytesIO()
        self.text = io.TextIOWrapper(self.raw, encoding="utf-8", newline="", write_through=True)

    def value(self) -> str:
        self.text.flush()
        return self.raw.getvalue().decode("utf-8").replace("\r\n", "\n").replace("\r", "\n")


@contextlib.contextmanager
def _environment(env: dict[str, str]) -> Iterator[None]:
    """`env` as `os.environ` for the while; afterwards exactly what was there (`eim serve` writes it)."""
    saved = dict(os.environ)
    _replace_environ(env)
    try:
        yield
    finally:
        _replace_environ(saved)


def _replace_environ(env: dict[str, str]) -> None:
    for name in [n for n in os.environ if n not in env]:
        del os.environ[name]
    for name, value in env.items():
        if os.environ.get(name) != value:
            os.environ[name] = value


@contextlib.contextmanager
def _root_logging() -> Iterator[None]:
    """`eim ingest` sets up logging for its process; here that must not outlive the command."""
    root, access = logging.getLogger(), logging.getLogger("aiohttp.access")
    handlers, level, access_level = list(root.handlers), root.level, access.level
    try:
        yield
    finally:
        root.handlers[:] = handlers
        root.setLevel(level)
        access.setLevel(access_level)


@contextlib.contextmanager
def _stdin(text: str) -> Iterator[None]:
    saved = sys.stdin
    sys.stdin = io.TextIOWrapper(io.BytesIO(text.encode("utf-8")), encoding="utf-8")
    try:
        yield
    finally:
        sys.stdin = saved


def _exit_status(exc: SystemExit) -> int:
    if exc.code is None:
        return 0
    if isinstance(exc.code, int):
        return exc.code
    print(exc.code, file=sys.stderr)
    return 1


@pytest.fixture
def eim(tmp_path: Path) -> Eim:
    return Eim(f"sqlite:///{tmp_path}/x.db", tmp_path)


@pytest.fixture
def eim_on(db_url: str, tmp_path: Path) -> Eim:
    """The command line on each backend (see `db_url` in tests/conftest.py)."""
    return Eim(db_url, tmp_path)


@pytest.fixture
def eim_process(tmp_path: Path) -> EimProcess:
    return EimProcess(f"sqlite:///{tmp_path}/x.db", tmp_path)
