"""Figure answers: "how much / how many / how long" answered with the figure.

The best unit giving a figure of the asked kind leads (`bot.figures`), when it scores at
least `LEAD` of the best unit. Units of other passages that give a *different* figure for
the *same thing* follow - the guides do not always agree - with a note saying so. The same
thing: both units cover the question's words as well (`SAME_SUBJECT`) and say much the same
besides their figures (`SAME_STATEMENT` of their other words), so an unrelated figure (an
LPO price next to a nearshore one) is never called a disagreement.
"""

from __future__ import annotations

from collections.abc import Sequence

from ingest.text import stems

from ..figures import figures_in, kinds_in, values_in
from ..question import Question
from ..ranking import Candidate
from ..vocab import Vocabulary
from .best import REPEAT, WORD_BUDGET, similar, words_of

__all__ = ["figure_units"]

LEAD = 0.5
"""The best unit with a figure of the asked kind leads when it scores this share of the best."""
SAME_SUBJECT = 0.85
"""Another unit's figure is for the same question when it covers its words this well."""
SAME_STATEMENT = 0.4
"""...and the two units share this share of their words besides the figures."""
POOL = 40


def _coverage(c: Candidate, q: Question, vocab: Vocabulary) -> float:
    bag = vocab.widen(c.unit.stems | c.unit.scope_stems)
    total = sum(q.terms.values()) or 1.0
    return sum(w for t, w in q.terms.items() if t in bag) / total


def _words_besides_figures(text: str) -> frozenset[str]:
    out = text
    for f in reversed(figures_in(text)):
        out = out[:f.start] + " " + out[f.end:]
    return frozenset(stems(out))


def figure_units(q: Question, ranked: Sequence[Candidate], vocab: Vocabulary,
                 max_units: int) -> tuple[list[Candidate], bool]:
    """The units that answer a figure question, and whether the guides disagree on it."""
    wants = q.figures - {"number"}
    def gives(c: Candidate) -> bool:
        return bool(kinds_in(c.unit.text) & wants) if wants else c.unit.has_number
    with_fig = [c for c in ranked[:POOL] if gives(c) and not c.unit.about_document]
    if not with_fig or with_fig[0].score < ranked[0].score * LEAD:
        return [], False
    top = with_fig[0]
    kinds = kinds_in(top.unit.text) & wants if wants else kinds_in(top.unit.text)
    seen = values_in(top.unit.text)
    top_cov = _coverage(top, q, vocab)
    top_words = _words_besides_figures(top.unit.text)
    picked = [top]
    words = words_of(top.unit.text)
    disagree = False
    for c in with_fig[1:]:
        if len(picked) >= max_units or c.unit.chunk.chunk_id == top.unit.chunk.chunk_id:
            continue
        if _coverage(c, q, vocab) < top_cov * SAME_SUBJECT:
            continue
        if any(similar(c.unit.stems, p.unit.stems) >= REPEAT for p in picked):
            continue
        if not (kinds_in(c.unit.text) & kinds) or values_in(c.unit.text) <= seen:
            continue
        if similar(_words_besides_figures(c.unit.text), top_words) < SAME_STATEMENT:
            continue
        if words + words_of(c.unit.text) > WORD_BUDGET:
            continue
        picked.append(c)
        seen |= values_in(c.unit.text)
        words += words_of(c.unit.text)
        disagree = True
    return picked, disagree
