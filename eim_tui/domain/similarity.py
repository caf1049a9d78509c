"""How alike two incident titles are, for the duplicate check when a new incident is logged; and
which words of a text to ask the full-text index for."""

from __future__ import annotations

import re
from difflib import SequenceMatcher

_WORD = re.compile(r"[a-z0-9]+")
# Words that say nothing about *what* is wrong; left out of the word overlap.
_FILLER = frozenset({"the", "a", "an", "on", "in", "of", "for", "to", "is", "are", "and", "not", "with", "at", "from"})


_INDEX_WORD = re.compile(r"[^\W_]+")
MAX_SEARCH_WORDS = 12  # a longer text says no more, and each word costs the index a look-up


def search_words(text: str, limit: int = MAX_SEARCH_WORDS) -> list[str]:
    """The words of `text` to ask the full-text index for, in order, each once: letters and digits
    (any script), lowercased, without filler words; at most `limit`."""
    found: list[str] = []
    for word in _INDEX_WORD.findall(text.lower()):
        if word not in _FILLER and word not in found:
            found.append(word)
            if len(found) == limit:
                break
    return found


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
