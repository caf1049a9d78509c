"""Read-side queries: the queue's views and filters, page rows, and the change feed.

The queue asks for the ordered incident numbers of a view (cheap, even for 100,000 incidents,
thanks to `ix_incident_queue`), then only the rows it draws.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable, Sequence
from datetime import datetime, timedelta

from sqlalchemy import ColumnElement, Select, String, and_, case, cast, false, func, literal_column, or_, select, true
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.functions import FunctionElement
from sqlalchemy.orm import Session

from eim_tui.domain.access import CONFIDENTIAL_TITLE
from eim_tui.domain.filters import Filter
from eim_tui.domain.model import OPEN_STATES, QueueRow, State
from eim_tui.domain.queue import Sort, View
from eim_tui.store.search import TextMatch
from eim_tui.store.tables import ChainHeadRow, IncidentRow, TimelineRow

BREACHING_WINDOW = timedelta(hours=1)
RECENT_WINDOW = timedelta(days=7)

_QUEUE_COLUMNS = (
    IncidentRow.id,
    IncidentRow.priority,
    IncidentRow.state,
    IncidentRow.title,
    IncidentRow.service,
    IncidentRow.assignment_group,
    IncidentRow.assignee,
    IncidentRow.reported_at,
    IncidentRow.sla_clock,
    IncidentRow.response_due_at,
    IncidentRow.resolution_due_at,
    IncidentRow.sla_warn_at,
    IncidentRow.paused_since,
    IncidentRow.major,
    IncidentRow.confidential,
    IncidentRow.category,
    IncidentRow.resolved_at,
    IncidentRow.alerts_resolved,
    IncidentRow.version,
)


def _queue_row(r) -> QueueRow:
    due = r.response_due_at if r.sla_clock == "response" else r.resolution_due_at if r.sla_clock else None
    return QueueRow(
        number=r.id,
        priority=r.priority,
        state=State(r.state),
        title=r.title,
        service=r.service,
        assignment_group=r.assignment_group,
        assignee=r.assignee,
        reported_at=r.reported_at,
        clock=r.sla_clock,
        due_at=due,
        warn_at=r.sla_warn_at,
        paused_since=r.paused_since,
        major=r.major,
        confidential=r.confidential,
        category=r.category,
        resolved_at=r.resolved_at,
        alerts_resolved=r.alerts_resolved,
        version=r.version,
    )


def view_condition(view: View, user: str, groups: Sequence[str], now: datetime) -> ColumnElement[bool]:
    is_open = IncidentRow.is_open == true()
    if view is View.OPEN:
        return is_open
    if view is View.MINE:
        return and_(is_open, IncidentRow.assignee == user)
    if view is View.MY_GROUPS:
        return and_(is_open, IncidentRow.assignment_group.in_(list(groups))) if groups else false()
    if view is View.UNASSIGNED:
        return and_(is_open, IncidentRow.assignee == "")
    if view is View.BREACHING:
        return and_(is_open, or_(IncidentRow.sla_warn_at <= now, IncidentRow.sla_due_at <= now + BREACHING_WINDOW))
    if view is View.MAJOR:
        return and_(is_open, IncidentRow.major == true())
    return and_(IncidentRow.state == State.RESOLVED.value, IncidentRow.resolved_at >= now - RECENT_WINDOW)


class _IncidentKey(FunctionElement):
    """An incident's key as `format_key` writes it, lowercased: 'inc-000123'."""

    type = String()
    inherit_cache = True


def _key_of(element) -> ColumnElement:
    # The number column is the function's argument (not IncidentRow.id named here), so a statement
    # rewritten to read the incidents with their placeholders (store/placeholders.py) keys those rows.
    return next(iter(element.clauses))


@compiles(_IncidentKey)
def _incident_key_sql(element, compiler, **kw) -> str:
    number = cast(_key_of(element), String)
    digits = func.lpad(number, func.greatest(6, func.length(number)), "0")
    return compiler.process(literal_column("'inc-'", String) + digits, **kw)


@compiles(_IncidentKey, "sqlite")
def _incident_key_sqlite(element, compiler, **kw) -> str:
    number = cast(_key_of(element), String)
    digits = func.substr(literal_column("'000000'", String) + number, -func.max(6, func.length(number)))
    return compiler.process(literal_column("'inc-'", String) + digits, **kw)


