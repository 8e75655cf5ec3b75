"""Whether a list answers (`bot.compose.listing.choose_list`), on a passage built here."""

from __future__ import annotations

from bot.compose.listing import LIST_FEATURES, ListModel, choose_list
from bot.question import Question
from bot.ranking import UNIT_FEATURES, Candidate
from bot.retrieval import Hit
from bot.vocab import Vocabulary
from ingest.chunking import Chunk
from ingest.units import units_of

TEXT = ("Each phase of the process sets expectations for the partnership.\n"
        "- Identify: pick the work to hand over.\n"
        "- Select: choose a provider.\n"
        "- Transition: move the work across.\n")


def test_a_list_whose_lead_sentence_is_the_best_unit_answers() -> None:
    """The sentence that introduces the steps matches "walk me through how it works" best
    and the steps score far below it: the sentence belongs to the list (it is its lead), so
    the list answers, not the best units."""
    chunk = Chunk(chunk_id="process.txt::0::x", doc_id="process.txt", title="Process",
                  section="How it works", kind="list", text=TEXT, start=0, end=len(TEXT),
                  ordinal=0)
    hit = Hit(chunk=chunk, score=1.0, dense=0.5, lexical=1.0, rank=0)
    scores = [0.9, 0.2, 0.2, 0.2]
    ranked = [Candidate(u, hit, (0.0,) * len(UNIT_FEATURES), 0.0, s)
              for u, s in zip(units_of(chunk), scores, strict=True)]
    assert ranked[0].unit.kind == "sentence" and 0.2 < 0.7 * 0.9  # below COMPETITIVE
    q = Question(asked="walk me through how it works", text="walk me through how it works",
                 query="walk me through how it works", shape="list")
    anything = ListModel((0.0,) * len(LIST_FEATURES), 0.0, 0.0)
    group = choose_list(q, ranked, Vocabulary.empty(), anything)
    assert group is not None and [it[0].unit.text for it in group.items] == [
        c.unit.text for c in ranked[1:]]


def test_a_list_answer_with_room_shows_the_best_units_inside_its_items() -> None:
    """An item is shown by its first sentence; when a later sentence of it is among the
    question's best units ("what does the CFO care about?": the second best, after the
    item's first sentence) and the budget has room, the item shows it too."""
    from bot.compose.listing import list_lines

    text = ("The buying committee:\n"
            "- CFO: Primary financial decision-maker for every outsourcing contract the "
            "company signs. CFO concerns: total cost of ownership, year-one against "
            "steady-state savings, working capital and payback. CFOs often ask for savings "
            "of a fifth over three years before they approve an offshore contract.\n"
            "- CIO: Controls IT decisions.\n"
            "- CHRO: Key decision-maker for HR outsourcing.\n")
    chunk = Chunk(chunk_id="roles.txt::0::x", doc_id="roles.txt", title="Roles",
                  section="Who decides", kind="list", text=text, start=0, end=len(text),
                  ordinal=0)
    hit = Hit(chunk=chunk, score=1.0, dense=0.5, lexical=1.0, rank=0)
    units = units_of(chunk)
    concerns = next(u for u in units if u.text.startswith("CFO concerns"))
    ranked = sorted((Candidate(u, hit, (0.0,) * len(UNIT_FEATURES), 0.0,
                               0.8 if u is concerns else 0.9 if u.text.startswith("CFO: Primary")
                               else 0.3) for u in units), key=lambda c: -c.score)
    q = Question(asked="what does the CFO care about?", text="what does the CFO care about?",
                 query="what does the CFO care about?", shape="list")
    group = choose_list(q, ranked, Vocabulary.empty(),
                        ListModel((0.0,) * len(LIST_FEATURES), 0.0, 0.0))
    assert group is not None
    cfo = next(ln.text for ln in list_lines(group, q, ranked) if ln.text.startswith("CFO"))
    assert "Primary financial decision-maker" in cfo and "total cost of ownership" in cfo
