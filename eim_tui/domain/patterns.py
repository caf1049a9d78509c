"""Recurring patterns: clusters of recent incidents that point at one underlying problem.

Explainable, no model: incidents are grouped by what they share — the same service (or, without
one, the same configuration item, or without that the same location: imported history often has
nothing else) and the same category / subcategory / symptom — and inside a group by their titles'
words (`similarity.words`). A group's most common title word seeds a
cluster; the words that come with it in most of those titles make its phrase ("tunnel drops"), and
every incident of the group whose title holds at least half of the phrase's words is a member.
What is left of the group is searched again, so one service can show two recurring problems.

A candidate is ranked by count × severity weight × recency: its size, the mean weight of its
members' severities (Sev1 weighs 8 … Sev5 0.5) and the mean of 0.5 ** (age in days / 14) over
its members, so a cluster of last week outranks one as large of last month (in a window longer
than eight weeks the half-life is a quarter of the window, so a long window is not just its last
few weeks). Its reason says all of this in one line:
`12 incidents · vpn · network/tunnel · "tunnel drops" in 9 titles · last 30 days`. When the
titles say nothing their kind does not (imported history's titles are its category, subcategory
and symptom), the reason leaves the phrase out: `40 incidents · at Location 143 · Category 26/
Subcategory 174/Symptom 491 · 2016-03-02 to 2017-02-14` (a window of all history names the
cluster's own first and last day).
"""

from __future__ import annotations

import math
import re
from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

from eim_tui.domain.similarity import words

_TOKEN = re.compile(r"[a-z0-9]+")  # as similarity.words splits a title
SEVERITY_WEIGHT = {1: 8.0, 2: 4.0, 3: 2.0, 4: 1.0, 5: 0.5}
HALF_LIFE_DAYS = 14.0
# A word joins the phrase while at least this share of the seed's titles still hold every phrase word.
PHRASE_SUPPORT = 0.6
MAX_PHRASE_WORDS = 3
MAX_CLUSTERS_PER_GROUP = 3


@dataclass(frozen=True, slots=True)
class PatternIncident:
    """What clustering needs of one incident (store/patterns.py reads just these columns)."""

    number: int
    title: str
    service: str
    configuration_item: str
    category: str
    subcategory: str
    symptom: str
    severity: int
    reported_at: float  # seconds since the epoch
    location: str = ""  # the imported source's location; an anchor only without service and CI


@dataclass(frozen=True, slots=True)
class Candidate:
    """A problem candidate: a recurring cluster of incidents, with why they belong together."""

    anchor_kind: str  # "service", "ci" or "location"
    anchor: str  # the service's, configuration item's or location's name
    category: str
    subcategory: str
    symptom: str
    phrase: str  # the title words the cluster shares, in title order: "tunnel drops"; "" when the
    # titles only repeat the category / subcategory / symptom (imported history)
    phrase_titles: int  # how many members' titles hold every word of the phrase (0 without a phrase)
    numbers: tuple[int, ...]  # the members, oldest number first
    worst_severity: int
    first_reported: float
    last_reported: float
    score: float
    reason: str

    @property
    def count(self) -> int:
        return len(self.numbers)


def window_label(days: int | None, first: float | None = None, last: float | None = None) -> str:
    """`last 30 days`, `last 6 weeks`; for all history (days None) the span `first`…`last` (epoch
    seconds) as `2016-03-02 to 2017-02-14`, or `all history` without one."""
    if days is None:
        if first is None or last is None:
            return "all history"
        return f"{_day(first)} to {_day(last)}" if _day(first) != _day(last) else f"on {_day(first)}"
    if days % 7 == 0 and days >= 14 and days % 30 != 0:
        return f"last {days // 7} weeks"
    return "last day" if days == 1 else f"last {days} days"


def _day(at: float) -> str:
    return datetime.fromtimestamp(at, UTC).strftime("%Y-%m-%d")


ANCHOR_PREFIX = {"service": "", "ci": "", "location": "at "}  # a location's name alone could be anything


def reason_text(count: int, anchor: str, kinds: str, phrase: str, phrase_titles: int, window: str,
                anchor_kind: str = "service") -> str:
    shared = f' · "{phrase}" in {phrase_titles} titles' if phrase else ""
    return f"{count} incidents · {ANCHOR_PREFIX.get(anchor_kind, '')}{anchor} · {kinds}{shared} · {window}"


def half_life_days(window_days: float | None) -> float:
    """Recency's half-life: two weeks, or a quarter of a longer window (all history: its span)."""
    return max(HALF_LIFE_DAYS, (window_days or 0) / 4)


def kind_path(category: str, subcategory: str, symptom: str) -> str:
    return "/".join(p for p in (category, subcategory, symptom) if p) or "(uncategorised)"


