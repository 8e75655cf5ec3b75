"""Spelling: a question word the index has never seen is corrected to the closest word it has.

"what is recuitment process outsourcing" searches "recruitment process outsourcing": the
documents' own words (`ingest.terms`, counted at ingest) are the dictionary, so a user's
corpus brings its own. A word is left alone when the documents use it, when it is an
English word in its own right (wordfreq's bundled lists: "severance" is not a typo of
anything), when it is short (three letters or fewer: "ceo", "ppl") or when it is written
with a capital inside it ("TaskUs", "McKinsey": a name typed as its owner writes it, not a
slip of the keyboard). A candidate must start
with the same letter and lie within one edit (two for words of eight letters or more;
a swap of two letters is one edit); the most frequent of the closest candidates wins.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from functools import lru_cache

__all__ = ["KNOWN_ZIPF", "Speller"]

KNOWN_ZIPF = 3.0
"""An English word at least this frequent (Zipf scale: 3 = one per million words) is a word,
not a typo, even when the documents never use it."""
_TOKEN = re.compile(r"[A-Za-z][A-Za-z'-]*[A-Za-z]")


@lru_cache(maxsize=50_000)
def _english(word: str) -> bool:
    from wordfreq import zipf_frequency

    return zipf_frequency(word, "en") >= KNOWN_ZIPF


class Speller:
    """Corrects question words against the words of an index."""

    def __init__(self, words: Mapping[str, int], extra: frozenset[str] = frozenset()) -> None:
        self.counts = dict(words)
        self.known = frozenset(self.counts) | extra
        by_letter: dict[str, list[str]] = {}
        for w in self.counts:
            if len(w) >= 3 and w.isalpha():
                by_letter.setdefault(w[0], []).append(w)
        self._by_letter = by_letter

    def correction(self, word: str) -> str | None:
        """The index word `word` (lower-case) was meant to be, or None to leave it."""
        if len(word) <= 3 or word in self.known or not word.isalpha() or _english(word):
            return None
        from rapidfuzz.distance import DamerauLevenshtein
        from rapidfuzz.process import extract

        limit = 2 if len(word) >= 8 else 1
        pool = [w for w in self._by_letter.get(word[0], ()) if abs(len(w) - len(word)) <= limit]
        if not pool:
            return None
        found = extract(word, pool, scorer=DamerauLevenshtein.distance, score_cutoff=limit,
                        limit=20)
        if not found:
            return None
        best = min(d for _, d, _ in found)
        return max((w for w, d, _ in found if d == best), key=lambda w: self.counts.get(w, 0))

    def correct(self, text: str) -> tuple[str, tuple[tuple[str, str], ...]]:
        """`text` with its misspelt words corrected, and the (typed, corrected) pairs."""
        fixes: list[tuple[str, str]] = []

        def fix(m: re.Match[str]) -> str:
            typed = m.group(0)
            if any(ch.isupper() for ch in typed[1:]) and not typed.isupper():
                return typed  # a name's own casing ("TaskUs")
            right = self.correction(typed.lower())
            if right is None:
                return typed
            if typed.isupper():
                right = right.upper()
            elif typed[0].isupper():
                right = right[0].upper() + right[1:]
            fixes.append((typed, right))
            return right

        out = _TOKEN.sub(fix, text)
        return out, tuple(fixes)
