"""How a verified generated answer shares the word budget with the extractive answer's units
(no model needed: the claims are built by hand)."""

from __future__ import annotations

import pytest

from bot import Citation
from generate.claims import Claim
from generate.generator import ANSWER_WORDS, _within_budget
from generate.verify import Verified


def _unit(text: str, n: int) -> tuple[str, Citation]:
    return text, Citation(marker=n, doc="d.txt", title="Guide", section="", text=text,
                          start=0, end=len(text), score=1.0, chunk_id=f"c{n}")


def _said(text: str) -> Verified:
    return Verified(claim=Claim(text=text, cited=(1,)), support=None, marker=1)


UNITS = [_unit("Offshore support costs $8-$25 per hour in India and the Philippines.", 1),
         _unit("Nearshore teams in Mexico cost $25-$60 per hour with overlapping hours.", 2),
         _unit("Onshore providers charge the most but share your language and regulations.", 3)]


def test_a_sentence_the_model_added_gives_way_to_the_units_not_yet_said() -> None:
    restating = _said("Offshore support costs $8-$25 per hour in India and the Philippines.")
    filler = " ".join(["Many companies in many industries work with outsourcing vendors"] * 10)
    added = _said(filler + ".")
    assert len(filler.split()) + sum(len(u.split()) for u, _ in UNITS) > ANSWER_WORDS
    kept = [c for c, _ in _within_budget([(restating, True), (added, True)], UNITS)]
    assert kept == [restating]  # the two units it did not say still fit after it


@pytest.mark.parametrize("second", [
    "Prices depend on the function and the volume of work.",  # a short added sentence
    "Onshore providers charge the most but share your language and rules."])  # a restatement
def test_generated_sentences_that_leave_room_for_every_unit_all_stay(second: str) -> None:
    restating = _said("Offshore support costs $8-$25 per hour in India and the Philippines.")
    shown = [(restating, True), (_said(second), True)]
    assert _within_budget(shown, UNITS) == shown


def test_an_extractive_answer_longer_than_the_budget_sets_it() -> None:
    """The generated answer may say as much as the extractive answer it replaces: a unit not
    yet said still fits when the units alone run past `ANSWER_WORDS`."""
    from generate.generator import _budget

    long_units = [_unit(" ".join([f"{place} support costs ${n}-$25 per hour"] * 8) + ".", n)
                  for n, place in enumerate(("Offshore", "Nearshore", "Onshore"), 1)]
    words = sum(len(u.split()) for u, _ in long_units)
    assert words > ANSWER_WORDS and _budget(long_units) == words
    assert _budget(UNITS) == ANSWER_WORDS
    added = _said("Prices depend on the function and the volume of work.")
    restating = _said(long_units[0][0])
    assert _within_budget([(restating, True), (added, True)], long_units,
                          _budget(long_units)) == [(restating, True)]


def test_a_long_restatement_of_a_lower_ranked_unit_gives_way_to_a_higher_ranked_one() -> None:
    """The model restated the first and the third unit and left out the second; the third's
    restatement runs long, so the second no longer fits: the restatement goes (the ranker put
    the second unit before the third)."""
    first = _said("Offshore support costs $8-$25 per hour in India and the Philippines.")
    third = _said("Onshore providers charge the most of all the options, but they share your "
                  "language, your business culture and your regulations, which makes them the "
                  "easiest providers to manage day to day for many companies.")
    budget = len(UNITS[0][0].split()) + len(third.claim.text.split()) + 5
    assert budget < len(UNITS[0][0].split()) + len(third.claim.text.split()) + \
        len(UNITS[1][0].split())
    kept = [c for c, _ in _within_budget([(first, True), (third, True)], UNITS, budget)]
    assert kept == [first]


def test_an_extractive_list_item_keeps_its_short_label_as_part_of_its_unit() -> None:
    """"Security & compliance." is two words, too short to be a claim of the model's, but in
    the extractive answer it is the item's name: a paraphrase of the item that leaves it out
    is shown as the item."""
    from bot import Answer
    from generate.generator import _extractive_sentences, _fuller

    text = ("Run any candidate through this checklist: [1]\n- Security & compliance. What "
            "certifications do they offer? Confirm alignment with your market's law. [1]\n"
            "- Transparent pricing. Is the model clear? [1]")
    cit = _unit(text, 1)[1]
    ans = Answer(question="q", answer=text, abstained=False, citations=(cit,),
                 retrieval_query="q", backend="extractive")
    units = _extractive_sentences(ans)
    assert units[1][0].startswith("Security & compliance. What certifications")
    assert units[2][0] == "Transparent pricing. Is the model clear?"
    shown = _fuller("What certifications do they offer?", units)
    assert shown is not None and shown[0] == units[1][0]
