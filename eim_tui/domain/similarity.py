"""How alike two incident titles are, for the duplicate check when a new incident is logged."""

from __future__ import annotations

import re
from difflib import SequenceMatcher

_WORD = re.compile(r"[a-z0-9]+")
# Words that say nothing about *what* is wrong; left out of the word overlap.
_FILLER = frozenset({"the", "a", "an", "on", "in", "of", "for", "to", "is", "are", "and", "not", "with", "at", "from"})


def words(title: str) -> set[str]:
    return {w for w in _WORD.findall(title.lower()) if w not in _FILLER}


def title_similarity(a: str, b: str) -> float:
    """0 … 1: the better of character similarity and the share of meaningful words in common.

    Character similarity catches typos and reworded endings; word overlap catches the same words
    in another order ("502 from payments API" vs "payments API returns 502").
    """
    left, right = " ".join(a.lower().split()), " ".join(b.lower().split())
    if not left or not right:
        return 0.0
    ratio = SequenceMatcher(None, left, right).ratio()
    wa, wb = words(left), words(right)
    overlap = len(wa & wb) / len(wa | wb) if wa and wb else 0.0
    return max(ratio, overlap)