def filter_condition(f: Filter, now: datetime) -> ColumnElement[bool]:
    """The SQL twin of `domain.filters.matches` (states aside: the view decides those unless given)."""
    terms: list[ColumnElement[bool]] = []
    if f.states is not None:
        terms.append(IncidentRow.state.in_([s.value for s in f.states]))
    if f.sev_min > 1:
        terms.append(IncidentRow.priority >= f.sev_min)
    if f.sev_max < 5:
        terms.append(IncidentRow.priority <= f.sev_max)
    if f.words:
        # The same haystack as `matches`: key, title and service in one lowercased line, so a word
        # can be part of a key ("inc-00001") and a quoted phrase can run from title into service.
        haystack = func.lower(_IncidentKey(IncidentRow.id) + " " + IncidentRow.title + " " + IncidentRow.service)
        # A word with no space and a letter no key has ("disk") can only be found after the key:
        # the title and service alone, without building every incident's key (half the cost).
        keyless = func.lower(IncidentRow.title + " " + IncidentRow.service)
        terms.extend(
            (keyless if _not_in_a_key(word) else haystack).like(f"%{_escape_like(word)}%", escape="\\")
            for word in f.words
        )
    if f.services:
        terms.append(_lower_in(IncidentRow.service, f.services))
    if f.groups:
        terms.append(_lower_in(IncidentRow.assignment_group, f.groups))
    if f.categories:
        terms.append(_lower_in(IncidentRow.category, f.categories))
    if f.assignees:
        options = [IncidentRow.assignee.ilike(_escape_like(a), escape="\\") for a in f.assignees]
        if "none" in f.assignees:
            options.append(IncidentRow.assignee == "")
        terms.append(or_(*options))
    if f.breached:
        # A running clock is breached once its due instant passed; a paused one (no sla_due_at) if
        # the pause began at or after its due instant — the verdict `sla.current_clock` gives.
        current_due = case(
            (IncidentRow.sla_clock == "response", IncidentRow.response_due_at), else_=IncidentRow.resolution_due_at
        )
        paused_late = and_(IncidentRow.paused_since.is_not(None), current_due <= IncidentRow.paused_since)
        # A paused clock has no sla_due_at (`sla.sort_due`, derived on every write), so asking for
        # that first is the same verdict, and lets a walk of the queue index skip the running,
        # not yet due clocks without reading their rows for `paused_since`.
        terms.append(or_(IncidentRow.sla_due_at <= now, and_(IncidentRow.sla_due_at.is_(None), paused_late)))
    if f.major:
        terms.append(IncidentRow.major == true())
    terms.extend(TextMatch(words, how="prefix") for words in f.texts)
    return and_(true(), *terms)


def placeholder_condition(f: Filter, now: datetime) -> ColumnElement[bool]:
    """The filter applied to the placeholder of a confidential incident someone may not see.

    The twin of `matches(f, access.redact_incident(i))`: free words find its key (and the word
    "confidential") only, and the fields the placeholder blanks (service, group, assignee) hold
    nothing, so no filter can reveal a confidential title or who works on it. A `text:` term never
    finds one.
    """
    if f.services or f.groups or f.texts or (f.assignees and "none" not in f.assignees):
        return false()  # `text:` too: the placeholder has no words to find
    visible = dataclasses.replace(f, words=(), services=(), groups=(), assignees=())
    haystack = func.lower(_IncidentKey(IncidentRow.id) + f" {CONFIDENTIAL_TITLE} ")
    return and_(filter_condition(visible, now), *(haystack.like(f"%{_escape_like(w)}%", escape="\\") for w in f.words))


_KEY_CHARACTERS = frozenset("inc-0123456789")


def _not_in_a_key(word: str) -> bool:
    """No key ('inc-000123') holds `word`, nor does a stretch from a key into the title (that has
    the space between them)."""
    return " " not in word and not set(word) <= _KEY_CHARACTERS


def _lower_in(column, values: Iterable[str]) -> ColumnElement[bool]:
    return or_(*(column.ilike(_escape_like(v), escape="\\") for v in values))


