"""The filter language shared by the queue's `/` bar and `eim list --filter`.

    disk db01 sev<=2 state:new,on_hold service:payments group:network
    assignee:me assignee:none category:security breached major text:"wal slot"

Free words (or "quoted phrases") match the key, title and service; every term must hold.
`text:"…"` asks the full-text index (title, description, diagnosis notes, resolution) for
incidents holding every word of it, in any form ("dropped" finds "drop"), each word also as the
start of a longer one ("replic" finds "replication"); only the store can
answer that, so `matches` leaves such terms to it.
`parse` turns text into a `Filter` or raises `FilterError` saying what is wrong; the store turns a
`Filter` into SQL, and `matches` says the same thing in Python (the tests hold the two together).
"""

from __future__ import annotations

import re
import shlex
from dataclasses import dataclass, field, replace
from datetime import datetime

from eim_tui.domain.model import OPEN_STATES, Incident, State
from eim_tui.domain.similarity import search_words

FIELDS = ("sev", "state", "service", "group", "assignee", "category", "text")
FLAGS = ("breached", "major", "open", "all")
_SEV = re.compile(r"^(?:sev|severity|p|priority)\s*(<=|>=|<|>|=|:)\s*(\S*)$", re.IGNORECASE)


class FilterError(ValueError):
    pass


@dataclass(frozen=True, slots=True)
class Filter:
    words: tuple[str, ...] = ()
    sev_min: int = 1
    sev_max: int = 5
    states: frozenset[State] | None = None  # None: the view decides (open ones by default)
    services: tuple[str, ...] = ()
    groups: tuple[str, ...] = ()
    categories: tuple[str, ...] = ()
    assignees: tuple[str, ...] = ()  # names, "me" or "none"
    texts: tuple[tuple[str, ...], ...] = ()  # each `text:` term's words, for the full-text index
    breached: bool = False
    major: bool = False
    include_closed: bool = False
    text: str = field(default="", compare=False)

    @property
    def is_empty(self) -> bool:
        return self == Filter()

    def with_user(self, user: str) -> Filter:
        """`assignee:me` becomes the person running eim."""
        return replace(self, assignees=tuple(user.lower() if a == "me" else a for a in self.assignees))


def parse(text: str) -> Filter:
    try:
        tokens = _tokens(text)
    except ValueError as exc:
        raise FilterError(f"unbalanced quotes in filter: {exc}") from None
    words: list[str] = []
    sev_min, sev_max = 1, 5
    states: set[State] | None = None
    lists: dict[str, list[str]] = {"service": [], "group": [], "category": [], "assignee": []}
    texts: list[tuple[str, ...]] = []
    flags = {name: False for name in FLAGS}
    for token, quoted in tokens:
        if quoted:  # a "quoted phrase" is text to find, never a field or a flag
            words.append(token.lower())
            continue
        sev = _SEV.match(token)
        if sev:
            op, raw = sev.groups()
            value = _severity(raw, token)
            if op in ("=", ":"):
                sev_min, sev_max = max(sev_min, value), min(sev_max, value)
            elif op == "<=":
                sev_max = min(sev_max, value)
            elif op == "<":
                sev_max = min(sev_max, value - 1)
            elif op == ">=":
                sev_min = max(sev_min, value)
            else:
                sev_min = max(sev_min, value + 1)
            continue
        lowered = token.lower()
        if lowered in flags:
            flags[lowered] = True
            continue
        if ":" in token and not token.startswith(":"):
            name, _, value = token.partition(":")
            name = name.lower()
            if name not in FIELDS:
                if re.fullmatch(r"[a-z_]+", name):
                    raise FilterError(f"unknown field {name!r} in {token!r}; use one of: {', '.join(FIELDS)}")
                words.append(lowered)
                continue
            if name == "text":  # the whole value, commas and all: `text:"disk, full"`
                found = search_words(value)
                if not found and search_words(value, common=True):
                    raise FilterError(f"{token!r}: its words are too common to search for (like \"the\" or "
                                      f"\"down\"); add a telling one, e.g. text:\"vpn down\"")
                if not found:
                    raise FilterError(f"{token!r} needs words to search for, e.g. text:\"replication slot\"")
                texts.append(tuple(found))
                continue
            if name == "sev":  # `_SEV` did not take it, so the value is malformed (e.g. sev:"1 2")
                raise FilterError(f"{token!r}: severity must be a number 1–5, e.g. sev<=2")
            values = [v for v in value.split(",") if v]
            if not values:
                raise FilterError(f"{token!r} needs a value after the colon, e.g. {name}:…")
            if name == "state":
                states = (states or set()).union(*(_states(v) for v in values))
            else:
                lists[name].extend(v.lower() for v in values)
            continue
        words.append(lowered)
    if flags["open"]:
        states = (states or set()) | OPEN_STATES
    if sev_min > sev_max:
        raise FilterError(f"no severity satisfies {text.strip()!r} (Sev{sev_min} … Sev{sev_max})")
    return Filter(
        words=tuple(words),
        sev_min=sev_min,
        sev_max=sev_max,
        states=frozenset(states) if states is not None else None,
        services=tuple(lists["service"]),
        groups=tuple(lists["group"]),
        categories=tuple(lists["category"]),
        assignees=tuple(lists["assignee"]),
        texts=tuple(texts),
        breached=flags["breached"],
        major=flags["major"],
        include_closed=flags["all"],
        text=text.strip(),
    )


