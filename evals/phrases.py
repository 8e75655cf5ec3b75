"""Key phrases of a free-text expected answer, as `must_include` facts the corpus can support.

An expected answer (a ragas `reference`, a DeepEval `expected_output`, a promptfoo `equals`)
is prose: matching it whole would measure wording. Its figures, names and acronyms, and
multi-word terms (2-4 content words) are what a correct answer has to state; each is kept only
when the item's gold passages contain it (the corpus, for an item without any) and the question
does not (an answer repeating the question proves nothing). At most `MAX_FACTS`, figures first.

    key_phrases("Offshore work costs $8-$25 per hour.", "What does offshore cost?", corpus)
    # -> [["$8-$25", "$8"]]
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import TYPE_CHECKING

from .metrics import STOP_WORDS, normalize

if TYPE_CHECKING:
    from .corpus import Corpus

__all__ = ["MAX_FACTS", "key_phrases"]

MAX_FACTS = 3
"""Most facts taken from one expected answer."""
_FIGURE = re.compile(
    r"(?:[$€£]\s?)?\d[\d,.]*(?:\s?(?:%|percent|million|billion|thousand|[MBK]\b))?"
    r"(?:\s?(?:-|–|—|to)\s?(?:[$€£]\s?)?\d[\d,.]*(?:\s?(?:%|million|billion|[MBK]\b))?)?")
_NAME = re.compile(r"\b[A-Z][\w&'’-]*(?:\s+(?:of\s+|and\s+|&\s+)?[A-Z][\w&'’-]*)*")
_WORD = re.compile(r"[\w$%&'’.-]+")
_TOKEN = re.compile(r"[\w$%&'’.-]+|[^\w\s]")
_MORE_STOP = frozenset(
    "also are as be been being but can could do does did each even every for had has have "
    "how however i if into just like many may might more most much must no not now often "
    "only other our over per so some such their them then there these they those through "
    "very via was we were what when where which while who why will with would you your "
    "about after all any because before between both can't could don't during many most "
    "own same should than that's up usually well within without".split())
_STOP = STOP_WORDS | _MORE_STOP


def key_phrases(reference: str, question: str, corpus: Corpus, contexts: Sequence[str] = ()
                ) -> list[list[str]]:
    """Up to `MAX_FACTS` facts from a free-text expected answer: its figures, then names and
    acronyms, then multi-word terms (2-4 content words), each kept only when the gold
    `contexts` (the corpus when there are none) contain it and the question does not."""
    pool = [normalize(c).lower() for c in contexts]
    q = normalize(question).lower()
    q_words = set(_WORD.findall(q))
    chosen: list[list[str]] = []

    def held(phrase: str) -> bool:
        k = normalize(phrase).lower()
        return bool(k) and (any(k in c for c in pool) if pool else corpus.anywhere(k))

    def add(alternatives: Sequence[str]) -> bool:
        alts = [a for a in dict.fromkeys(a.strip(" .,;:") for a in alternatives) if a and held(a)]
        if not alts or len(chosen) >= MAX_FACTS:
            return False
        k = normalize(alts[0]).lower()
        if k in q or set(_WORD.findall(k)) <= q_words:
            return False  # the question already says it: no evidence of an answer
        if any(k in normalize(a).lower() or normalize(a).lower() in k
               for fact in chosen for a in fact):
            return False
        chosen.append(alts)
        return True

    text = normalize(reference)
    for m in _FIGURE.finditer(text):
        fig = m.group(0).strip(" .,")
        if not (sum(ch.isdigit() for ch in fig) >= 2 or any(ch in fig for ch in "$€£%")
                or re.search(r"[a-z]", fig, re.I)):
            continue  # a lone digit ("3 types") says too little
        low = re.split(r"\s?(?:-|–|—|to)\s?", fig)[0]
        add([fig, low] if low != fig and any(ch in low for ch in "$€£") else [fig])
    for m in _NAME.finditer(text):
        name = m.group(0)
        at_start = m.start() == 0 or text[:m.start()].rstrip().endswith((".", "!", "?", ":"))
        acronym = re.fullmatch(r"[A-Z][A-Z0-9&]+s?", name) is not None
        if (at_start and " " not in name and not acronym) or name.lower() in _STOP:
            continue  # "The", "Offshore" opening a sentence are not names
        add([name])
    for run in _runs(text):
        done = False
        for size in range(min(4, len(run)), 1, -1):
            for i in range(len(run) - size + 1):
                if add([" ".join(run[i:i + size])]):
                    done = True
                    break
            if done:
                break
    return chosen


def _runs(text: str) -> list[list[str]]:
    """Runs of consecutive content words, split at stop words and punctuation."""
    runs: list[list[str]] = [[]]
    for tok in _TOKEN.findall(text):
        word = tok.rstrip(".")
        if not _WORD.fullmatch(tok) or word.lower().strip("'’-") in _STOP:
            runs.append([])
            continue
        runs[-1].append(word)
        if tok.endswith("."):
            runs.append([])
    return [r for r in runs if len(r) >= 2]