def _escape_like(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def queue_statement(
    view: View, f: Filter, user: str, groups: Sequence[str], now: datetime, sort: Sort = Sort.SLA,
    hide_confidential: bool = False,
) -> Select:
    if f.states is not None or f.include_closed:
        # An explicit state (or `all`) widens the view beyond open incidents.
        base = view_condition(view, user, groups, now)
        if view in (View.OPEN, View.RESOLVED):
            base = true()
        if f.states is not None and f.states <= OPEN_STATES:
            # `state:open`, `state:new,on_hold`: only open ones, so the derived `is_open` (true
            # exactly for these states) says so too, and the queue index serves order and filter.
            base = and_(base, IncidentRow.is_open == true())
    else:
        base = view_condition(view, user, groups, now)
    condition = filter_condition(f, now)
    if hide_confidential and not f.is_empty:
        condition = or_(
            and_(IncidentRow.confidential == false(), condition),
            and_(IncidentRow.confidential == true(), placeholder_condition(f, now)),
        )
    stmt = select(IncidentRow.id).where(base, condition)
    if sort is Sort.NEWEST:
        return stmt.order_by(IncidentRow.id.desc())
    if sort is Sort.OLDEST:
        return stmt.order_by(IncidentRow.id)
    if sort is Sort.UPDATED:
        return stmt.order_by(IncidentRow.updated_at.desc().nulls_last(), IncidentRow.id.desc())  # as SQLite on PostgreSQL too
    if view is View.RESOLVED:
        return stmt.order_by(IncidentRow.resolved_at.desc(), IncidentRow.id.desc())
    # Within severity: breached and nearest to breach first; paused and stopped clocks last.
    return stmt.order_by(
        IncidentRow.priority, IncidentRow.sla_due_at.is_(None), IncidentRow.sla_due_at, IncidentRow.id
    )


def queue_numbers(
    session: Session, view: View, f: Filter, user: str, groups: Sequence[str], now: datetime,
    limit: int | None = None, sort: Sort = Sort.SLA, hide_confidential: bool = False,
) -> list[int]:
    if sort is Sort.SLA and view is not View.RESOLVED:
        # Each walk names its severity exactly; a range of the filter beside it would make SQLite
        # walk the range and sort (the same incidents: the severities walked are the range's).
        any_severity = queue_statement(view, dataclasses.replace(f, sev_min=1, sev_max=5), user, groups, now, sort,
                                       hide_confidential)
        return _sla_numbers(session, any_severity, limit, range(f.sev_min, f.sev_max + 1))
    stmt = queue_statement(view, f, user, groups, now, sort, hide_confidential)
    if limit is not None:
        stmt = stmt.limit(limit)
    return list(session.execute(stmt).scalars())


def _sla_numbers(session: Session, any_severity: Select, limit: int | None, severities: range) -> list[int]:
    """The SLA order (severity, then due instants with no-due last, then key) read in the queue
    index's own order, so neither database sorts and a page stops after `limit` index entries.

    The index holds (is_open, priority, sla_due_at, id), and SQLite puts NULLs first where the queue
    wants them last within a severity. So, severity by severity: the incidents with a due instant
    (`priority = p AND sla_due_at IS NOT NULL`, in due-then-key order in the index), then those
    without (`priority = p AND sla_due_at IS NULL`, in key order); a page stops asking once it is
    full. Each statement names its severity exactly, so they start from `any_severity` (the
    filter's severity range left out: beside it SQLite would walk the range and sort). Before, SQLite
    sorted every matching incident in a temporary B-tree (40,000 for the open queue) even for one page.
    """
    walk = any_severity.with_only_columns(IncidentRow.id).order_by(None).order_by(
        IncidentRow.priority, IncidentRow.sla_due_at, IncidentRow.id
    )
    numbers: list[int] = []
    for severity in severities:
        for due in (IncidentRow.sla_due_at.is_not(None), IncidentRow.sla_due_at.is_(None)):
            part = walk.where(IncidentRow.priority == severity, due)
            if limit is not None:
                part = part.limit(limit - len(numbers))
            numbers.extend(session.execute(part).scalars())
            if limit is not None and len(numbers) >= limit:
                return numbers
    return numbers


def queue_rows(session: Session, numbers: Iterable[int]) -> list[QueueRow]:
    wanted = list(numbers)
    rows: list[QueueRow] = []
    for start in range(0, len(wanted), 500):
        chunk = wanted[start : start + 500]
        rows.extend(_queue_row(r) for r in session.execute(select(*_QUEUE_COLUMNS).where(IncidentRow.id.in_(chunk))))
    return rows


CHAIN_SEQ = select(ChainHeadRow.__table__.c.seq).where(ChainHeadRow.__table__.c.id == 1)  # for Database.peek


def chain_seq(session: Session) -> int:
    """The change marker: the timeline's last sequence number (every change appends to it)."""
    return session.execute(select(ChainHeadRow.seq).where(ChainHeadRow.id == 1)).scalar() or 0


def changed_since(session: Session, seq: int) -> tuple[int, set[int]]:
    """The new marker and the incidents that changed after `seq`."""
    rows = session.execute(
        select(TimelineRow.seq, TimelineRow.incident_id).where(TimelineRow.seq > seq).order_by(TimelineRow.seq)
    ).all()
    if not rows:
        return seq, set()
    return rows[-1].seq, {r.incident_id for r in rows}


def open_candidates(
    session: Session, service: str, ci: str, include_confidential: bool, limit: int
) -> list[tuple[int, str, State, int, str, str, datetime]]:
    """The newest open incidents on `service` or configuration item `ci` (on any, when neither is
    given), at most `limit`: (number, title, state, priority, service, configuration item, reported
    at) each — what the duplicate check of a new report compares it with."""
    # Newest first by key, walking the primary key backwards: with `is_open` wrapped, neither
    # SQLite nor PostgreSQL trades that walk for the `is_open` index and a sort of every open
    # incident (the whole check: 220 ms → 24 ms over 100,000 open ones, tests/bench/bench_intake.py).
    stmt = select(
        IncidentRow.id, IncidentRow.title, IncidentRow.state, IncidentRow.priority, IncidentRow.service,
        IncidentRow.configuration_item, IncidentRow.reported_at,
    ).where(func.coalesce(IncidentRow.is_open, False).is_(True))
    if not include_confidential:
        stmt = stmt.where(IncidentRow.confidential.is_(False))
    same = [c for c in (IncidentRow.service == service if service else None,
                        IncidentRow.configuration_item == ci if ci else None) if c is not None]
    if same:
        stmt = stmt.where(or_(*same))
    rows = session.execute(stmt.order_by(IncidentRow.id.desc()).limit(limit)).all()
    return [(r.id, r.title, State(r.state), r.priority, r.service, r.configuration_item, r.reported_at) for r in rows]


OPEN_STATE_VALUES = [s.value for s in OPEN_STATES]
