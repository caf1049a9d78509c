"""Reading a ticket export into plain rows eim understands: one `SourceRow` per update of a ticket.

A format is an `ImportMap`: which column holds which field, how dates are written, what the
state names mean. The ServiceNow incident event log is one built-in map (`SERVICENOW`); any other
export is read with a map from a TOML file (`load_map`, see docs/import-map.example.toml). A row
that cannot be read (an unreadable date, an unknown state, no number) becomes a `BadRow` with its
line number, never a silent drop.
"""

from __future__ import annotations

import csv
import gzip
import hashlib
import io
import operator
import tomllib
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, tzinfo
from pathlib import Path
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from eim_tui.domain.errors import ValidationError
from eim_tui.domain.model import HoldReason, Source, State

# The fields a map can fill; `number`, `state`, `opened_at` and `priority` are required.
FIELDS = (
    "number", "state", "mod_count", "opened_at", "updated_at", "updated_by", "caller", "opened_by", "contact_type",
    "location", "category", "subcategory", "symptom", "ci", "impact", "urgency", "priority", "group", "assignee",
    "problem", "change", "caused_by", "resolution_code", "resolved_at", "closed_at", "made_sla", "reopen_count",
    "reassignment_count", "title", "description",
)
REQUIRED = ("number", "state", "opened_at", "priority")
_DATES = ("opened_at", "updated_at", "resolved_at", "closed_at")
_COUNTS = ("mod_count", "reopen_count", "reassignment_count")
_LEVELS = ("impact", "urgency", "priority")

# How a contact type becomes eim's source (anything else: a user's report).
_SOURCES = {"phone": Source.PHONE, "ivr": Source.PHONE, "email": Source.EMAIL, "e-mail": Source.EMAIL,
            "monitoring": Source.MONITORING, "event": Source.MONITORING, "alert": Source.MONITORING,
            "proactive": Source.PROACTIVE}


@dataclass(frozen=True, slots=True)
class StateMeaning:
    state: State
    hold_reason: HoldReason | None = None
    hold_note: str = ""


@dataclass(frozen=True, slots=True)
class ImportMap:
    """How one export format is read."""

    source: str  # the source system's name, stored with every external reference
    columns: dict[str, str]  # field → column
    states: dict[str, StateMeaning]  # the export's state name → eim's
    date_format: str = "%Y-%m-%d %H:%M:%S"
    separator: str = ","
    encoding: str = "utf-8"
    timezone: tzinfo = UTC
    missing: frozenset[str] = frozenset({""})
    levels: dict[str, int] = field(default_factory=dict)  # named impact/urgency/priority levels → 1…5
    true_values: frozenset[str] = frozenset({"true", "yes", "1", "y"})


def _servicenow() -> ImportMap:
    columns = {
        "number": "number", "state": "incident_state", "mod_count": "sys_mod_count", "opened_at": "opened_at",
        "updated_at": "sys_updated_at", "updated_by": "sys_updated_by", "caller": "caller_id",
        "opened_by": "opened_by", "contact_type": "contact_type", "location": "location", "category": "category",
        "subcategory": "subcategory", "symptom": "u_symptom", "ci": "cmdb_ci", "impact": "impact",
        "urgency": "urgency", "priority": "priority", "group": "assignment_group", "assignee": "assigned_to",
        "problem": "problem_id", "change": "rfc", "caused_by": "caused_by", "resolution_code": "closed_code",
        "resolved_at": "resolved_at", "closed_at": "closed_at", "made_sla": "made_sla",
        "reopen_count": "reopen_count", "reassignment_count": "reassignment_count",
    }
    states = {
        "New": StateMeaning(State.NEW),
        "Active": StateMeaning(State.IN_PROGRESS),
        "Awaiting User Info": StateMeaning(State.ON_HOLD, HoldReason.AWAITING_USER),
        "Awaiting Vendor": StateMeaning(State.ON_HOLD, HoldReason.AWAITING_VENDOR),
        "Awaiting Problem": StateMeaning(State.ON_HOLD, HoldReason.OTHER, "awaiting problem"),
        "Awaiting Evidence": StateMeaning(State.ON_HOLD, HoldReason.OTHER, "awaiting evidence"),
        "Resolved": StateMeaning(State.RESOLVED),
        "Closed": StateMeaning(State.CLOSED),
    }
    return ImportMap("servicenow", columns, states, date_format="%d/%m/%Y %H:%M", missing=frozenset({"?", ""}))


SERVICENOW = _servicenow()


@dataclass(slots=True)
class SourceRow:
    """One update of one ticket, read. Text fields are "" when missing; `digest` fingerprints the
    raw row, so a later export that changed nothing is recognised without rebuilding."""

    line: int
    number: str
    state: StateMeaning
    source_state: str
    mod_count: int
    opened_at: datetime
    updated_at: datetime | None
    resolved_at: datetime | None
    closed_at: datetime | None
    impact: int
    urgency: int
    priority: int
    made_sla: bool | None
    reopen_count: int | None
    reassignment_count: int | None
    text: dict[str, str]
    digest: bytes


