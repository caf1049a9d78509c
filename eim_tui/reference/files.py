"""Reading one reference data file, with errors that name the file, the table and the line.

`DataFile` reads a file of `data/` (or any TOML/CSV file checked the same way, such as the alert
routing rules); `Entry` is one table or row of it, whose typed getters raise `ReferenceError` with
a sentence saying what is wrong and how to fix it. `data.py`, `sla.py` and the alert routing
loader all build on these, so every mistake in an edited file reads the same way.
"""

from __future__ import annotations

import errno
import re
import tomllib
from collections.abc import Callable, Iterable
from functools import partial
from pathlib import Path
from typing import Any

from eim_tui.config import read_regular_text
from eim_tui.domain.priority import SEVERITIES


class ReferenceError(Exception):  # noqa: A001 - the name the rest of the app knows it by
    """A reference data file is missing, does not parse, or holds a value that makes no sense."""


class DataFile:
    """One data file: its text, to find lines in, and errors that name it."""

    def __init__(self, data_dir: Path, name: str) -> None:
        self.name = name
        try:
            self.text = read_regular_text(data_dir / name)
        except OSError as exc:
            if exc.errno == errno.EINVAL:  # a device, a pipe or a directory named as the file
                raise ReferenceError(f"{data_dir / name}: cannot be read (not a regular file); "
                                     "name a TOML or CSV file") from None
            raise ReferenceError(f"{name}: cannot be read ({exc.strerror}); restore it in {data_dir}") from exc

    def toml(self) -> dict[str, Any]:
        try:
            return tomllib.loads(self.text)
        except tomllib.TOMLDecodeError as exc:
            # Python 3.14 gives `lineno`; before that the line is only in the message.
            message = str(exc)
            found = re.search(r"at line (\d+)", message)
            line = getattr(exc, "lineno", None) or (int(found.group(1)) if found else self.text.count("\n") + 1)
            reason = re.sub(r"\s*\((at line|at end).*\)$", "", message)
            raise self.error(f"{reason}; fix the TOML syntax there", line) from exc

    def error(self, message: str, line: int | None = None) -> ReferenceError:
        return ReferenceError(f"{self.name}: " + (f"line {line}: " if line else "") + message)

    def table_line(self, header: str, index: int = 0) -> int | None:
        """The line of the `index`-th `[header]` or `[[header]]` table, to point errors at."""
        return self.line_of(r"\[\[?[ \t]*" + re.escape(header) + r"[ \t]*\]\]?[ \t]*(#.*)?$", index)

    def line_of(self, pattern: str, index: int = 0) -> int | None:
        starts = [m.start() for m in re.finditer(r"^[ \t]*" + pattern, self.text, re.MULTILINE)]
        return self.text.count("\n", 0, starts[index]) + 1 if index < len(starts) else None

    def entries(self, key: str) -> list[Entry]:
        """The `[[key]]` tables of the file."""
        tables = self.toml().get(key, [])
        if not isinstance(tables, list) or not all(isinstance(t, dict) for t in tables):
            raise self.error(f"`{key}` must be written as [[{key}]] tables")
        if not tables:
            raise self.error(f"no [[{key}]] entries; add at least one")
        result: list[Entry] = []
        labels: set[str] = set()
        for index, table in enumerate(tables):
            label = table.get("name") or table.get("title") or ""
            where = f"{key} {index + 1}" + (f" ({label!r})" if label else "")
            result.append(Entry(self, table, where, partial(self.table_line, key, index)))
            if label in labels:
                raise result[-1].error(f"another [[{key}]] has the same name; make each one different")
            labels.add(label)
        return result


class Entry:
    """One table of a file; its errors say which one and, when it can tell, on which line."""

    def __init__(self, file: DataFile, table: dict[str, Any], where: str,
                 line: int | None | Callable[[], int | None]) -> None:
        # `line` may be a function: finding it scans the file, worth doing only for an error.
        self.file, self.table, self.where, self.line = file, table, where, line

    def error(self, message: str) -> ReferenceError:
        return self.file.error(f"{self.where}: {message}", self.line() if callable(self.line) else self.line)

    def get(self, key: str, kind: type | tuple[type, ...] = str, default: Any = None) -> Any:
        value = self.table.get(key, default)
        if value is None:
            raise self.error(f"`{key}` is missing; add it")
        if kind is tuple:
            if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
                raise self.error(f'`{key}` must be a list of strings like ["a", "b"]')
            return tuple(value)
        if not isinstance(value, kind) or (isinstance(value, bool) and kind is not bool):
            names = " or ".join(k.__name__ for k in (kind if isinstance(kind, tuple) else (kind,)))
            raise self.error(f"`{key}` must be a {names}, not {value!r}")
        return value

    def choice(self, value: Any, known: Iterable[Any], what: str) -> Any:
        known = sorted(set(known))
        if value not in known:
            raise self.error(f"unknown {what} {value!r}; use one of {', '.join(map(str, known))}")
        return value

    def pick(self, key: str, known: Iterable[str], what: str = "", default: str | None = None) -> str:
        return self.choice(self.get(key, str, default), known, what or key)

    def nested(self, table: Any) -> Entry:
        if not isinstance(table, dict):
            raise self.error(f"{table!r} must be a table like {{ key = \"value\" }}")
        return Entry(self.file, table, self.where, self.line)


def severity_tables(file: DataFile, data: dict[str, Any]) -> dict[int, Entry]:
    """The `[severity.N]` tables of a file, by severity; any other key under `severity` is an error."""
    tables = data.get("severity", {})
    if not isinstance(tables, dict):
        raise file.error("`severity` must be tables like [severity.1]")
    found = {}
    for key, table in tables.items():
        entry = Entry(file, table, f"[severity.{key}]", partial(file.table_line, f"severity.{key}"))
        if not key.isdigit() or int(key) not in SEVERITIES:
            raise entry.error("not a severity; use [severity.1] … [severity.5]")
        found[int(key)] = entry.nested(table)
    return found
