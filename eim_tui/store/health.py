"""What a database error means for the person in front of eim: the store is unreachable, locked,
read-only or its disk is full — or it is not a fault of the store at all.

The drivers say these things in their own words (psycopg's "connection failed: connection to
server at …", SQLite's "attempt to write a readonly database"), different on each backend and
never fit for a toast at 3 a.m. `classify` turns them into a `StoreUnavailable`: a `DomainError`
whose message says what is wrong and what to do, and whose `fault` says which of the four it is,
so the TUI can raise its outage banner, the CLI can exit 2 and the receiver can answer 503.
Everything else (a constraint, a lost race, a bug) is left alone: those are not outages.
"""

from __future__ import annotations

import re
from enum import StrEnum

from sqlalchemy.exc import DBAPIError, DisconnectionError
from sqlalchemy.exc import TimeoutError as PoolTimeout

from eim_tui.domain.errors import DomainError

CHECK_URL = "check --db / EIM_DB"
BUSY_TIMEOUT_MS = 10_000  # how long a SQLite write waits for another writer's lock (engine.py uses it)


class StoreFault(StrEnum):
    UNREACHABLE = "unreachable"  # no server, the connection lost, the file cannot be opened
    LOCKED = "locked"  # another writer held SQLite's lock longer than the busy timeout
    READ_ONLY = "read-only"  # the file, its directory or its disk cannot be written
    DISK_FULL = "disk full"  # a write ran out of space; the transaction was rolled back


class StoreUnavailable(DomainError):
    """The store cannot do what was asked now; nothing was written. `fault` says why."""

    def __init__(self, fault: StoreFault, message: str) -> None:
        super().__init__(message)
        self.fault = fault


# PostgreSQL SQLSTATEs that mean the store, not the request, is the trouble.
_PG_UNREACHABLE_CLASSES = ("08",)  # connection exceptions
_PG_UNREACHABLE = {"57P01", "57P02", "57P03", "53300"}  # shut down, crashed, starting, too many connections
_PG_FULL = {"53100"}
_PG_READ_ONLY = {"25006"}
_PG_LOCKED = {"55P03"}

_SERVER_AT = re.compile(r'server at "([^"]+)"(?: \([^)]*\))?, port (\d+)')
# What psycopg and SQLite say, in a few words a person can act on (first match wins).
_REASONS = (
    ("refused", "connection refused"),
    ("timeout expired", "no answer: timed out"),
    ("timed out", "no answer: timed out"),
    ("administrator command", "the connection was lost: the server shut down"),
    ("shutting down", "the server is shutting down"),
    ("starting up", "the server is starting up"),
    ("in recovery mode", "the server is recovering"),
    ("closed the connection", "the connection was lost"),
    ("connection is closed", "the connection was lost"),
    ("connection is lost", "the connection was lost"),
    ("terminating connection", "the connection was lost"),
    ("could not translate host name", "unknown host"),
    ("name or service not known", "unknown host"),
    ("no route to host", "no route to host"),
    ("network is unreachable", "network unreachable"),
    ("password authentication failed", "the login was refused (password)"),
    ("too many clients", "the server has too many connections"),
    ("unable to open database file", "the file cannot be opened"),
    ("disk i/o error", "a disk I/O error"),
)


def classify(exc: BaseException, target: str = "", path: str = "") -> StoreUnavailable | None:
    """The store fault `exc` is, in words for the user — or None when it is no fault of the store.

    `target` names the store in messages ("PostgreSQL at 127.0.0.1:5432/eim", a file path);
    `path` is the SQLite file, for the read-only and disk-full hints."""
    if isinstance(exc, StoreUnavailable):
        return exc
    if isinstance(exc, PoolTimeout):
        return unreachable(target, "every connection is busy: timed out waiting for one")
    if isinstance(exc, DisconnectionError):
        return unreachable(target, "the connection was lost")
    if not isinstance(exc, DBAPIError):
        return None
    orig = exc.orig
    module = type(orig).__module__.split(".")[0]
    if module == "sqlite3":
        return _sqlite(orig, target, path or target)
    if module == "psycopg":
        if not target and (found := _SERVER_AT.search(str(orig))):
            target = f"PostgreSQL at {found.group(1)}:{found.group(2)}"
        return _postgres(orig, target, bool(exc.connection_invalidated))
    if exc.connection_invalidated:
        return unreachable(target, "the connection was lost")
    return None


def unreachable(target: str, reason: str) -> StoreUnavailable:
    where = f"{target}: " if target else ""
    return StoreUnavailable(StoreFault.UNREACHABLE, f"store unreachable: {where}{reason} ({CHECK_URL})")


def locked(seconds: float) -> StoreUnavailable:
    return StoreUnavailable(
        StoreFault.LOCKED,
        f"store locked: another program kept it busy for over {seconds:g} s; nothing was saved — try again",
    )


def read_only(path: str, why: str = "it cannot be written") -> StoreUnavailable:
    return StoreUnavailable(
        StoreFault.READ_ONLY,
        f"store is read-only: {path}: {why}; nothing was saved (check its permissions and its disk, or {CHECK_URL})",
    )


def disk_full(path: str) -> StoreUnavailable:
    return StoreUnavailable(
        StoreFault.DISK_FULL,
        f"store's disk is full: nothing was saved; free some space where {path} lives and try again",
    )


def _sqlite(orig: BaseException, target: str, path: str) -> StoreUnavailable | None:
    name = getattr(orig, "sqlite_errorname", "") or ""
    text = str(orig).lower()
    if name.startswith("SQLITE_BUSY") or name.startswith("SQLITE_LOCKED") or "is locked" in text:
        return locked(BUSY_TIMEOUT_MS / 1000)
    if name.startswith("SQLITE_READONLY") or "readonly database" in text:
        return read_only(path)
    if name == "SQLITE_FULL" or "disk is full" in text:
        return disk_full(path)
    if name.startswith("SQLITE_CANTOPEN") or name.startswith("SQLITE_IOERR") or "unable to open" in text:
        return unreachable(target, _reason(str(orig)))
    return None


def _postgres(orig: BaseException, target: str, invalidated: bool) -> StoreUnavailable | None:
    state = getattr(orig, "sqlstate", None) or ""
    if state in _PG_FULL:
        return disk_full(target)
    if state in _PG_READ_ONLY:
        return read_only(target, "the server accepts no writes (a standby, or default_transaction_read_only)")
    if state in _PG_LOCKED:
        return StoreUnavailable(StoreFault.LOCKED, "store locked: another session holds the rows; try again")
    connection_level = not state and type(orig).__name__ in ("OperationalError", "InterfaceError")
    if connection_level or invalidated or state in _PG_UNREACHABLE or state.startswith(_PG_UNREACHABLE_CLASSES):
        return unreachable(target, _reason(str(orig)))
    return None


def _reason(text: str) -> str:
    """A few words for what the driver said; its first line, tidied, when none of ours fits."""
    lowered = text.lower()
    for phrase, reason in _REASONS:
        if phrase in lowered:
            return reason
    first = text.strip().splitlines()[0] if text.strip() else "no reason given"
    for prefix in ("connection failed: ", "(psycopg.OperationalError) "):
        first = first.removeprefix(prefix)
    if " failed: " in first and first.startswith("connection to server"):
        first = first.split(" failed: ", 1)[1]
    first = first.replace("FATAL:", "").strip()
    return first[:160]
