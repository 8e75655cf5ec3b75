"""Text normalisation, tokens and sentences shared by ingest, retrieval, answers and evals."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterator
from functools import lru_cache

__all__ = [
    "STOPWORDS",
    "content_terms",
    "normalize",
    "sentence_spans",
    "stem",
    "stems",
    "words",
]

_QUOTES = str.maketrans({"\u2018": "'", "\u2019": "'", "\u201a": "'", "\u201b": "'",
                         "\u201c": '"', "\u201d": '"', "\u201e": '"', "\u201f": '"',
                         "\u2032": "'", "\u2033": '"', "\u00b4": "'", "`": "'"})
_DASHES = re.compile(r"[\u2010\u2011\u2012\u2013\u2014\u2015\u2212]")
_SPACE = re.compile(r"\s+")

STOPWORDS = frozenset(
    """a an the of and or to in for on is are be by with as at from that this it its into than
    was were been being am do does did doing have has had having i me my we our you your he she
    they them their what which who whom whose when where why how can could should would will shall
    may might must about any all also some such there these those then so if but not no nor only
    own too very just more most other over under again further once here both each few up
    down out off between through during before after above below while because until against
    tell explain give list describe versus vs
    please know want like need get let us b c d e f g h j k l m n o p q r s t u v w x y z
    don doesn isn aren""".split()
)
"""Words that carry no topic of their own (question words, pronouns, function words)."""

_WORD = re.compile(r"\$?[0-9]+(?:[.,][0-9]+)*[%+]*|[a-z]+(?:&[a-z]+)?")


def normalize(text: str) -> str:
    """NFKC, curly quotes -> straight, en/em dashes -> '-', whitespace collapsed."""
    text = unicodedata.normalize("NFKC", text).translate(_QUOTES)
    text = _DASHES.sub("-", text)
    return _SPACE.sub(" ", text).strip()


def words(text: str) -> list[str]:
    """Lower-cased word tokens of normalised text; figures keep `$`, `%`, `+` (`$8`, `99.5%+`)."""
    return _WORD.findall(normalize(text).lower())


@lru_cache(maxsize=1)
def _stemmer():  # type: ignore[no-untyped-def]
    import Stemmer  # PyStemmer

    return Stemmer.Stemmer("english")


@lru_cache(maxsize=200_000)
def stem(word: str) -> str:
    """Snowball stem of one lower-cased word; a figure becomes its bare number (`$8` -> `8`)."""
    if word[:1].isdigit() or word[:1] == "$":
        return word.strip("$%+").replace(",", "")
    if not word.isalpha():
        return word
    return str(_stemmer().stemWord(word))


def stems(text: str, *, drop_stopwords: bool = True) -> list[str]:
    """Stems of the words of `text`, stop words removed by default."""
    return [stem(w) for w in words(text) if not (drop_stopwords and w in STOPWORDS)]


def content_terms(text: str) -> list[str]:
    """Distinct stems of `text` in order of first appearance, without stop words."""
    seen: dict[str, None] = {}
    for s in stems(text):
        seen.setdefault(s, None)
    return list(seen)


def sentence_spans(text: str, start: int = 0, end: int | None = None) -> Iterator[tuple[int, int]]:
    """Yield (start, end) offsets of the sentences in `text[start:end]`.

    Lines are hard boundaries (the guides put one paragraph, bullet or table row per line);
    inside a line the sentences are sentencex's (a maintained rule-based segmenter that
    knows abbreviations such as "e.g.", "vs." and "Art. 28"). A piece without a letter (a
    list number "1.") joins the sentence after it.
    """
    end = len(text) if end is None else end
    pos = start
    while pos < end:
        nl = text.find("\n", pos, end)
        line_end = end if nl == -1 else nl
        yield from _line_sentences(text, pos, line_end)
        pos = line_end + 1


def _line_sentences(text: str, start: int, end: int) -> Iterator[tuple[int, int]]:
    line = text[start:end]
    if not line.strip():
        return
    at = 0
    pending: int | None = None
    for piece in _segment(line):
        j = line.find(piece.strip(), at) if piece.strip() else -1
        if j < 0:
            continue
        k = j + len(piece.strip())
        at = k
        if not re.search(r"[^\W\d_]", piece):  # "1." or "-": part of the next sentence
            pending = j if pending is None else pending
            continue
        span = _trim(text, start + (pending if pending is not None else j), start + k)
        pending = None
        if span:
            yield span
    if pending is not None:
        span = _trim(text, start + pending, end)
        if span:
            yield span


@lru_cache(maxsize=200_000)
def _segment(line: str) -> tuple[str, ...]:
    import sentencex

    return tuple(sentencex.segment("en", line))


def _trim(text: str, start: int, end: int) -> tuple[int, int] | None:
    while start < end and text[start].isspace():
        start += 1
    while end > start and text[end - 1].isspace():
        end -= 1
    return (start, end) if end > start else None
