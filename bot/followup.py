"""Follow-ups: a question that leans on the conversation, rewritten to stand alone.

- A pointer into the last answer's list ("the second one", "the last option", "the
  lock-in one") is replaced by the item it points to: "What's the catch with the second
  one?" after "Per hour / FTE ..., Time & materials ..." asks about time & materials.
- A new focus for the last question ("and what about nearshore?", "how about for
  healthcare?") takes the place of the part of the last question it is most like:
  "What does offshore BPO cost?" + "and nearshore?" -> "What does nearshore BPO cost?".
  Which part is decided by embedding similarity, not by a list of interchangeable words.
- Anything else that leans on the conversation (a pronoun, "which of those...", very few
  words of its own) is searched together with the last question's words.

Only the last user turn is used (itself made standalone first), so the topic of an
unrelated earlier turn never leaks in. Nothing here knows the BPO guides.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from ingest.text import STOPWORDS, normalize, words

__all__ = ["Resolved", "Turn", "enumerated", "resolve"]

SUBSTITUTE_SIM = 0.45
"""A new focus replaces the part of the last question it is at least this similar to
(cosine of their embeddings); below it, it is added to the last question instead."""
MAX_DEPTH = 3
"""Earlier turns made standalone in turn, at most this far back."""


@dataclass(frozen=True)
class Turn:
    """One message of a conversation."""

    role: str
    """`user` or `assistant`."""
    content: str
    """The message text."""


@dataclass(frozen=True)
class Resolved:
    """A question made standalone."""

    text: str
    """The standalone question (the question itself when it is not a follow-up)."""
    follow_up: bool = False
    previous: str = ""
    """The (standalone) earlier question it leans on."""
    asked: str = ""
    """What the question itself asks: `text` without the earlier turn's words it was given
    in parentheses ("which of those is riskiest (per invoice; per call)?" asks for no
    price); empty when that is all of `text`."""


_CUE = re.compile(r"^\s*(?:and|also|but|so|then|ok(?:ay)?|alright|right|same|what about|"
                  r"how about|what if|versus|vs\.?|compared to|which one|which of)\b", re.I)
_FOCUS = re.compile(r"^\s*(?:(?:ok(?:ay)?|and|so|but)[,\s]+)*(?:what|how)\s+about\s+(?:for\s+|"
                    r"with\s+|in\s+)?(?P<x>.+?)\s*[?.!]*$|^\s*and\s+(?:for\s+|with\s+|in\s+)?"
                    r"(?P<y>[^?]{1,40}?)\s*[?.!]*$", re.I)
_PRONOUN = re.compile(r"\b(?:it|its|it's|this|that|these|those|they|them|their|there|such|"
                      r"either|both|which of (?:them|those|these))\b", re.I)
_ORDINALS = {"first": 0, "1st": 0, "second": 1, "2nd": 1, "third": 2, "3rd": 2, "fourth": 3,
             "4th": 3, "fifth": 4, "5th": 4, "sixth": 5, "6th": 5, "seventh": 6, "7th": 6,
             "last": -1, "former": 0, "latter": -1}
_ORDINAL = re.compile(r"\bthe\s+(?P<n>" + "|".join(_ORDINALS) + r")(?:\s+(?:one|ones|option|"
                      r"item|point|kind|type|choice|model|approach|step|thing)\b|"
                      r"(?=\s*(?:[?.!,;)]|$)))", re.I)
_NUMBERED = re.compile(r"(?:\b(?:step|stage|phase|item|point|option|number|no\.)|#)\s*"
                       r"(?P<d>\d{1,2})\b", re.I)
"""A pointer by number: "what happens in step 4?", "tell me more about option 2"."""
_INLINE_NUMBER = re.compile(r"(?:^|(?<=[\s,;:]))\(?(?P<d>\d{1,2})[.)]\s+")
"""A number opening an item of a list written on one line ("1) identification, 2) ...")."""
_NAMED_ONE = re.compile(r"\bthe\s+(?P<w>[a-z][\w&/-]*(?:\s+[a-z][\w&/-]*)?)\s+one\b", re.I)
_PLURAL = re.compile(r"\b(?:these|those|them|they|which of|any of|each of|all of)\b", re.I)
_MARKERS = re.compile(r"\s*\[\d+\]")
_BULLET = re.compile(r"^\s*(?:[-*\u2022]|\d{1,2}[.)])\s+")
_MORE = re.compile(r"^and\s+\d+\s+more\b:?\s*(?P<names>.*)$", re.I)
"""The last bullet of a list answer that was cut short ("and 2 more: Quality, Cost")."""
_LIST_SEP = re.compile(r",\s*(?:and\s+|or\s+)?|\s+and\s+|;\s*")


def _content(text: str) -> list[str]:
    out: list[str] = []
    for w in words(text):
        if w not in STOPWORDS and len(w) > 1 and w not in out:
            out.append(w)
    return out


def enumerated(answer: str) -> list[str]:
    """The items an answer lists, in order: those of a list it shows (`_listed`), else the
    comma/"and"-separated items of its first sentence that lists some."""
    return _listed(answer) or _sentence_items(answer)


def _sentence_items(answer: str) -> list[str]:
    """The comma/"and"-separated items of the first sentence of `answer` that lists some."""
    for sentence in re.split(r"(?<=[.!?])\s+", _MARKERS.sub("", answer)):
        body = sentence.split(":", 1)[1] if ":" in sentence[:100] else sentence
        lead = re.match(r"^.*?\b(?:are|is|include|includes|including|namely|:)\s+",
                        body.split(",", 1)[0], re.I)
        if lead and _LIST_SEP.search(body[lead.end():]):
            body = body[lead.end():]
        parts = [p.strip(" .") for p in _LIST_SEP.split(body)]
        parts = [p for p in parts if p and len(p.split()) <= 8]
        if len(parts) >= 3:
            return parts
    return []


def _listed(answer: str) -> list[str]:
    """The items of a list an answer shows, in order: numbered on one line ("1) a 2) b 3)
    c"), or its bullet lines (each by its label: the text before ": " or " - "); [] when it
    shows none."""
    text = _MARKERS.sub("", answer)
    inline = _inline_items(text)
    if inline:
        return inline
    bullets = [_BULLET.sub("", ln).strip() for ln in text.splitlines() if _BULLET.match(ln)]
    if len(bullets) < 2:
        return []
    out: list[str] = []
    for b in bullets:
        more = _MORE.match(b)
        if more:  # the answer's own "and 3 more: A, B, C": the names are items
            out.extend(n.strip(" .") for n in re.split(r",\s*", more.group("names") or "")
                       if n.strip(" ."))
            continue
        label = re.split(r":\s|\s[-\u2013\u2014]\s|\.\s", b, maxsplit=1)[0].strip(" .")
        out.append(label if len(label.split()) <= 8 else
                   re.split(r"[.;,]\s", b, maxsplit=1)[0].strip())
    return out


def _inline_items(text: str) -> list[str]:
    """The items of a numbered list written on one line ("1) process identification, 2)
    vendor selection, 3) ..."): at least three, numbered 1, 2, 3... in order."""
    run: list[re.Match[str]] = []
    for m in _INLINE_NUMBER.finditer(text):
        if int(m.group("d")) == len(run) + 1:
            run.append(m)
    if len(run) < 3:
        return []
    ends = [m.start() for m in run[1:]] + [len(text)]
    out = []
    for m, end in zip(run, ends, strict=True):
        item = re.sub(r"(?:[,;]\s*(?:and\s+)?|\s+and)\s*$", "", text[m.end():end].strip())
        item = re.split(r"(?<=[.!?])\s", item, maxsplit=1)[0].strip(" .")
        label = re.split(r":\s|\s[-\u2013\u2014]\s", item, maxsplit=1)[0].strip(" .")
        out.append(label if len(label.split()) <= 8 else item)
    return out


def _point(question: str, answer: str) -> str | None:
    """The question with a pointer into `answer`'s list replaced by the item, or None."""
    shown = _listed(answer)
    items = shown or _sentence_items(answer)
    if not items:
        return None
    m = _ORDINAL.search(question)
    if m:
        k = _ORDINALS[m.group("n").lower()]
        if k < len(items):
            return question[:m.start()] + items[k] + question[m.end():]
        return None
    m = _NUMBERED.search(question)
    if m:
        # "step 4" counts the items of a list the answer shows as one (bullets, "1) ... 2)
        # ..."), not the commas of a sentence ("payroll, bookkeeping, ... process")
        k = int(m.group("d")) - 1
        if 0 <= k < len(shown):
            return question[:m.start()] + shown[k] + question[m.end():]
        return None
    m = _NAMED_ONE.search(question)
    if m:
        want = set(_content(m.group("w")))
        hit = next((it for it in items if want and want <= set(_content(it))), None)
        if hit:
            return question[:m.start()] + hit + question[m.end():]
    return None


def is_follow_up(question: str) -> bool:
    """Does the question lean on earlier turns (a cue, a pointer, a pronoun in a short
    question, or no words of its own)?"""
    own = _content(question)
    if _CUE.match(question) or _ORDINAL.search(question) or _NAMED_ONE.search(question) or \
            _NUMBERED.search(question):
        return True
    if _PRONOUN.search(question) and len(own) <= 6:
        return True
    return not own


def _substitute(previous: str, focus: str,
                similarity: Callable[[str, list[str]], list[float]] | None) -> str:
    """`previous` with the part most like `focus` replaced by it ("What does offshore BPO
    cost?" + "nearshore" -> "What does nearshore BPO cost?"), or both joined."""
    prev_words = [m for m in re.finditer(r"[A-Za-z][\w&/-]*", previous)
                  if m.group(0).lower() not in STOPWORDS]
    spans = [(a.start(), b.end()) for i, a in enumerate(prev_words)
             for b in prev_words[i:i + 2]]
    if similarity is not None and spans:
        sims = similarity(focus, [previous[a:b] for a, b in spans])
        best = max(range(len(spans)), key=lambda i: (sims[i], -(spans[i][1] - spans[i][0])))
        if sims[best] >= SUBSTITUTE_SIM and set(_content(focus)) != set(
                _content(previous[spans[best][0]:spans[best][1]])):
            a, b = spans[best]
            return previous[:a] + focus + previous[b:]
    return f"{previous.rstrip(' ?.!')} {focus}?"


def resolve(question: str, history: Sequence[Turn],
            similarity: Callable[[str, list[str]], list[float]] | None = None,
            depth: int = 0) -> Resolved:
    """`question` made standalone with the conversation before it (see the module doc).
    `similarity(text, candidates)` gives cosine similarities (the bot's embedder)."""
    q = normalize(question)
    users = [i for i, t in enumerate(history) if t.role == "user" and t.content.strip()]
    if not users or depth >= MAX_DEPTH or not is_follow_up(q):
        return Resolved(q)
    last = users[-1]
    previous = resolve(history[last].content, history[:last], similarity, depth + 1).text
    answers = [t.content for t in history[last + 1:] if t.role == "assistant"]
    pointed = _point(q, answers[-1]) if answers else None
    if pointed is not None:
        own = set(_content(pointed))
        topic = [w for w in _content(previous) if w not in own]
        text = pointed if not topic else f"{pointed.rstrip(' ?.!')} ({' '.join(topic[:6])})?"
        return Resolved(text, True, previous, pointed)
    m = _FOCUS.match(q)
    focus = (m.group("x") or m.group("y")) if m else None
    if focus and len(_content(focus)) <= 4 and not _PRONOUN.search(focus):
        return Resolved(_substitute(previous, focus, similarity), True, previous)
    own = set(_content(q))
    topic = [w for w in _content(previous) if w not in own]
    items = enumerated(answers[-1]) if answers and _PLURAL.search(q) else []
    if items:  # "which of those is cheapest?": those = the items just listed
        topic = [*topic[:4], *items[:5]]
    if not topic:
        return Resolved(q, True, previous)
    return Resolved(f"{q.rstrip(' ?.!')} ({'; '.join(topic[:9])})?", True, previous, q)
