"""The few counts `eim status` prints, read in one query without SQLAlchemy.

`eim status` runs from tmux's status line and shell prompts, every few seconds, so it has 100 ms
for everything. Loading SQLAlchemy alone takes longer, and so does importing psycopg; this module
therefore speaks to each store with the smallest client there is: `sqlite3` from the standard
library, and for PostgreSQL libpq itself (the C client every PostgreSQL driver wraps, loaded with
`ctypes`; Debian's `libpq5`, or the copy psycopg-binary ships). psycopg is the fallback where no
libpq can be loaded. The query is read-only and answered by the queue's indexes.

Errors are `StatusUnavailable` with a message in the user's words (no driver text).
"""

from __future__ import annotations

import ctypes
import glob
import os
import sqlite3
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import urlsplit

CONNECT_TIMEOUT_S = 3


class StatusUnavailable(Exception):
    """The counts cannot be read; the message says why and what to check."""


@dataclass(frozen=True, slots=True)
class StatusCounts:
    """Open incidents per severity, those whose SLA is in warning or breached, and the user's own."""

    open_by_severity: dict[int, int] = field(default_factory=dict)
    warning: int = 0  # open, running clock past its warning instant but not yet due
    breached: int = 0  # open, running clock past its due instant
    mine: int = 0  # open and assigned to the user

    @property
    def open(self) -> int:
        return sum(self.open_by_severity.values())


# One row per figure: ('sev', N, count), ('risk', 0, count), ('breach', 0, count), ('mine', 0, count).
# Each is answered by one covering index (ix_incident_queue, _open_warn, _open_due, _assignee).
# 'risk' counts warned clocks, breached ones included (a clock warns before it is due).
_QUERY = """
SELECT 'sev', priority, COUNT(*) FROM {incident} WHERE is_open = {true} GROUP BY priority
UNION ALL
SELECT 'risk', 0, COUNT(*) FROM {incident} WHERE is_open = {true} AND sla_warn_at <= {now}
UNION ALL
SELECT 'breach', 0, COUNT(*) FROM {incident} WHERE is_open = {true} AND sla_due_at <= {now}
UNION ALL
SELECT 'mine', 0, COUNT(*) FROM {incident} WHERE is_open = {true} AND assignee = {user}
"""
# PostgreSQL: row-level security hides confidential incidents from a login outside the security
# group; their placeholders (store/placeholders.py: nothing for a login that reads them) are counted
# too, as SQLite counts them. Without the view (a store not upgraded yet) the table alone.
_PLACEHOLDER_VIEW = "eim_incident_placeholder"
_WITH_PLACEHOLDERS = (
    "(SELECT priority, is_open, sla_warn_at, sla_due_at, assignee FROM incident UNION ALL "
    f"SELECT priority, is_open, sla_warn_at, sla_due_at, assignee FROM {_PLACEHOLDER_VIEW}) AS incident"
)


def read_counts(url: str, user: str, now: datetime) -> StatusCounts:
    """The counts of the store at `url` (a SQLAlchemy-style URL, as `--db` and EIM_DB take) at `now`."""
    now = now.astimezone(UTC)
    scheme = url.split(":", 1)[0].lower()
    if scheme.startswith("sqlite"):
        rows = _sqlite_rows(url, user, now)
    elif scheme.startswith("postgresql") or scheme.startswith("postgres"):
        rows = _postgres_rows(url, user, now)
    else:
        raise StatusUnavailable(f"unsupported store URL {url.split(':', 1)[0]!r}: "
                                "use sqlite:///PATH or postgresql+psycopg://… (check --db / EIM_DB)")
    return _counts(rows)


def _counts(rows: list[tuple[str, int, int]]) -> StatusCounts:
    by_severity: dict[int, int] = {}
    figures = {"risk": 0, "breach": 0, "mine": 0}
    for kind, severity, count in rows:
        if kind == "sev":
            by_severity[int(severity)] = int(count)
        else:
            figures[kind] = int(count)
    warning = max(figures["risk"] - figures["breach"], 0)
    return StatusCounts(by_severity, warning, figures["breach"], figures["mine"])


# --- SQLite --------------------------------------------------------------------------------------

def _sqlite_rows(url: str, user: str, now: datetime) -> list[tuple[str, int, int]]:
    raw = url.split("///", 1)[1] if "///" in url else ""
    if not raw or raw == ":memory:":
        raise StatusUnavailable("an in-memory store has no incidents to count: name a file (check --db / EIM_DB)")
    path = Path(raw).expanduser()
    if not path.is_file():
        raise StatusUnavailable(f"no store at {path}: run eim once to create it, or check --db / EIM_DB")
    # SQLAlchemy keeps SQLite datetimes as naive UTC text, 'YYYY-MM-DD HH:MM:SS.ffffff'; the same
    # text compares in the same order.
    stamp = now.replace(tzinfo=None).strftime("%Y-%m-%d %H:%M:%S.%f")
    try:
        with sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=1.0) as conn:
            sql = _QUERY.format(true="1", now="?", user="?", incident="incident")
            return conn.execute(sql, (stamp, stamp, user)).fetchall()
    except sqlite3.DatabaseError as exc:
        text = str(exc)
        if "no such table" in text:
            raise StatusUnavailable(f"{path} is not an eim store (no incident table): check --db / EIM_DB") from None
        if "locked" in text or "busy" in text:
            raise StatusUnavailable(f"store locked: {path} is busy; try again") from None
        raise StatusUnavailable(f"cannot read {path}: {text} (check --db / EIM_DB)") from None


# --- PostgreSQL ----------------------------------------------------------------------------------

