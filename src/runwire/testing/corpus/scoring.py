"""A deterministic keyword scorer: idf-weighted query coverage, BM25 to break ties.

``score`` is the idf-weighted share of the query's distinct words that a document
contains, in [0, 1] (1: every query word is there). Documents with equal coverage are
ordered by BM25, then by their position in the corpus, so results never depend on
hashing or timing.
"""

from __future__ import annotations

import math
import re
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass

__all__ = ["STOPWORDS", "Hit", "Scorer", "words"]

_COMMON = (
    "a an and are as at be by can do does for from how i in is it its of on or our "
    "the their this to was we what when where which who why will with you your"
)
STOPWORDS = frozenset(_COMMON.split(" "))
"""Words too common to say anything about relevance."""
_WORD = re.compile(r"\w+")
_K1, _B = 1.2, 0.75


def words(text: str) -> list[str]:
    """The lower-cased words of ``text``, stopwords left out."""
    return [w for w in _WORD.findall(text.lower()) if w not in STOPWORDS]


@dataclass(frozen=True)
class Hit:
    """A matching document: its index in the corpus, its score in [0, 1], its BM25."""

    index: int
    score: float
    bm25: float


class Scorer:
    """The index of a list of texts."""

    def __init__(self, texts: Sequence[str]) -> None:
        self._counts = [Counter(words(text)) for text in texts]
        self._lengths = [sum(c.values()) for c in self._counts]
        self._average = (sum(self._lengths) / len(texts)) if texts else 0.0
        frequency: Counter[str] = Counter()
        for counts in self._counts:
            frequency.update(counts.keys())
        total = len(texts)
        self._idf = {
            word: math.log(1 + (total - n + 0.5) / (n + 0.5)) for word, n in frequency.items()
        }

    def _bm25(self, index: int, query: set[str]) -> float:
        counts, length = self._counts[index], self._lengths[index]
        norm = _K1 * (1 - _B + _B * length / (self._average or 1))
        return sum(
            self._idf[w] * counts[w] * (_K1 + 1) / (counts[w] + norm) for w in query if counts[w]
        )

    def rank(self, query: str) -> list[Hit]:
        """Every document sharing a word with ``query``, best first."""
        wanted = set(words(query))
        if not wanted:
            return []
        # a word no document has still counts in the total: it is unanswered
        weight = {
            w: self._idf.get(w, math.log(1 + (len(self._counts) + 0.5) / 0.5)) for w in wanted
        }
        total = sum(weight.values())
        hits = []
        for index, counts in enumerate(self._counts):
            found = [w for w in wanted if counts[w]]
            if found:
                score = round(sum(weight[w] for w in found) / total, 6)
                hits.append(Hit(index, score, round(self._bm25(index, wanted), 6)))
        hits.sort(key=lambda h: (-h.score, -h.bm25, h.index))
        return hits
