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

from eim_tui.domain.model import LARGEST_NUMBER


class UsageError(Exception):
    """Bad input on the command line: printed as one line, exit status 2."""


class Parser(argparse.ArgumentParser):
    """An argument parser whose complaints are `UsageError`s (argparse alone would exit itself).

    Every argument's value passes `_get_value`, so a number too large for the store (a key, a task
    number, a limit: `11111111111111111111111`) is refused here, once for every verb, instead of
    reaching the driver as an OverflowError."""

    def error(self, message: str) -> NoReturn:
        raise UsageError(f"{message} (see {self.prog} --help)")

    def _get_value(self, action, arg_string):
        value = super()._get_value(action, arg_string)
        if isinstance(value, int) and not isinstance(value, bool) and abs(value) > LARGEST_NUMBER:
            name = argparse._get_action_name(action) or "a number"
            raise argparse.ArgumentError(None, f"argument {name}: {arg_string!r} is too large (at most {LARGEST_NUMBER})")
        return value


def fail(message: str, status: int = 2) -> int:
    print(f"eim: {one_line(message)}", file=sys.stderr)
    return status


def one_line(message: str) -> str:
    """`message` as one terminal line: control characters a user typed (a newline, a carriage return
    that would overwrite the line, an escape sequence) shown escaped, as repr() shows them."""
    if message.isprintable():
        return message
    return "".join(c if c.isprintable() or c == "\t" else repr(c)[1:-1] for c in message)


def explain(exc: BaseException) -> str:
    """One line for an exception nobody expected, or for a store that cannot be used: then what
    is wrong in eim's words (`store unreachable: … (check --db / EIM_DB)`), never the driver's."""
    if (fault := store_fault(exc)) is not None:
        return str(fault)
    text = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__


def store_fault(exc: BaseException) -> Exception | None:
    """The store fault (unreachable, locked, read-only, disk full) `exc` is, or None.

    Imported here, not at the top, so `eim --help` does not load SQLAlchemy."""
    module = type(exc).__module__.split(".")[0]
    if module not in ("sqlalchemy", "eim_tui"):
        return None
    from eim_tui.store.health import StoreUnavailable, classify

    if isinstance(exc, StoreUnavailable):
        return exc
    return classify(exc)


def emit_json(data: Any) -> None:
    json.dump(data, sys.stdout, indent=2, ensure_ascii=False)
    sys.stdout.write("\n")