def _conninfo(url: str) -> str:
    """libpq's URI for a SQLAlchemy URL: the `+driver` dropped, a connect timeout added."""
    parts = urlsplit(url)
    scheme = "postgresql"
    query = f"{parts.query}&" if parts.query else ""
    return f"{scheme}://{parts.netloc}{parts.path}?{query}connect_timeout={CONNECT_TIMEOUT_S}"


def _where(url: str) -> str:
    parts = urlsplit(url)
    host = parts.hostname or "localhost"
    return f"PostgreSQL at {host}:{parts.port or 5432}"


def _postgres_rows(url: str, user: str, now: datetime) -> list[tuple[str, int, int]]:
    try:
        return _postgres_query(url, user, now, _WITH_PLACEHOLDERS)
    except _NoPlaceholders:
        return _postgres_query(url, user, now, "incident")


class _NoPlaceholders(Exception):
    """The store has no placeholder view (installed by `eim db upgrade`)."""


def _postgres_query(url: str, user: str, now: datetime, incident: str) -> list[tuple[str, int, int]]:
    sql = _QUERY.format(true="true", now="$1::timestamptz", user="$2", incident=incident)
    params = [now.isoformat(), user]
    lib = _libpq()
    if lib is None:
        return _psycopg_rows(url, sql.replace("$1::timestamptz", "%(now)s").replace("$2", "%(user)s"),
                             {"now": now, "user": user})
    conn = lib.PQconnectdb(_conninfo(url).encode())
    try:
        if lib.PQstatus(conn) != 0:  # CONNECTION_OK
            raise StatusUnavailable(f"store unreachable: {_where(url)}: {_first_line(lib.PQerrorMessage(conn))} "
                                    "(check --db / EIM_DB)")
        values = (ctypes.c_char_p * len(params))(*(p.encode() for p in params))
        result = lib.PQexecParams(conn, sql.encode(), len(params), None, values, None, None, 0)
        try:
            if lib.PQresultStatus(result) != 2:  # PGRES_TUPLES_OK
                message = _first_line(lib.PQresultErrorMessage(result))
                if _PLACEHOLDER_VIEW in message:
                    raise _NoPlaceholders
                if "does not exist" in message:
                    raise StatusUnavailable(f"{_where(url)} holds no eim store (no incident table): "
                                            "check --db / EIM_DB")
                raise StatusUnavailable(f"cannot read the store: {message}")
            return [(lib.PQgetvalue(result, row, 0).decode(), int(lib.PQgetvalue(result, row, 1)),
                     int(lib.PQgetvalue(result, row, 2))) for row in range(lib.PQntuples(result))]
        finally:
            lib.PQclear(result)
    finally:
        lib.PQfinish(conn)


def _first_line(raw: bytes | None) -> str:
    text = (raw or b"").decode(errors="replace").strip()
    line = text.splitlines()[0] if text else "no answer"
    # libpq says 'connection to server at "127.0.0.1", port 5 failed: Connection refused'.
    return line.rsplit("failed: ", 1)[-1].strip().rstrip(".").lower() or "no answer"


_LIB: list[ctypes.CDLL | None] = []


def _libpq() -> ctypes.CDLL | None:
    """libpq with the signatures used here, or None where none can be loaded."""
    if _LIB:
        return _LIB[0]
    candidates = ["libpq.so.5", "libpq.5.dylib"]
    for site in _site_dirs():
        candidates += sorted(glob.glob(os.path.join(site, "psycopg_binary.libs", "libpq-*.so*")))
    lib = None
    for name in candidates:
        try:
            lib = ctypes.CDLL(name)
            break
        except OSError:
            continue
    if lib is not None:
        p, c = ctypes.c_void_p, ctypes.c_char_p
        lib.PQconnectdb.argtypes, lib.PQconnectdb.restype = [c], p
        lib.PQstatus.argtypes, lib.PQstatus.restype = [p], ctypes.c_int
        lib.PQerrorMessage.argtypes, lib.PQerrorMessage.restype = [p], c
        lib.PQexecParams.argtypes = [p, c, ctypes.c_int, p, ctypes.POINTER(c), p, p, ctypes.c_int]
        lib.PQexecParams.restype = p
        lib.PQresultStatus.argtypes, lib.PQresultStatus.restype = [p], ctypes.c_int
        lib.PQresultErrorMessage.argtypes, lib.PQresultErrorMessage.restype = [p], c
        lib.PQntuples.argtypes, lib.PQntuples.restype = [p], ctypes.c_int
        lib.PQgetvalue.argtypes, lib.PQgetvalue.restype = [p, ctypes.c_int, ctypes.c_int], c
        lib.PQclear.argtypes, lib.PQclear.restype = [p], None
        lib.PQfinish.argtypes, lib.PQfinish.restype = [p], None
    _LIB.append(lib)
    return lib


def _site_dirs() -> list[str]:
    import sys

    return [entry for entry in sys.path if entry.endswith("site-packages")]


def _psycopg_rows(url: str, sql: str, params: dict[str, object]) -> list[tuple[str, int, int]]:
    import psycopg

    try:
        with psycopg.connect(_conninfo(url)) as conn:
            return [(kind, int(sev), int(count)) for kind, sev, count in conn.execute(sql, params).fetchall()]
    except psycopg.OperationalError as exc:
        raise StatusUnavailable(f"store unreachable: {_where(url)}: {_first_line(str(exc).encode())} "
                                "(check --db / EIM_DB)") from None
    except psycopg.errors.UndefinedTable as exc:
        if _PLACEHOLDER_VIEW in str(exc):
            raise _NoPlaceholders from None
        raise StatusUnavailable(f"{_where(url)} holds no eim store (no incident table): check --db / EIM_DB") from None

