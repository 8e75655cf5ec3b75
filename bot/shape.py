"""What kind of answer a question wants: a definition, a comparison, a list, a figure..."""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from ingest.text import STOPWORDS, normalize, stems, words

__all__ = ["Shape", "question_shape"]

_COMPARE = [
    re.compile(r"\bdifferen(?:ce|t|ces)\b.*?\bbetween\s+(?P<x>.+?)\s+(?:and|&|vs\.?|versus)\s+(?P<y>.+?)[?.!]*$", re.I),
    re.compile(r"^(?:what(?:'s| is)\s+)?(?P<x>.+?)\s+(?:vs\.?|versus|compared (?:to|with)|or)\s+(?P<y>.+?)[?.!]*$", re.I),
    re.compile(r"\bhow (?:is|are|does|do)\s+(?P<x>.+?)\s+(?:differ|different)\s+(?:from|to|than)\s+(?P<y>.+?)[?.!]*$", re.I),
    re.compile(r"\b(?:is|are)\s+(?P<x>.+?)\s+(?:the same as|same thing as|different from|a type of|a kind of|part of|like)\s+(?P<y>.+?)[?.!]*$", re.I),
    re.compile(r"\bcompare\s+(?P<x>.+?)\s+(?:and|with|to|vs\.?)\s+(?P<y>.+?)[?.!]*$", re.I),
]
_DEFINE = re.compile(
    r"^\s*(?:so\s+|and\s+|ok(?:ay)?,?\s+)?(?:what(?:'s| is| are| does)|define|meaning of|explain|who (?:is|are))\b"
    r"(?:\s+(?:a|an|the))?\s*(?P<x>.+?)(?:\s+(?:stand for|mean|means|refer to|in simple terms|exactly|actually))?\s*[?.!]*$",
    re.I)
_LIST = re.compile(
    r"\b(types?|kinds?|categories|models?|steps?|stages?|phases?|benefits?|advantages?|risks?|"
    r"challenges?|disadvantages?|examples?|ways?|factors?|criteria|checklist|options?|services|"
    r"functions|tips|practices|trends?|metrics|hubs|destinations|providers|players|vendors|"
    r"standards|frameworks|signals|industries|sectors|requirements|regulations|laws|concerns|"
    r"certifications|pointers|mitigations?|drivers|reasons)\b", re.I)
_LIST_ASK = re.compile(r"^\s*(?:what|which|list|name|give|tell me|how many)\b|\b(what|which) are\b|"
                       r"\bmain\b|\bcommon\b|\bkey\b", re.I)
_NUMERIC = re.compile(
    r"\b(how much|how many|how big|how large|how long|how fast|how quickly|what percentage|"
    r"what share|what proportion|cost|costs|price|pricing|rate|rates|per hour|hourly|salary|"
    r"revenue|market size|size of|worth|valued|employees|workforce|headcount|percent|%|"
    r"benchmark|target|typical(?:ly)? (?:runs?|takes?|lasts?)|duration|months|years|fine|fines|"
    r"growth|cagr|share|number of)\b", re.I)
_DURATION = re.compile(r"\b(how long|duration|months|years|weeks|timeline|take to|time to)\b", re.I)
_YESNO = re.compile(r"^\s*(is|are|can|could|does|do|should|would|will|has|have|was|were)\b", re.I)


@dataclass(frozen=True)
class Shape:
    """The answer shape a question asks for."""

    kind: str
    """definition, comparison, list, numeric, yesno or other."""
    sides: tuple[tuple[str, ...], ...] = field(default_factory=tuple)
    """For comparisons: the content stems of each side (X, Y)."""
    subject: tuple[str, ...] = ()
    """For definitions: the content stems of the thing to define."""
    wants_number: bool = False
    wants_duration: bool = False


def _side(text: str) -> tuple[str, ...]:
    from .query import expand_query

    return tuple(dict.fromkeys(stems(expand_query(text))))


def question_shape(question: str) -> Shape:
    q = normalize(question).strip()
    wants_number = bool(_NUMERIC.search(q))
    wants_duration = bool(_DURATION.search(q))
    for pat in _COMPARE:
        m = pat.search(q)
        if m:
            x, y = _side(m.group("x")), _side(m.group("y"))
            if x and y and set(x) != set(y) and len(m.group("x").split()) <= 8 \
                    and len(m.group("y").split()) <= 8:
                return Shape("comparison", sides=(x, y), wants_number=wants_number,
                             wants_duration=wants_duration)
    content = [w for w in words(q) if w not in STOPWORDS]
    if _LIST.search(q) and _LIST_ASK.search(q) and not wants_duration:
        return Shape("list", wants_number=wants_number)
    m = _DEFINE.match(q)
    if m and len(content) <= 6 and not wants_number:
        subject = _side(m.group("x"))
        if subject:
            return Shape("definition", subject=subject)
    if wants_number:
        return Shape("numeric", wants_number=True, wants_duration=wants_duration)
    if _YESNO.match(q):
        return Shape("yesno")
    return Shape("other")
