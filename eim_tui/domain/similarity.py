"""How alike two incident titles are, for the duplicate check when a new incident is logged; and
which words of a text to ask the full-text index for."""

from __future__ import annotations

import re
from difflib import SequenceMatcher

_WORD = re.compile(r"[a-z0-9]+")
# Words that say nothing about *what* is wrong; left out of the word overlap.
_FILLER = frozenset({"the", "a", "an", "on", "in", "of", "for", "to", "is", "are", "and", "not", "with", "at", "from"})


# The stop words of PostgreSQL's `english` text search configuration (tsearch_data/english.stop,
# the Snowball list, 127 words). PostgreSQL leaves them out of the index and out of every query;
# SQLite's FTS5 keeps every word. Leaving them out of the query on both backends makes the two
# answer alike: `similar` never matches on "the", "is" or "was", and `text:down` is refused on
# both (too common to search for) rather than matching everything on one and nothing on the other.
# tests/store/test_fulltext_stopwords.py checks the list against the server.
SEARCH_STOP_WORDS = frozenset({
    "i", "me", "my", "myself", "we", "our", "ours", "ourselves", "you", "your", "yours", "yourself",
    "yourselves", "he", "him", "his", "himself", "she", "her", "hers", "herself", "it", "its", "itself",
    "they", "them", "their", "theirs", "themselves", "what", "which", "who", "whom", "this", "that", "these",
    "those", "am", "is", "are", "was", "were", "be", "been", "being", "have", "has", "had", "having", "do",
    "does", "did", "doing", "a", "an", "the", "and", "but", "if", "or", "because", "as", "until", "while",
    "of", "at", "by", "for", "with", "about", "against", "between", "into", "through", "during", "before",
    "after", "above", "below", "to", "from", "up", "down", "in", "out", "on", "off", "over", "under",
    "again", "further", "then", "once", "here", "there", "when", "where", "why", "how", "all", "any", "both",
    "each", "few", "more", "most", "other", "some", "such", "no", "nor", "not", "only", "own", "same", "so",
    "than", "too", "very", "s", "t", "can", "will", "just", "don", "should", "now"
})
_NOT_SEARCHED = _FILLER | SEARCH_STOP_WORDS

_INDEX_WORD = re.compile(r"[^\W_]+")
MAX_SEARCH_WORDS = 12  # a longer text says no more, and each word costs the index a look-up


def search_words(text: str, limit: int = MAX_SEARCH_WORDS, common: bool = False) -> list[str]:
    """The words of `text` to ask the full-text index for, in order, each once: letters and digits
    (any script), lowercased, without filler or English stop words (`common`: with them); at most
    `limit`."""
    found: list[str] = []
    for word in _INDEX_WORD.findall(text.lower()):
        if (common or word not in _NOT_SEARCHED) and word not in found:
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
