"""The words of an index: every word the documents use (for spelling correction) and the
acronyms they spell out themselves ("Knowledge Process Outsourcing (KPO)", "ITES (IT-enabled
services)"), found at ingest and stored with each generation as `terms.json`.

Nothing here knows the BPO guides: any corpus that writes "Long Form (LF)" or "LF (Long
Form)" teaches the bot its acronyms.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from .chunking import Chunk, line_kind

__all__ = ["Terms", "acronyms_in", "corpus_terms"]

_WORD = re.compile(r"[a-z][a-z'-]*[a-z]|[a-z]")
_LOWER = re.compile(r"(?<![A-Za-z'-])[a-z][a-z'-]*[a-z](?![A-Za-z'-])")
_INSIDE = re.compile(r"(?<=[A-Za-z0-9,;)]\s)([A-Z][A-Za-z'-]*[A-Za-z])")
NAME_SHARE = 0.9
"""A word the documents write with capitals this often is a name (or an acronym)."""
_SMALL = frozenset({"of", "and", "the", "for", "to", "in", "on", "a", "an", "&", "de", "as"})
_LONG_THEN_SHORT = re.compile(
    r"((?:[A-Za-z][\w'&/-]*\s+){0,7}[A-Za-z][\w'&/-]*)\s*\(\s*([A-Z][A-Za-z&]*[A-Z])(s?)\s*\)")
_SHORT_THEN_LONG = re.compile(
    r"\b([A-Z][A-Za-z&]*[A-Z])(s?)\s*\(\s*([A-Za-z][\w'&/ -]{3,80}?)\s*[),;:]")


@dataclass(frozen=True)
class Terms:
    """What a generation's documents say, word by word."""

    words: dict[str, int] = field(default_factory=dict)
    """Lower-case words and how often the documents use them."""
    acronyms: dict[str, str] = field(default_factory=dict)
    """Acronyms the documents spell out: lower-case short form -> long form."""
    lowercase: dict[str, int] = field(default_factory=dict)
    """How often each word is written all in lower case: names and acronyms ("Accenture",
    "Poland", "GDPR") almost never are, other words mostly."""
    inside: dict[str, int] = field(default_factory=dict)
    """How often each word is written with a capital after another word of its sentence
    (not as a sentence's first word), outside headings."""
    prose: dict[str, int] | None = None
    """How often each word is used outside headings (None: an index written before it was
    counted, where `words` stands in)."""

    def to_json(self) -> dict[str, Any]:
        return {"words": self.words, "acronyms": self.acronyms, "lowercase": self.lowercase,
                "inside": self.inside, "prose": self.prose}

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Terms:
        prose = data.get("prose")
        return cls({str(k): int(v) for k, v in dict(data.get("words", {})).items()},
                   {str(k): str(v) for k, v in dict(data.get("acronyms", {})).items()},
                   {str(k): int(v) for k, v in dict(data.get("lowercase", {})).items()},
                   {str(k): int(v) for k, v in dict(data.get("inside", {})).items()},
                   None if prose is None else {str(k): int(v) for k, v in dict(prose).items()})

    def capitalised(self, word: str) -> bool:
        """Do the documents write `word` (lower-case) with capitals at least `NAME_SHARE` of
        the times they use it (as they write names and acronyms)? Only text outside headings
        counts: a Title Case heading ("Market Size & Analyst Coverage") capitalises every
        word, so it says nothing of which words are names."""
        n = (self.prose if self.prose is not None else self.words).get(word, 0)
        return n > 0 and self.lowercase.get(word, 0) <= (1 - NAME_SHARE) * n


def _letters(short: str) -> str:
    return re.sub(r"[^A-Z]", "", short)


def _match(short: str, words: list[str]) -> str:
    """The shortest run of `words`, ending at the last one, whose initials (small words
    skipped; hyphenated parts each count) spell `short`, or ""."""
    want = _letters(short)
    if len(want) < 2:
        return ""
    for n in range(1, min(len(words), 8) + 1):
        run = words[-n:]
        if run[0].lower() in _SMALL:
            continue
        parts = [p for w in run for p in re.split(r"[-/]", w) if p]
        initials = "".join(p[0].upper() for p in parts if p.lower() not in _SMALL)
        full = "".join(p[0].upper() for p in parts)
        if want in (initials, full) or (len(want) > 2 and _subsequence(want, initials)
                                        and initials[0] == want[0] and len(run) >= len(want)):
            return " ".join(run)
    return ""


def _subsequence(short: str, long: str) -> bool:
    it = iter(long)
    return all(ch in it for ch in short)


def acronyms_in(text: str) -> dict[str, str]:
    """Acronyms a text defines: "Knowledge Process Outsourcing (KPO)" and "KPO (knowledge
    process outsourcing)" -> {"kpo": "knowledge process outsourcing"}."""
    out: dict[str, str] = {}
    for m in _LONG_THEN_SHORT.finditer(text):
        long = _match(m.group(2), m.group(1).split())
        if long:
            out.setdefault(m.group(2).lower(), long.lower())
    for m in _SHORT_THEN_LONG.finditer(text):
        words = m.group(3).split()
        short = m.group(1)
        for k in range(len(words), 0, -1):  # "ITES (IT-enabled services)": from the front
            if _match(short, words[:k]) == " ".join(words[:k]) and \
                    words[0][0].upper() == _letters(short)[0]:
                out.setdefault(short.lower(), " ".join(words[:k]).lower())
                break
    return out


def corpus_terms(chunks: Iterable[Chunk]) -> Terms:
    """The words and self-defined acronyms of a generation's chunks (headings included)."""
    words: Counter[str] = Counter()
    prose: Counter[str] = Counter()
    lower: Counter[str] = Counter()
    inside: Counter[str] = Counter()
    acronyms: dict[str, str] = {}
    for c in chunks:
        words.update(_WORD.findall(f"{c.section}\n{c.text}".lower()))
        body = "\n".join(ln for ln in c.text.split("\n") if line_kind(ln) != "heading")
        prose.update(_WORD.findall(body.lower()))
        lower.update(_LOWER.findall(body))
        inside.update(m.group(1).lower() for m in _INSIDE.finditer(body))
        for k, v in acronyms_in(c.text).items():
            acronyms.setdefault(k, v)
    return Terms(dict(words), acronyms, dict(lower), dict(inside), dict(prose))
