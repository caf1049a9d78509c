"""Hypothesis strategies the fuzz tests share: text people (and scripts, and attackers) type.

Two kinds of value, mixed in every strategy: *valid-looking* ones taken from the store and the
reference data (keys like INC-000001, users, groups, categories, resolution codes, dates), so a
fuzzed command gets past argument parsing and reaches the services; and *hostile* ones (empty,
huge, every Unicode plane, control characters, NUL, bytes a shell hands over that are not UTF-8,
`--` tricks, numbers out of range, times at clock changes and at the ends of the calendar).

`EIM_FUZZ_EXAMPLES` raises every fuzz test's example count (the bench does); `examples(n)` is the
count a test should use.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field

from hypothesis import strategies as st

# Characters a terminal can hand a program: anything but lone surrogates, plus the ones Python
# makes of bytes that are not UTF-8 (`surrogateescape`: b"\xff" arrives in argv as "\udcff").
_UNICODE = st.characters(blacklist_categories=("Cs",))
_NOT_UTF8 = st.characters(min_codepoint=0xDC80, max_codepoint=0xDCFF)
_CONTROL = st.characters(max_codepoint=0x1F) | st.sampled_from("\x7f\x85\u2028\u2029\u200b\u202e\ufeff")

HOSTILE_WORDS = [
    "", " ", "\t", "\n", "\r\n", "\x00", "a\x00b", "\x1b[31mred\x1b[0m", "\x1b]0;title\x07", "\x07",
    "--", "-", "---", "--help", "-h", "--version", "-1", "-0", "0", "00", "+1", "1e3", "0x10", "٣", "1_000",
    "99999999999999999999999", "-99999999999999999999", "nan", "inf", "None", "null", "true", "[]", "{}",
    "'", '"', '"unbalanced', "`id`", "$(id)", "; rm -rf /", "%s%n", "{0}", "${HOME}", "../../etc/passwd",
    "[bold]markup[/bold]", "[/]", "[", "\\", "\u202eevil", "e\u0301", "𝔘𝔫𝔦𝔠𝔬𝔡𝔢", "🔥🚨", "中文事件",
    "\udcff\udcfe", "INC-", "INC-0", "INC-000000", "INC-999999", "INC-1000000", "inc-000001", "INC-00000１",
    "INC-000001 ", " INC-000001", "INC-000001\n", "\ufeffINC-000001",
]


def examples(default: int) -> int:
    """`default`, or `EIM_FUZZ_EXAMPLES` when that asks for more (the bench raises it)."""
    raw = os.environ.get("EIM_FUZZ_EXAMPLES", "")
    return max(default, int(raw)) if raw.isdigit() else default


def hostile_text() -> st.SearchStrategy[str]:
    """Text that has broken programs before: empty, huge, control characters, NUL, not UTF-8, markup."""
    return st.one_of(
        st.sampled_from(HOSTILE_WORDS),
        st.text(_UNICODE, max_size=40),
        st.text(_UNICODE | _CONTROL | _NOT_UTF8, min_size=1, max_size=20),
        st.builds(lambda chunk, n: chunk * n, st.text(_UNICODE, min_size=1, max_size=3), st.integers(2_000, 40_000)),
    )


def number_text() -> st.SearchStrategy[str]:
    """Numbers as typed: in range, out of range, negative, huge, not numbers at all."""
    return st.one_of(
        st.integers(-3, 8).map(str),
        st.integers().map(str),
        st.sampled_from(["", " 1", "1 ", "1.5", "٢", "²", "1e2", "0x1", "-", "--1", "10**100", "9" * 400]),
    )


# Times around the changes of European and American clocks in 2026, the calendar's ends, and the
# relative forms (including ones too large for any calendar).
WHEN_WORDS = [
    "10m ago", "2h ago", "1d ago", "0s ago", "99999999999d ago", "100000000d ago", "4000000h ago", "-5m ago",
    "14:05", "00:30", "01:30", "02:30", "23:59", "24:00", "12:60", "7:5", "00:00",
    "2026-03-29T00:30", "2026-03-29T01:30", "2026-03-29T02:30", "2026-10-25T01:30", "2026-10-25T01:30:00+01:00",
    "2026-03-08T02:30", "2026-11-01T01:30", "2026-11-26T08:00:00Z", "2026-11-26T08:00:00+14:00",
    "0001-01-01", "0001-01-01T00:00:00+01:00", "0001-01-01T00:00:00-01:00", "9999-12-31T23:59:59",
    "9999-12-31T23:59:59-01:00", "9999-12-31T23:59:59+01:00", "1970-01-01T00:00:00Z", "2100-01-01", "1900-01-01",
    "2026-02-30", "2026-13-01", "2026-11-26T25:00", "2026-11-26 08:00", "20261126T0800Z", "yesterday", "now",
]


def when_text() -> st.SearchStrategy[str]:
    return st.one_of(
        st.sampled_from(WHEN_WORDS),
        st.builds(lambda n, unit: f"{n}{unit} ago", st.integers(0, 10**12), st.sampled_from("smhd")),
        st.datetimes().map(lambda d: d.isoformat()),
        hostile_text(),
    )


FILTER_WORDS = [
    "", "all", "open", "breached", "major", "mine", "unassigned", "sev<=2", "sev=1", "sev>5", "sev<1", "sev:9",
    "sev<=2 service:payments", "state:new,on_hold", "state:nonsense", "assignee:me", "group:dba",
    'title:"disk full"', '"unbalanced', "colour:red", ":x", "service:", "sev:", "category:network major",
    'text:"disk full"', "text:", 'text:"\\"*" OR', "text:^NEAR(a b)", "text:ünïcödé",  # FTS5 / tsquery syntax
]


@dataclass(frozen=True)
class StoreWords:
    """The valid-looking words for one store: what its incidents, users and reference data are called."""

    keys: list[str]
    users: list[str]
    groups: list[str]
    categories: list[str]
    subcategories: list[str]
    services: list[str]
    cis: list[str]
    codes: list[str]
    roles: list[str] = field(default_factory=lambda: ["viewer", "responder", "shift_lead", "admin"])

    @classmethod
    def of(cls, svc) -> StoreWords:
        """Read from a store (its users and incidents) and its reference data."""
        from eim_tui.domain.filters import parse
        from eim_tui.domain.model import format_key
        from eim_tui.domain.queue import View

        ref = svc.ref
        numbers = svc.queue(View.OPEN, parse("all"), "alice", [], limit=None)
        users = sorted({u.name for u in svc.access.list_users()} | {m for g in ref.groups for m in g.members})
        return cls(
            keys=[format_key(n) for n in sorted(numbers)] or ["INC-000001"],
            users=users + ["alice", "me"],
            groups=[g.name for g in ref.groups],
            categories=[c.name for c in ref.categories],
            subcategories=sorted({s for c in ref.categories for s in c.subcategories}),
            services=[s.name for s in ref.services],
            cis=sorted({ci for s in ref.services for ci in s.configuration_items}),
            codes=list(ref.resolution_codes),
        )

    def key(self) -> st.SearchStrategy[str]:
        return st.one_of(
            st.sampled_from(self.keys),
            st.integers(0, 10**7).map(lambda n: f"INC-{n:06d}"),
            st.sampled_from(self.keys).map(lambda k: k.lower()),
            st.sampled_from(["INC-000001", "1", "000001"]),
        )


def pick(words: list[str]) -> st.SearchStrategy[str]:
    return st.sampled_from(words) if words else st.just("")