def find_patterns(
    incidents: Iterable[PatternIncident], now: float, window_days: int | None, minimum: int = 5
) -> list[Candidate]:
    """The candidates among `incidents` (already those of the window, not linked to a problem), best
    first; each has at least `minimum` members. An incident belongs to one candidate at most.

    `window_days` None: all history; recency is then measured from `now` — the caller passes the
    newest incident's time — with a half-life of a quarter of the incidents' span."""
    incidents = list(incidents)
    span = None
    if window_days is None and incidents:
        span = (now - min(i.reported_at for i in incidents)) / 86400
    half_life = half_life_days(span if window_days is None else window_days)
    groups: dict[tuple[str, str, str, str, str], list[tuple[PatternIncident, frozenset[str]]]] = defaultdict(list)
    cache: dict[str, frozenset[str]] = {}
    for incident in incidents:
        ws = cache.get(incident.title)
        if ws is None:
            ws = cache[incident.title] = frozenset(words(incident.title))
        key = (incident.category, incident.subcategory, incident.symptom)
        if incident.service:
            groups[("service", incident.service, *key)].append((incident, ws))
        elif incident.configuration_item:
            groups[("ci", incident.configuration_item, *key)].append((incident, ws))
        elif incident.location:
            groups[("location", incident.location, *key)].append((incident, ws))
    window = window_label(window_days) if window_days is not None else None
    found: list[Candidate] = []
    for (kind, anchor, category, subcategory, symptom), members in groups.items():
        if len(members) < minimum:
            continue
        for phrase_words, cluster in _clusters(members, minimum):
            found.append(_candidate(kind, anchor, category, subcategory, symptom, phrase_words, cluster, now, window,
                                    half_life))
    found.sort(key=lambda c: (-c.score, -c.count, c.anchor, c.numbers))
    return found


def _clusters(
    members: list[tuple[PatternIncident, frozenset[str]]], minimum: int
) -> Iterable[tuple[tuple[str, ...], list[tuple[PatternIncident, frozenset[str]]]]]:
    # Titles repeat (a storm, a template): the work is per distinct word set, weighted by how many
    # incidents have it, so 100,000 incidents cost what their few thousand distinct titles cost.
    left = members
    for _ in range(MAX_CLUSTERS_PER_GROUP):
        if len(left) < minimum:
            return
        sets = Counter(ws for _, ws in left)
        phrase = _phrase(sets, minimum)
        if not phrase:
            return
        need = (len(phrase) + 1) // 2
        joins = {ws: len(ws.intersection(phrase)) >= need for ws in sets}
        cluster = [m for m in left if joins[m[1]]]
        if len(cluster) < minimum:
            return
        yield phrase, cluster
        left = [m for m in left if not joins[m[1]]]


def _phrase(word_sets: Counter[frozenset[str]], minimum: int) -> tuple[str, ...]:
    """The seed word (the most common, at least `minimum` titles) and the words that come with it
    in at least PHRASE_SUPPORT of the titles holding the phrase so far. `word_sets`: each title's
    word set and how many titles have it."""
    counts: Counter[str] = Counter()
    for ws, n in word_sets.items():
        for w in ws:
            counts[w] += n
    if not counts:
        return ()
    seed, seen = min(counts.items(), key=lambda item: (-item[1], item[0]))
    if seen < minimum:
        return ()
    chosen = [seed]
    holding = {ws: n for ws, n in word_sets.items() if seed in ws}
    floor = max(2, PHRASE_SUPPORT * sum(holding.values()))
    while len(chosen) < MAX_PHRASE_WORDS:
        along: Counter[str] = Counter()
        for ws, n in holding.items():
            for w in ws:
                if w not in chosen:
                    along[w] += n
        if not along:
            break
        word, n = min(along.items(), key=lambda item: (-item[1], item[0]))
        if n < floor:
            break
        chosen.append(word)
        holding = {ws: k for ws, k in holding.items() if word in ws}
    return tuple(chosen)


def _ordered(phrase: Sequence[str], titles: Iterable[str]) -> str:
    """The phrase's words in the order the most common title holding them all gives them."""
    wanted = set(phrase)
    common = Counter({t: n for t, n in Counter(titles).items() if wanted <= words(t)})
    if not common:
        return " ".join(phrase)
    tokens = _TOKEN.findall(min(common.items(), key=lambda item: (-item[1], item[0]))[0].lower())
    order = {w: tokens.index(w) if w in tokens else len(tokens) for w in phrase}
    return " ".join(sorted(phrase, key=lambda w: (order[w], w)))


def _candidate(kind, anchor, category, subcategory, symptom, phrase, cluster, now: float, window: str | None,
               half_life: float = HALF_LIFE_DAYS) -> Candidate:
    # Sums over plain lists and Counters (loops in C): a cluster can hold tens of thousands.
    wanted = frozenset(phrase)
    holding = sum(n for ws, n in Counter(ws for _, ws in cluster).items() if wanted <= ws)
    if wanted <= words(f"{category} {subcategory} {symptom}"):
        holding = 0  # the titles only repeat the kind (imported history): the kind says it already
    severities = Counter(i.severity for i, _ in cluster)
    ats = [i.reported_at for i, _ in cluster]
    count = len(cluster)
    weight = sum(SEVERITY_WEIGHT.get(sev, 1.0) * n for sev, n in severities.items()) / count
    decay = math.log(0.5) / (half_life * 86400)
    recency = sum(map(math.exp, [decay * max(0.0, now - at) for at in ats])) / count
    text = _ordered(phrase, (i.title for i, _ in cluster)) if holding else ""
    first, last = min(ats), max(ats)
    return Candidate(
        anchor_kind=kind, anchor=anchor, category=category, subcategory=subcategory, symptom=symptom,
        phrase=text, phrase_titles=holding, numbers=tuple(sorted(i.number for i, _ in cluster)),
        worst_severity=min(severities), first_reported=first, last_reported=last,
        score=round(count * weight * recency, 3),
        reason=reason_text(count, anchor, kind_path(category, subcategory, symptom), text, holding,
                           window if window is not None else window_label(None, first, last), kind),
    )
