"""Page furniture: calls to action, bylines, author boxes and the publisher's own pitch.

Recognised at ingest, per sentence, by general signals (the phrase lists are data:
ingest/data/furniture.toml), so no answer ever quotes "Get started with a free consultation
->" or "Head to the comments section and let us know!":

- a call to action ("get started", "book a free ...", "let us know", "see our ... guide"),
  a sentence ending in an arrow, a link, an e-mail address or a phone number;
- a byline or reading time ("By Kirti Goyal", "16 min read", "Written by ...", a date alone);
- the publisher pitching itself: a sentence whose subject is the publisher named in the
  corpus manifest ("Catalyst helps ...", "EmpireOneCX builds ...");
- an author box: the paragraph after a "Written by <Name>" line that opens with the name;
- a promotional block: a paragraph of at most four sentences half of which are furniture
  is furniture as a whole (the question that leads into the pitch goes with it).

The spans found are stored with each chunk (`Chunk.furniture`); the chunk's text stays
verbatim, its furniture units are never answer candidates, and a chunk that is nothing but
furniture is not indexed. `python -m evals.furniture` lists every sentence flagged, per
document, so a person can check that no real content is lost.
"""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from .text import sentence_spans

__all__ = ["DATA_PATH", "Signals", "furniture_spans"]

DATA_PATH = Path(__file__).with_name("data") / "furniture.toml"
_LINK = re.compile(r"https?://|www\.\w|\b[\w.+-]+@[\w-]+\.\w{2,}\b|\+?\d[\d ()-]{8,}\d")
_DATE = re.compile(r"^(?:[•\-*]\s*)?(?:(?:jan|feb|mar|apr|may|jun|jul|aug|sep|oct|nov|dec)"
                   r"[a-z]*\.? \d{1,2},? \d{4}|\d{1,2} (?:jan|feb|mar|apr|may|jun|jul|aug|"
                   r"sep|oct|nov|dec)[a-z]* \d{4}|\d{4}-\d{2}-\d{2})$", re.I)
_BY = re.compile(r"^(?:[•\-*]\s*)?(?i:by)\s+[A-Z][\w.'-]+(?:\s+[A-Z][\w.'-]+){0,3}$")
_WRITTEN_BY = re.compile(r"^(?:[•\-*]\s*)?(?i:written|posted) (?i:by)\s+(?P<name>[A-Z][\w'-]+)")
BLOCK_SENTENCES = 4
"""A paragraph of at most this many sentences, half of them furniture, is furniture."""


@dataclass(frozen=True)
class Signals:
    """The phrase lists of ingest/data/furniture.toml."""

    calls_to_action: tuple[str, ...]
    bylines: tuple[str, ...]
    about_document: tuple[str, ...]
    arrows: tuple[str, ...]

    @classmethod
    @lru_cache(maxsize=1)
    def default(cls) -> Signals:
        data = tomllib.loads(DATA_PATH.read_text(encoding="utf-8"))
        return cls(*(tuple(str(x).lower() for x in data.get(k, ()))
                     for k in ("calls_to_action", "bylines", "about_document", "arrows")))

    @property
    def _phrases(self) -> re.Pattern[str]:
        return _phrase_pattern(self.calls_to_action + self.bylines)

    def about_the_document(self, text: str) -> bool:
        """Does a sentence talk about the document rather than its subject ("By the end of
        this article...", "Read on to learn more")?"""
        return bool(_phrase_pattern(self.about_document).search(text))

    def is_furniture(self, sentence: str, brand: re.Pattern[str] | None) -> bool:
        s = sentence.strip()
        if not s:
            return False
        if self._phrases.search(s) or _LINK.search(s) or \
                any(s.rstrip(" .!").endswith(a) for a in self.arrows):
            return True
        if _BY.match(s) or _DATE.match(s):
            return True
        return bool(brand is not None and brand.match(s.lstrip("•-* ")))


@lru_cache(maxsize=16)
def _phrase_pattern(phrases: tuple[str, ...]) -> re.Pattern[str]:
    if not phrases:
        return re.compile(r"(?!x)x")
    return re.compile(r"\b(?:" + "|".join(re.escape(p) for p in phrases) + r")\b", re.I)


def _brand_pattern(publisher: str) -> re.Pattern[str] | None:
    """A sentence opening with the publisher's name and a verb ("Catalyst helps",
    "Catalyst Outsourcing helps", "EmpireOneCX builds"); None without a publisher."""
    name = re.sub(r"\(.*?\)|,.*$", "", publisher or "").strip()
    words = [w for w in re.findall(r"[A-Za-z][\w&'-]*", name) if w[:1].isupper()]
    if not words or name.lower() in ("unknown", ""):
        return None
    alts = sorted({" ".join(words[:n]) for n in range(1, len(words) + 1)}, key=len,
                  reverse=True)
    return re.compile(r"^(?:" + "|".join(re.escape(a) for a in alts) + r")\s+(?:[a-z]+s)\b")


def furniture_spans(text: str, publisher: str = "",
                    signals: Signals | None = None) -> list[tuple[int, int]]:
    """(start, end) offsets of the furniture sentences of a document's text."""
    sig = signals or Signals.default()
    brand = _brand_pattern(publisher)
    out: list[tuple[int, int]] = []
    author = ""
    pos = 0
    for line in text.split("\n"):
        start, pos = pos, pos + len(line) + 1
        stripped = line.strip()
        if not stripped:
            continue
        m = _WRITTEN_BY.match(stripped)
        if m:
            author = m.group("name")
        sents = list(sentence_spans(text, start, start + len(line)))
        if author and not m and stripped.startswith(author):
            out.extend(sents)  # the author box under "Written by <Name>"
            continue
        flagged = [sp for sp in sents if sig.is_furniture(text[sp[0]:sp[1]], brand)]
        if flagged and len(sents) <= BLOCK_SENTENCES and 2 * len(flagged) >= len(sents):
            out.extend(sents)
        else:
            out.extend(flagged)
    return out