@dataclass(frozen=True, slots=True)
class BadRow:
    line: int
    reason: str


def load_map(path: str | Path) -> ImportMap:
    """A map from a TOML file (docs/import-map.example.toml); a mistake in it is a ValidationError."""
    source = Path(path).expanduser()
    if not source.is_file():  # a device or a pipe would be read for ever
        raise ValidationError(f"cannot read the map {path}: "
                              f"{'not a regular file' if source.exists() else 'no such file'}")
    try:
        raw = tomllib.loads(source.read_text(encoding="utf-8"))
    except OSError as exc:
        raise ValidationError(f"cannot read the map {path}: {exc.strerror or exc}") from None
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise ValidationError(f"the map {path} is not valid TOML: {exc}") from None
    fmt = raw.get("format", {})
    columns = {str(k): str(v) for k, v in raw.get("columns", {}).items()}
    unknown = sorted(set(columns) - set(FIELDS))
    if unknown:
        raise ValidationError(f"the map {path} names unknown field(s) {', '.join(unknown)} in [columns]; "
                              f"fields are: {', '.join(FIELDS)}")
    missing = [f for f in REQUIRED if f not in columns]
    if missing:
        raise ValidationError(f"the map {path} has no column for {', '.join(missing)}; add them under [columns]")
    states = {str(name): _meaning(str(value), path) for name, value in raw.get("states", {}).items()}
    if not states:
        raise ValidationError(f"the map {path} has no [states]; say what each of the export's states means "
                              "(new, in_progress, on_hold:awaiting_user, resolved, closed, cancelled)")
    try:
        zone: tzinfo = ZoneInfo(fmt["timezone"]) if fmt.get("timezone") else UTC
    except (ZoneInfoNotFoundError, ValueError):
        raise ValidationError(f"the map {path}: unknown timezone {fmt['timezone']!r}; use a name such as Europe/Berlin") from None
    levels = {}
    for name, value in raw.get("levels", {}).items():
        if not isinstance(value, int) or not 1 <= value <= 5:
            raise ValidationError(f"the map {path}: level {name!r} must be a whole number 1…5, not {value!r}")
        levels[str(name).strip().lower()] = value
    separator = str(fmt.get("separator", ","))
    if len(separator) != 1:
        raise ValidationError(f"the map {path}: separator must be one character, not {separator!r}")
    return ImportMap(
        source=str(fmt.get("source", Path(path).stem))[:30],
        columns=columns,
        states=states,
        date_format=str(fmt.get("date_format", "%Y-%m-%d %H:%M:%S")),
        separator=separator,
        encoding=str(fmt.get("encoding", "utf-8")),
        timezone=zone,
        missing=frozenset(str(m) for m in fmt.get("missing", [""])),
        levels=levels,
    )


def _meaning(value: str, path: str | Path) -> StateMeaning:
    """`in_progress`, `on_hold:awaiting_user`, `on_hold:other:awaiting problem`, …"""
    state, _, rest = value.partition(":")
    reason, _, note = rest.partition(":")
    try:
        meaning = StateMeaning(State(state.strip()))
        if meaning.state is State.ON_HOLD:
            return StateMeaning(State.ON_HOLD, HoldReason(reason.strip() or "other"), note.strip())
    except ValueError:
        raise ValidationError(
            f"the map {path}: state {value!r} is not one of new, in_progress, on_hold[:REASON[:NOTE]], resolved, "
            "closed, cancelled (REASON: awaiting_user, awaiting_vendor, awaiting_change, other)") from None
    return meaning


def source_of(contact_type: str) -> Source:
    return _SOURCES.get(contact_type.strip().lower(), Source.USER_REPORT)


def open_text(path: Path, encoding: str) -> io.TextIOBase:
    """The file as text; `.gz` is decompressed on the fly."""
    if path.suffix == ".gz":
        return gzip.open(path, "rt", encoding=encoding, newline="")
    return path.open("r", encoding=encoding, newline="")


def read_rows(path: Path, imap: ImportMap) -> Iterator[SourceRow | BadRow]:
    """Every data row of the export, read or refused. A file that is not this format (a column the
    map needs is absent) is a ValidationError before any row."""
    with open_text(path, imap.encoding) as handle:
        reader = csv.reader(handle, delimiter=imap.separator)
        header = next(reader, None)
        if header is None:
            raise ValidationError(f"{path} is empty; expected a header line of column names")
        header = [h.strip().lstrip("\ufeff") for h in header]
        absent = [column for column in imap.columns.values() if column not in header]
        if absent:
            what = "a ServiceNow incident event log" if imap is SERVICENOW else "an export the map describes"
            raise ValidationError(
                f"{path} is not {what}: it has no column {', '.join(absent[:5])}"
                + (f" (and {len(absent) - 5} more)" if len(absent) > 5 else "")
                + f"; its columns are {', '.join(header[:8])}{'…' if len(header) > 8 else ''}")
        index = {f: header.index(c) for f, c in imap.columns.items()}
        reader_state = _Reader(imap, index)
        for raw in reader:
            if not raw or raw == [""]:
                continue
            yield reader_state.row(raw, reader.line_num)


