"""The extractive answerer: the units (sentences, list items, table rows) of the retrieved
passages that answer the question, each cited. One strategy per module:

    best.py         the few best units under a word budget (the default, and definitions:
                    the best unit that defines the subject leads)
    listing.py      the guide's own list: lead, items in order, "and N more"
    comparison.py   both sides, side by side when a table or list labels each
    figures.py      the figure asked for, and every guide's figure for the same thing
    render.py       markers [n] and the citations' spans

`compose` picks the strategy from the parsed question and what the passages hold.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from ..question import Question
from ..ranking import DEFINES, Candidate
from ..vocab import Vocabulary
from .best import best_units, definition_first, lines_of
from .comparison import cover_sides, side_by_side
from .figures import figure_units
from .listing import ListModel, Neighbour, choose_list, list_lines
from .render import Composition, Line, render

__all__ = ["Composition", "Line", "ListModel", "compose"]

DEFINITION_LEAD = 0.3
"""For "what is X?", the best unit that defines X leads when it scores this share of the
best unit."""


def compose(q: Question, ranked: Sequence[Candidate], vocab: Vocabulary, *, max_units: int = 5,
            similarity: Callable[[str, list[str]], list[float]] | None = None,
            neighbour: Neighbour | None = None, lists: ListModel | None = None) -> Composition:
    """A short answer with inline `[n]` markers from the ranked units (best first).
    `similarity` compares texts (the bot's embedder); `neighbour` finds a chunk's neighbours
    (to answer a list split across chunks whole); `lists` decides list answers."""
    if not ranked:
        return Composition("", (), ())
    if q.shape == "comparison":
        rows = side_by_side(q, ranked, vocab)
        picked = best_units(ranked, max_units, start=rows)
        picked = cover_sides(picked, q, ranked, vocab, max_units)
        return render(lines_of(picked), strategy="comparison")
    group = choose_list(q, ranked, vocab, lists or ListModel.default(), neighbour)
    if group is not None:
        return render(list_lines(group, q, ranked, similarity), strategy="list")
    if q.figures:
        figs, disagree = figure_units(q, ranked, vocab, max_units)
        if figs:
            return render(lines_of(best_units(ranked, max_units, start=figs)),
                          disagreement=disagree, strategy="figures")
    start: list[Candidate] = []
    if q.shape == "definition":
        lead = next((c for c in ranked if c.features[DEFINES] > 0), None)
        if lead is not None and lead.score >= DEFINITION_LEAD * ranked[0].score:
            start = [lead]
    picked = best_units(ranked, max_units, start=start)
    if q.shape == "definition":
        picked = definition_first(picked)
    return render(lines_of(picked), strategy="definition" if start else "best")
