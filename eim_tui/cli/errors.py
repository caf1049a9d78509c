"""How the command line speaks: bad input as one line on stderr, JSON on stdout, never a traceback.

Every command module raises `UsageError` (or lets a `DomainError` through) and `main` turns it
into `fail(...)`: `eim: <message>` and exit status 2. `explain` makes one line of an unexpected
exception. Standard library only, so `eim --help` stays fast.
"""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any, NoReturn


class UsageError(Exception):
    """Bad input on the command line: printed as one line, exit status 2."""


class Parser(argparse.ArgumentParser):
    """An argument parser whose complaints are `UsageError`s (argparse alone would exit itself)."""

    def error(self, message: str) -> NoReturn:
        raise UsageError(f"{message} (see {self.prog} --help)")


def fail(message: str, status: int = 2) -> int:
    print(f"eim: {message}", file=sys.stderr)
    return status


def explain(exc: BaseException) -> str:
    """One line for an exception nobody expected (or a store that cannot be reached)."""
    from sqlalchemy.exc import OperationalError

    if isinstance(exc, OperationalError):
        return f"cannot use the database: {str(exc.orig).strip().splitlines()[0]} (check --db / EIM_DB)"
    text = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__


def emit_json(data: Any) -> None:
    json.dump(data, sys.stdout, indent=2, ensure_ascii=False)
    sys.stdout.write("\n")
