"""The default answer's choice of sentences (`bot.compose.best`), on a passage built here."""

from __future__ import annotations

from bot.compose.best import best_units, lines_of
from bot.ranking import UNIT_FEATURES, Candidate
from ingest.chunking import Chunk
from ingest.units import units_of

PARAGRAPH = ("Losing control of the work is a common worry. Handing over a function means "
             "giving up daily oversight. To counter it, agree clear metrics, regular reports "
             "and a feedback loop. The aim is control of outcomes without micromanaging.")


def _ranked(scores: dict[int, float]) -> list[Candidate]:
    """The paragraph's sentences as ranked candidates, with `scores` by position."""
    chunk = Chunk(chunk_id="policy.txt::0::x", doc_id="policy.txt", title="Policy",
                  section="Risks", kind="paragraph", text=PARAGRAPH, start=0,
                  end=len(PARAGRAPH), ordinal=0)
    units = units_of(chunk)
    assert [u.kind for u in units] == ["sentence"] * 4
    cands = [Candidate(u, None, (0.0,) * len(UNIT_FEATURES), 0.0,  # type: ignore[arg-type]
                       scores.get(u.position, 0.0)) for u in units]
    return sorted(cands, key=lambda c: -c.score)


def test_a_sentence_between_two_picked_sentences_of_a_paragraph_joins_them() -> None:
    """The sentence that says what to do scores low against "how do I keep control?" (it
    never says "control"); the sentences around it are picked, so it is shown too."""
    ranked = _ranked({0: 0.9, 1: 0.8, 2: 0.1, 3: 0.7})
    picked = best_units(ranked, max_units=3)
    assert [line.text for line in lines_of(picked)] == [u.unit.text for u in sorted(
        ranked, key=lambda c: c.unit.position)]


def test_a_sentence_after_the_picked_ones_is_not_added() -> None:
    ranked = _ranked({0: 0.9, 1: 0.8, 2: 0.1, 3: 0.05})
    picked = best_units(ranked, max_units=2)
    assert [c.unit.position for c in picked] == [0, 1]


def test_a_unit_that_says_more_than_a_picked_one_is_no_repeat() -> None:
    """"Due diligence must cover experience, reputation, security and financial stability"
    holds the words of "Vendor due diligence is essential." and more: it is no repeat of
    it. The short one, after the long one, is."""
    from bot.compose.best import repeats
    from ingest.text import stems

    short = frozenset(stems("Vendor due diligence is essential."))
    long = frozenset(stems("Vendor due diligence must cover experience, reputation, "
                           "security and financial stability."))
    assert not repeats(long, short)
    assert repeats(short, long)