def _tokens(text: str) -> list[tuple[str, bool]]:
    """Split like a shell (`shlex.split`), noting for each token whether it began with a quote."""
    lexer = shlex.shlex(text, posix=True)
    lexer.whitespace_split = True
    lexer.commenters = ""
    tokens: list[tuple[str, bool]] = []
    while True:
        start = lexer.instream.tell()
        while start < len(text) and text[start] in lexer.whitespace:
            start += 1
        token = lexer.get_token()
        if token is None:
            return tokens
        tokens.append((token, text[start : start + 1] in ("'", '"')))


def _severity(raw: str, token: str) -> int:
    if raw.isascii() and raw.isdigit() and 1 <= int(raw) <= 5:
        return int(raw)
    raise FilterError(f"{token!r}: severity must be a number 1–5, e.g. sev<=2")


def _states(raw: str) -> frozenset[State]:
    value = raw.lower().replace("-", "_").replace(" ", "_")
    if value == "open":
        return OPEN_STATES
    aliases = {"hold": "on_hold", "progress": "in_progress", "active": "in_progress"}
    try:
        return frozenset({State(aliases.get(value, value))})
    except ValueError:
        raise FilterError(
            f"unknown state {raw!r}; use one of: {', '.join(s.value for s in State)}"
        ) from None


def matches(f: Filter, incident: Incident, breached: bool) -> bool:
    """Whether an incident passes the filter; `breached` is its current clock's verdict. `text:`
    terms are not checked here: stemming and the notes belong to the store's index."""
    if f.states is not None:
        if incident.state not in f.states:
            return False
    elif not f.include_closed and not incident.is_open:
        return False
    if not f.sev_min <= incident.priority <= f.sev_max:
        return False
    haystack = f"{incident.key} {incident.title} {incident.service}".lower()
    if any(word not in haystack for word in f.words):
        return False
    if f.services and incident.service.lower() not in f.services:
        return False
    if f.groups and incident.assignment_group.lower() not in f.groups:
        return False
    if f.categories and incident.category.lower() not in f.categories:
        return False
    if f.assignees:
        who = incident.assignee.lower()
        if not any((a == "none" and not who) or a == who for a in f.assignees):
            return False
    if f.breached and not breached:
        return False
    return not (f.major and not incident.major)


def is_breached_now(due: datetime | None, now: datetime) -> bool:
    return due is not None and due <= now
