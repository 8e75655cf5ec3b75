"""Does a sentence define a term? "Business process outsourcing (BPO) is the practice of...",
"BPO means...", "KTP: a documented process..." define BPO and KTP; "Offshore BPO is cheaper"
and "BPO stands for business process outsourcing." (it names, it does not say what) do not.

General English: the sentence opens with the term (or its other form, `bot.vocab`) and a
defining verb or a colon, and says at least `MIN_STEMS` things besides the term.
"""

from __future__ import annotations

import re
from functools import lru_cache

from ingest.text import normalize, stems

from .vocab import Vocabulary

__all__ = ["defines"]

_DEFINING_VERB = re.compile(r"\s+(?:is|are|means|refers? to|stands? for|describes?|denotes?|"
                            r"involves?)\s|\s*(?:\u2014|:|\s-)\s", re.I)
_HEAD_EXTRAS = frozenset({"term", "simpli", "simpl", "put", "short", "essenti", "basic",
                          "definit", "word", "acronym", "abbrevi", "label"})
"""Words a definition's head may carry besides the term ("Simply put, BPO is...")."""
MAX_HEAD_WORDS = 10
MIN_STEMS = 3
"""A definition says at least this many things (content stems) besides the term itself."""


@lru_cache(maxsize=100_000)
def _heads(text: str) -> tuple[frozenset[str], ...]:
    """The stems of what `text` opens by defining: the words before its first defining verb,
    whole and split at commas ("Simply put, BPO is...")."""
    t = re.sub(r"^[\s\-*\u2022\d.)\"'\u201c]+", "", normalize(text))
    m = _DEFINING_VERB.search(t[:200])
    if not m:
        return ()
    head = t[:m.start()]
    if not head or len(head.split()) > MAX_HEAD_WORDS or re.search(r"[.!?;:]", head):
        return ()
    parts = [head] + [p for p in head.split(",") if p.strip()] if "," in head else [head]
    return tuple(frozenset(stems(p)) for p in parts)


def defines(text: str, label: str, subject: frozenset[str], vocab: Vocabulary) -> bool:
    """Does `text` (with its `label`, "KTP" in "KTP: a documented process") define the
    term whose stems are `subject`?"""
    if not subject or text.rstrip().endswith("?"):
        return False
    want = vocab.widen(subject)
    if len(frozenset(stems(text)) - want - _HEAD_EXTRAS) < MIN_STEMS:
        return False  # "BPO stands for business process outsourcing." names, not defines
    heads = list(_heads(text))
    if label:
        heads.append(frozenset(stems(label)))
    for h in heads:
        if not h:
            continue
        wide = vocab.widen(h)
        if subject <= wide and h - want <= _HEAD_EXTRAS:
            return True
    return False
