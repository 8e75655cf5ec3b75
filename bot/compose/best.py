"""The default answer: the few best units, across passages, under a word budget.

The answer starts from the best unit (for "what is X?", the best unit that defines X) and
adds the next best ones until the budget or the unit limit is reached, skipping near-repeats.
A unit of a passage the answer already uses competes at `SAME_PASSAGE` of its score, so
another passage's nearly-as-good point comes before a third sentence of the first. A
sentence that opens with "This...", "It..." brings the sentence before it, and a sentence
between two picked ones of the same paragraph joins them. The units of one passage are
shown together, in passage order.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from ..ranking import DEFINES, Candidate
from .render import Line

__all__ = ["SAME_PASSAGE", "WORD_BUDGET", "antecedents", "best_units", "bridged",
           "definition_first", "lines_of", "repeats", "similar", "words_of"]

WORD_BUDGET = 120
"""Soft limit on the words of an answer."""
SAME_PASSAGE = 0.7
"""A unit of a passage the answer already uses competes at this share of its score."""
REPEAT = 0.6
"""A unit with this share of its own content words in a unit already picked repeats it
(`repeats`; `similar`, which divides by the shorter of the two, serves the figures)."""

_ANAPHORIC = re.compile(r"^(?:this|that|these|those|it|its|they|their|such|both|the latter|"
                        r"the former|the last point|the first|the same|"
                        r"here(?!\s+(?:is|are)\b)|there(?!\s+(?:is|are|was|were|will|has|have|"
                        r"may|might|can|could|should|would|must)\b))\b", re.I)
"""Openings that lean on the sentence before ("This...", "It..."), not the existential
"There is/are/will be" of a self-contained sentence."""


def words_of(text: str) -> int:
    return len(text.split())


def similar(a: frozenset[str], b: frozenset[str]) -> float:
    if not a or not b:
        return 0.0
    return len(a & b) / min(len(a), len(b))


def repeats(new: frozenset[str], old: frozenset[str]) -> bool:
    """Does a unit with content words `new` say little beyond one with `old`: are
    `REPEAT` of its own words in it? A longer unit that holds a shorter one's words and
    more ("Due diligence must extend beyond price: experience, reputation, security,
    financial stability" after "Thorough vendor due diligence is non-negotiable.") adds
    what the shorter one does not say."""
    return bool(new) and len(new & old) / len(new) >= REPEAT


def antecedents(picked: list[Candidate], ranked: Sequence[Candidate]) -> list[Candidate]:
    """Picked sentences that open with "This", "It", "The last point"... with the sentence
    before them (same passage) added right before."""
    by_pos = {(c.unit.chunk.chunk_id, c.unit.position): c for c in ranked}
    out = list(picked)
    for c in picked:
        if c.unit.kind == "row" or not _ANAPHORIC.match(c.unit.text.lstrip("\"'\u201c(")):
            continue
        prev = by_pos.get((c.unit.chunk.chunk_id, c.unit.position - 1))
        if prev is not None and prev not in out and prev.unit.kind != "row":
            out.insert(out.index(c), prev)
    return out


def best_units(ranked: Sequence[Candidate], max_units: int, start: Sequence[Candidate] = (),
               budget: int = WORD_BUDGET) -> list[Candidate]:
    """The best units under the word budget (after `start`, if given), near-repeats
    skipped, with the sentences their "This..." refers to."""
    if not ranked:
        return []
    picked = list(start) or [ranked[0]]
    words = sum(words_of(c.unit.text) for c in picked)
    rest = [c for c in ranked if c not in picked]
    while rest and len(picked) < max_units:
        used = {p.unit.chunk.chunk_id for p in picked}
        c = max(rest, key=lambda c: c.score * (SAME_PASSAGE if c.unit.chunk.chunk_id in used
                                               else 1.0))
        rest.remove(c)
        n = words_of(c.unit.text)
        if words + n > budget:
            continue
        if any(repeats(c.unit.stems, p.unit.stems) for p in picked):
            continue
        picked.append(c)
        words += n
    return bridged(antecedents(picked, ranked), ranked)


def bridged(picked: list[Candidate], ranked: Sequence[Candidate]) -> list[Candidate]:
    """A sentence that sits between two picked sentences of one paragraph joins them: "A
    perceived loss of control is a concern. [...] The goal is to maintain control" without
    the sentence between them drops what the paragraph says to do. The budget gives way (by
    one sentence per gap): the two picked sentences already say the paragraph answers."""
    by_pos = {(c.unit.chunk.chunk_id, c.unit.position): c for c in ranked}
    out = list(picked)
    for c in picked:
        gap = by_pos.get((c.unit.chunk.chunk_id, c.unit.position + 1))
        after = by_pos.get((c.unit.chunk.chunk_id, c.unit.position + 2))
        if gap is None or after is None or gap in out or after not in out:
            continue
        if c.unit.kind == gap.unit.kind == after.unit.kind == "sentence" and \
                c.unit.line == gap.unit.line == after.unit.line and not gap.unit.about_document:
            out.insert(out.index(c) + 1, gap)
    return out


def definition_first(picked: list[Candidate]) -> list[Candidate]:
    """The first picked unit that defines the subject, moved to the front."""
    defs = [c for c in picked if c.features[DEFINES] > 0]
    if not defs or defs[0] is picked[0]:
        return picked
    return [defs[0]] + [c for c in picked if c is not defs[0]]


def lines_of(picked: Sequence[Candidate]) -> list[Line]:
    """The answer's lines: the first unit leads, then what its passage adds (in passage
    order), then the next passage's units...; an item's label is shown once before its
    consecutive sentences ("Philippines (offshore): ...")."""
    if not picked:
        return []
    order: list[Candidate] = []
    for c in picked:
        if c in order:
            continue
        if not order:
            order.append(c)
        order.extend(sorted((t for t in picked if t.unit.chunk.chunk_id == c.unit.chunk.chunk_id
                             and t not in order), key=lambda t: t.unit.position))
    lines = []
    shown: tuple[str, str] = ("", "")
    for c in order:
        u = c.unit
        text = u.text.strip()
        if u.label and u.kind != "row" and u.label.lower() not in text.lower() and \
                (u.chunk.chunk_id, u.label) != shown:
            text = f"{u.label}: {text}"
        shown = (u.chunk.chunk_id, u.label)
        lines.append(Line(text, c))
    return lines

