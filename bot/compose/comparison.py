"""Comparisons: "X vs Y" answered side by side.

A table or list with a row (or item) labelled X and one labelled Y answers it best: those
two rows open the answer, from the passage whose labelled units score best (rows labelled
by the side itself before rows whose label only mentions it). A table with a column for X
and one for Y answers with its best row. Otherwise the best units are taken and each side
is made sure of: a unit labelled by a side that is missing is brought in, else the best unit
that mentions it.
"""

from __future__ import annotations

from collections.abc import Sequence

from ingest.text import stems
from ingest.units import table_header

from ..question import Question
from ..ranking import Candidate
from ..retrieval import sides_labelled
from ..vocab import Vocabulary

__all__ = ["cover_sides", "side_by_side"]

SIDE_FLOOR = 0.3
"""A unit scoring under this share of the best is not brought in to cover a side."""


def _labels(label: str, side: frozenset[str], vocab: Vocabulary) -> bool:
    return bool(label) and bool(side) and side <= vocab.widen(frozenset(stems(label)))


def side_by_side(q: Question, ranked: Sequence[Candidate], vocab: Vocabulary
                 ) -> list[Candidate]:
    """The rows (or items) of one passage labelled by each side, or a table's best row when
    it has a column per side; [] when no passage labels every side."""
    sides = q.side_stems()
    by_chunk: dict[str, list[Candidate]] = {}
    for c in ranked:
        if c.unit.label:
            by_chunk.setdefault(c.unit.chunk.chunk_id, []).append(c)
    columns = next((c for c in ranked if c.unit.kind == "row" and sides_labelled(
        sides, list(table_header(c.unit.chunk)), vocab) >= 1.0), None)
    best: list[Candidate] = [columns] if columns is not None else []
    best_key = (0, sum(c.score for c in best))
    for units in by_chunk.values():
        rows: list[Candidate] = []
        for side in sides:
            row = next((c for c in units if _labels(c.unit.label, side, vocab)), None)
            if row is None or row in rows:
                break
            # an item split into sentences: its first sentence says what the side is
            rows.append(min((c for c in units if c.unit.label == row.unit.label),
                            key=lambda c: c.unit.position))
        else:
            exact = sum(1 for c, side in zip(rows, sides, strict=True)
                        if frozenset(stems(c.unit.label)) <= vocab.widen(side))
            key = (exact, sum(c.score for c in rows))
            if key > best_key:
                best, best_key = rows, key
    return best


def cover_sides(picked: list[Candidate], q: Question, ranked: Sequence[Candidate],
                vocab: Vocabulary, max_units: int) -> list[Candidate]:
    """`picked` with each side of the comparison covered by some unit."""
    out = list(picked)
    floor = ranked[0].score * SIDE_FLOOR if ranked else 0.0
    for side in q.side_stems():
        labelled = [c for c in ranked if _labels(c.unit.label, side, vocab) and c.score >= floor]
        if labelled and not any(c in out for c in labelled):
            if len(out) >= max_units:
                out = out[:-1]
            out.append(labelled[0])
            continue
        if any(side & vocab.widen(c.unit.stems | c.unit.label_stems) for c in out):
            continue
        for c in ranked:
            if side & vocab.widen(c.unit.stems | c.unit.label_stems) and c not in out \
                    and c.score >= floor:
                if len(out) >= max_units:
                    out = out[:-1]
                out.append(c)
                break
    return out