class _Reader:
    """Turns raw rows into `SourceRow`s, remembering each distinct date, level and name it has read:
    the event log repeats them on every row, and sharing them keeps the whole log in little memory
    and its reading fast (this is most of an import's time)."""

    def __init__(self, imap: ImportMap, index: dict[str, int]) -> None:
        self.imap = imap
        self.fields = list(index)
        self.take = operator.itemgetter(*index.values())
        self.width = max(index.values()) + 1
        self.dates: dict[str, datetime | None] = {"": None}
        self.levels: dict[str, int | None] = {}
        self.names: dict[str, str] = {}
        self.text_fields = [f for f in index if f not in _DATES and f not in _COUNTS and f not in _LEVELS
                            and f not in ("state", "made_sla", "number")]

    def row(self, raw: list[str], line: int) -> SourceRow | BadRow:
        imap, missing = self.imap, self.imap.missing
        if len(raw) < self.width:
            raw = raw + [""] * (self.width - len(raw))
        picked = self.take(raw)
        if len(self.fields) == 1:
            picked = (picked,)
        values = dict(zip(self.fields, ["" if (v := text.strip()) in missing else v for text in picked]))
        get = values.get
        number = get("number", "")
        if not number:
            return BadRow(line, "no ticket number")
        state_name = get("state", "")
        meaning = imap.states.get(state_name)
        if meaning is None:
            return BadRow(line, f"{number}: unknown state {state_name!r}")
        dates: dict[str, datetime | None] = {}
        for name in _DATES:
            text = get(name, "")
            found = self.dates.get(text, _UNSEEN)
            if found is _UNSEEN:
                try:
                    found = self.date(text)
                except ValueError:
                    return BadRow(line, f"{number}: unreadable {imap.columns.get(name, name)} {text!r} "
                                        f"(expected like {imap.date_format})")
            dates[name] = found
        if dates["opened_at"] is None:
            return BadRow(line, f"{number}: no opened_at")
        levels: dict[str, int] = {}
        for name in _LEVELS:
            text = get(name, "")
            if not text and name != "priority":
                levels[name] = 2
                continue
            level = self.levels.get(text, _UNSEEN)
            if level is _UNSEEN:
                level = self.levels[text] = self.level(text)
            if level is None:
                return BadRow(line, f"{number}: unreadable {imap.columns.get(name, name)} {text!r} (expected 1…5, like "
                                    "'2 - High')")
            levels[name] = level
        counts: dict[str, int | None] = {}
        for name in _COUNTS:
            text = get(name, "")
            if not text:
                counts[name] = None
            elif text.isdigit():
                counts[name] = int(text)
            else:
                return BadRow(line, f"{number}: unreadable {imap.columns.get(name, name)} {text!r} (expected a whole "
                                    "number)")
        sla_text = get("made_sla", "").lower()
        names = self.names
        text_values = {}
        for name in self.text_fields:
            text = values[name]
            text_values[name] = names.setdefault(text, text)
        return SourceRow(
            line=line, number=number, state=meaning, source_state=state_name, mod_count=counts["mod_count"] or 0,
            opened_at=dates["opened_at"], updated_at=dates["updated_at"], resolved_at=dates["resolved_at"],
            closed_at=dates["closed_at"], impact=min(levels["impact"], 3), urgency=min(levels["urgency"], 3),
            priority=levels["priority"], made_sla=(sla_text in imap.true_values) if sla_text else None,
            reopen_count=counts["reopen_count"], reassignment_count=counts["reassignment_count"],
            text=text_values, digest=hashlib.blake2b("\x1f".join(raw).encode(), digest_size=16).digest(),
        )

    def date(self, text: str) -> datetime | None:
        if not text:
            return None
        wall = datetime.strptime(text, self.imap.date_format)
        found = (wall.replace(tzinfo=self.imap.timezone) if wall.tzinfo is None else wall).astimezone(UTC)
        self.dates[text] = found
        return found

    def level(self, text: str) -> int | None:
        named = self.imap.levels.get(text.lower())
        if named is not None:
            return named
        head = text.split(" ", 1)[0].split("-", 1)[0].strip().lstrip("Pp")
        if head.isdigit() and 1 <= int(head) <= 5:
            return int(head)
        return None


_UNSEEN = object()
