"""Incidents like one at hand: open ones for the duplicate check of the new-incident form, and
resolved ones from the full-text index (`similar_resolved`: how the same failure was fixed before).

For the duplicate check, a candidate is open and on the same service or configuration item, and its title is similar
(`domain.similarity`). Without a service or item the most recent open incidents are compared, with
a stricter bar, so a report typed without them still finds its obvious twin.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from eim_tui.domain.model import Incident, State, format_key
from eim_tui.domain.similarity import search_words, title_similarity
from eim_tui.store import queries, search
from eim_tui.store.engine import Database

THRESHOLD = 0.5  # on the same service or item
THRESHOLD_ANYWHERE = 0.75  # when neither is known
CANDIDATES = 500  # newest open incidents compared; a storm larger than this is one incident anyway


@dataclass(frozen=True, slots=True)
class SimilarIncident:
    number: int
    title: str
    state: State
    priority: int
    service: str
    configuration_item: str
    reported_at: datetime
    score: float
    why: str  # "same service", "same configuration item", "similar title"

    @property
    def key(self) -> str:
        return format_key(self.number)


def similar_open(
    db: Database, service: str, ci: str, title: str, limit: int = 5, include_confidential: bool = True
) -> list[SimilarIncident]:
    """Open incidents most like (service, ci, title), best first, at most `limit`; confidential ones
    only when `include_confidential` (their titles are for the security group)."""
    service, ci = service.strip(), ci.strip()
    if not title.strip():
        return []
    with db.read() as session:
        candidates = queries.open_candidates(session, service, ci, include_confidential, CANDIDATES)
    found = []
    for number, other, state, priority, on_service, item, reported_at in candidates:
        score = title_similarity(title, other)
        if ci and item == ci:
            why = "same configuration item"
        elif service and on_service == service:
            why = "same service"
        else:
            why = "similar title"
        if score < (THRESHOLD if service or ci else THRESHOLD_ANYWHERE):
            continue
        found.append(SimilarIncident(number, other, state, priority, on_service, item, reported_at, round(score, 2), why))
    found.sort(key=lambda s: (-s.score, -s.number))
    return found[:limit]


# --- resolved history: the full-text index -------------------------------------------------------

RESOLVED_STATES = (State.RESOLVED.value, State.CLOSED.value)
FALLBACK_NEWEST = 1000  # any-word matches ranked: the most recent ones (tests/bench/bench_fulltext.py)


@dataclass(frozen=True, slots=True)
class ResolvedIncident:
    """A resolved or closed incident like the one at hand, and how it was resolved."""

    number: int
    title: str
    state: State
    score: float  # the index's relevance (bm25 on SQLite, ts_rank on PostgreSQL): higher is closer
    resolution_code: str
    resolution_notes: str
    resolved_at: datetime | None

    @property
    def key(self) -> str:
        return format_key(self.number)


def similar_resolved(
    db: Database, incident: Incident, limit: int = 5, include_confidential: bool = True
) -> list[ResolvedIncident]:
    """The resolved or closed incidents most like `incident` by its title and description, best
    first, at most `limit`. First those holding every word of its title (the same failure, worded
    alike), ranked; then, to fill up, those holding any word of its title or description, ranked
    among the `FALLBACK_NEWEST` most recent that do."""
    strict = search_words(incident.title)
    loose = search_words(f"{incident.title} {incident.description}")
    found: list[tuple[int, float]] = []
    with db.read() as session:
        for words, how, newest in ((strict, "all", None), (loose, "any", FALLBACK_NEWEST)):
            if len(found) >= limit:
                break
            seen = {number for number, _ in found}
            found.extend(
                hit for hit in search.ranked(session, words, how, RESOLVED_STATES, incident.number,
                                             include_confidential, limit + len(found), newest)
                if hit[0] not in seen
            )
        found = found[:limit]
        details = search.resolutions(session, [number for number, _ in found])
    return [
        ResolvedIncident(number, title, State(state), round(score, 3), code, notes, resolved_at)
        for number, score in found
        for title, state, code, notes, resolved_at in [details[number]]
    ]
